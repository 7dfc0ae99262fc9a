"""Tests of the benchmark harness (ctest 00.Bench.Harness*, label `bench`).

    test_harness.py unit                    the arithmetic and the report, no processes
    test_harness.py smoke <build-folder>    one short real scenario; the report must be well formed
    test_harness.py smoke-idle-memory <build-folder>
                                            bench/run idle-memory with 200 connections, one round

No timing is asserted anywhere: only shapes, arithmetic and that every number is present.
"""
import json
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import idle_memory  # noqa: E402


def run(messages, seconds=1.0, client=0.5, user=0.2, system=0.3, p99=50.0):
    return {"messages": messages, "seconds": seconds, "msgs_per_s": messages / seconds,
            "client_cpu_s": client, "server_user_s": user, "server_system_s": system,
            "latency_us": {"p50": 10.0, "p99": p99, "p999": 90.0, "max": 100.0}, "errors": 0}


class Arithmetic(unittest.TestCase):
    def test_summary_is_median_and_range(self):
        self.assertEqual(harness.summary([3.0, 1.0, 2.0]),
                         {"median": 2.0, "min": 1.0, "max": 3.0, "n": 3})
        self.assertEqual(harness.summary([1.0, 2.0, 3.0, 10.0])["median"], 2.5)
        self.assertIsNone(harness.summary([])["median"])

    def test_ratios_are_per_round(self):
        self.assertEqual(harness.pairwise_ratios([10.0, 20.0], [5.0, 40.0]), [2.0, 0.5])
        with self.assertRaises(ValueError):
            harness.pairwise_ratios([1.0], [1.0, 2.0])

    def test_alternation_swaps_who_goes_first(self):
        self.assertEqual(harness.alternation(3), [("A", "B"), ("B", "A"), ("A", "B")])

    def test_cpu_per_message(self):
        self.assertAlmostEqual(harness.cpu_per_message_us(run(1000, user=0.001, system=0.002)),
                               3.0)
        self.assertIsNone(harness.cpu_per_message_us(run(0)))

    def test_client_bound_needs_a_busy_client_and_a_spare_server(self):
        self.assertTrue(harness.is_client_bound(run(100, client=0.95, user=0.2, system=0.3)))
        self.assertFalse(harness.is_client_bound(run(100, client=0.95, user=0.5, system=0.45)))
        self.assertFalse(harness.is_client_bound(run(100, client=0.5)))

    def test_case_summary(self):
        runs = {"A": [run(900), run(1100), run(1000)], "B": [run(1000), run(1000), run(1000)]}
        for r in runs["A"] + runs["B"]:
            r["client_bound"] = harness.is_client_bound(r)
        case = harness.summarize_case({"mode": "raw", "size": 64, "connections": 1}, runs)
        self.assertEqual(case["A"]["msgs_per_s"]["median"], 1000.0)
        self.assertEqual(case["ratio"]["msgs_per_s"], {"median": 1.0, "min": 0.9, "max": 1.1,
                                                        "n": 3})
        self.assertEqual(case["label"], "raw 64 B x 1 conn")
        self.assertFalse(case["client_bound"])
        self.assertIsNone(case["loss"], "a stream loses nothing: no loss column")

    def test_datagram_loss_is_summarized_and_rendered(self):
        runs = {"A": [dict(run(990), lost=10), dict(run(1000), lost=0)],
                "B": [dict(run(1000), lost=0), dict(run(1000), lost=0)]}
        for r in runs["A"] + runs["B"]:
            r["client_bound"] = harness.is_client_bound(r)
        case = harness.summarize_case({"mode": "udp", "size": 64, "connections": 50}, runs)
        self.assertAlmostEqual(case["loss"]["A"]["median"], 0.005)
        self.assertEqual(case["loss"]["B"]["median"], 0.0)
        report = sample_report()
        report["scenarios"][0]["cases"] = [case]
        self.assertIn("lost 0.50% / 0.00%", harness.render_markdown(report))
        self.assertEqual(harness.case_label({"mode": "udp", "size": 64, "connections": 4,
                                             "pipeline": 0}), "udp 64 B x 4 conn flood")


WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:8080/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   505.43us   45.12us   2.50ms   90.12%
    Req/Sec    85.12k     3.21k   90.00k    80.00%
  Latency Distribution
     50%  498.00us
     75%  510.00us
     90%  530.00us
     99%    1.20ms
  85012 requests in 1.00s, 10.00MB read
Requests/sec:  84912.34
Transfer/sec:     10.00MB
"""


class Wrk(unittest.TestCase):
    def test_times(self):
        self.assertEqual(harness.wrk_time_us("812.00us"), 812.0)
        self.assertEqual(harness.wrk_time_us("1.5ms"), 1500.0)
        self.assertEqual(harness.wrk_time_us("2.00s"), 2e6)
        with self.assertRaises(ValueError):
            harness.wrk_time_us("fast")

    def test_parse(self):
        r = harness.parse_wrk(WRK_OUTPUT)
        self.assertEqual(r["messages"], 85012)
        self.assertEqual(r["seconds"], 1.0)
        self.assertEqual(r["msgs_per_s"], 84912.34)
        self.assertEqual(r["latency_us"], {"p50": 498.0, "p99": 1200.0, "p999": None,
                                           "max": 2500.0})
        self.assertEqual(r["errors"], 0)

    def test_errors_are_counted(self):
        text = WRK_OUTPUT.replace("Requests/sec", "  Socket errors: connect 0, read 2, write 0, "
                                  "timeout 1\n  Non-2xx or 3xx responses: 4\nRequests/sec")
        self.assertEqual(harness.parse_wrk(text)["errors"], 7)

    def test_output_without_counts_is_refused(self):
        with self.assertRaises(ValueError):
            harness.parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")


def sample_report():
    runs = {"A": [run(1000)], "B": [run(2000)]}
    for r in runs["A"] + runs["B"]:
        r["client_bound"] = False
    case = harness.summarize_case({"mode": "raw", "size": 64, "connections": 1}, runs)
    return {"schema": 1, "revision": "abc", "started": "2026-01-01T00:00:00Z",
            "machine": {"cores": 2, "model": "m", "kernel": "k"}, "cores": {"server": 0, "load": 1},
            "versions": {"nginx": "x"}, "method": {"rounds": 1, "warmup": 0.1, "duration": 0.2},
            "scenarios": [{"name": "echo", "description": "d", "a": "A", "b": "B", "goals": {},
                           "cases": [case]},
                          {"name": "later", "description": "d", "pending": "chapter 03"}],
            "callgrind": {"A": 600.0, "B": 300.0},
            "micro": [{"name": "avant-micro-net: BM_X", "real_time_ns": 5.0}]}


class Report(unittest.TestCase):
    def test_a_well_formed_report_validates_and_renders(self):
        report = sample_report()
        self.assertEqual(harness.validate_report(report), [])
        text = harness.render_markdown(report)
        self.assertIn("| raw 64 B x 1 conn | 1000 | 2000 | 0.50 (0.50–0.50) | 500.00 (40% user) | "
                      "250.00 (40% user) | 2.00 |", text)
        self.assertIn("Not measured: chapter 03.", text)
        self.assertIn("| A | 600 |", text)
        # The JSON survives a round trip unchanged.
        self.assertEqual(json.loads(json.dumps(report)), report)

    def test_worker_scaling_is_rendered_when_both_worker_scenarios_ran(self):
        report = sample_report()
        self.assertNotIn("## Scaling", harness.render_markdown(report))
        for name, msgs in (("echo-w1", 1000), ("echo-w2", 1500)):
            runs = {"A": [run(msgs)], "B": [run(2000)]}
            for r in runs["A"] + runs["B"]:
                r["client_bound"] = False
            case = harness.summarize_case({"mode": "raw", "size": 64, "connections": 50}, runs)
            report["scenarios"].append({"name": name, "description": "d", "a": name, "b": "B",
                                        "goals": {}, "cores": {"server": "0-1", "load": "0-1"},
                                        "cases": [case]})
        self.assertEqual(harness.validate_report(report), [])
        text = harness.render_markdown(report)
        self.assertIn("servers on 0-1, load generator on 0-1 (taskset)", text)
        self.assertIn("| raw 64 B x 50 conn | 1000 | 1500 | 1.50 | 0.50 | 0.75 | 1.50 |", text)

    def test_reports_merge_scenario_by_scenario(self):
        first = sample_report()
        later = sample_report()
        later["revision"] = "def"
        later["started"] = "2026-02-02T00:00:00Z"
        later["scenarios"][0]["name"] = "echo-w2"
        merged = harness.merge_reports([first, later])
        self.assertEqual([s["name"] for s in merged["scenarios"]], ["echo", "later", "echo-w2"])
        self.assertNotIn("measured_in", merged["scenarios"][0])
        self.assertEqual(merged["scenarios"][2]["measured_in"]["revision"], "def")
        self.assertEqual(harness.validate_report(merged), [])
        self.assertIn("Measured in another run: 2026-02-02T00:00:00Z, revision `def`",
                      harness.render_markdown(merged))

    def test_s_time_output_and_handshake_labels(self):
        output = ("Collecting connection statistics for 2 seconds\n****\n\n"
                  "1443 connections in 1.01s; 1428.71 connections/user sec, bytes read 0\n"
                  "1443 connections in 3 real seconds, 0 bytes read per connection\n")
        self.assertEqual(harness.parse_s_time(output), 1443)
        with self.assertRaises(ValueError):
            harness.parse_s_time("connect: Connection refused\n")
        self.assertEqual(harness.case_label({"mode": "handshake", "tls": "tls1_3", "size": 0,
                                             "connections": 1}), "full handshake TLS 1.3")

    def test_the_reference_may_be_driven_in_its_own_mode(self):
        build = Path("/nonexistent")
        ws = harness.scenarios(build)["ws-ceiling"]
        case = ws.cases[0]
        self.assertEqual(harness.case_for(case, "A")["mode"], "ws")
        self.assertEqual(harness.case_for(case, "A")["size"], 64)
        self.assertEqual(harness.case_for(case, "B")["mode"], "framed")
        self.assertEqual(harness.case_for(case, "B")["size"], 72)  # the 8-byte length + 64
        self.assertEqual(harness.case_label(case), "ws 64 B x 50 conn")
        self.assertEqual(harness.case_label(ws.cases[-1]), "ws 64 B x 50 conn pipelined 16")
        self.assertEqual(harness.GROUPS["ws"], ["ws-node", "ws-ceiling"])
        self.assertIn("node", harness.uses(harness.scenarios(build)["ws-node"]))

    def test_profile_names_are_shortened_and_overloads_summed(self):
        self.assertEqual(harness.short_function(
            "???:avant::http::Session::serialize_head(avant::http::detail::Exchange&, "
            "std::optional<unsigned long>)"), "avant::http::Session::serialize_head")
        self.assertEqual(harness.short_function("./malloc/./malloc/malloc.c:_int_free"),
                         "_int_free (malloc.c)")
        self.assertEqual(harness.short_function(
            "???:std::_Function_handler<void (int), X>::_M_invoke(std::_Any_data const&)"),
            "std::function call (a handler or a task)")
        total, lines = harness.profile_table([("???:f(int)", 30.0), ("???:f(long)", 10.0),
                                              ("???:g()", 60.0)], top=1)
        self.assertEqual(total, 100.0)
        self.assertEqual(lines[2], "| `g` | 60 | 60.0% |")
        self.assertEqual(lines[3], "| (the 1 others) | 40 | 40.0% |")

    def test_static_runs_against_tuned_and_untuned_nginx(self):
        build = Path("/nonexistent")
        self.assertEqual(harness.GROUPS["static"], ["static", "static-untuned"])
        conf = (harness.ROOT / "bench/nginx/nginx-static.conf.in").read_text()
        self.assertIn("open_file_cache max=1000", conf)
        self.assertNotIn("open_file_cache",
                         (harness.ROOT / "bench/nginx/nginx-static-untuned.conf.in").read_text()
                         .split("daemon off;")[1])
        self.assertEqual(harness.uses(harness.scenarios(build)["static-untuned"])[-1], "nginx")

    def test_problems_are_named(self):
        report = sample_report()
        del report["machine"]
        report["scenarios"][0]["cases"][0]["B"]["msgs_per_s"]["median"] = 0
        problems = harness.validate_report(report)
        self.assertIn("missing 'machine'", problems)
        self.assertTrue(any("B has no throughput" in p for p in problems), problems)


class IdleMemory(unittest.TestCase):
    def test_an_answer_is_complete_with_its_whole_body(self):
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
        self.assertFalse(idle_memory.answer_complete(head[:-2]))
        self.assertFalse(idle_memory.answer_complete(head + b"1234"))
        self.assertTrue(idle_memory.answer_complete(head + b"12345"))
        self.assertTrue(idle_memory.answer_complete(b"HTTP/1.1 204 No Content\r\n\r\n"))

    def test_the_report_names_both_servers_and_the_ratio(self):
        run = {"rss_before_kib": 100, "rss_after_kib": 110, "kib_per_connection": 1.0}
        side = {"runs": [run], "median": 1.0, "min": 1.0, "max": 1.0}
        report = {"started": "t", "revision": "r", "connections": 10, "rounds": 1,
                  "result": {"avant": side, "nginx": side,
                             "ratio": {"median": 1.0, "min": 1.0, "max": 1.0}}}
        text = idle_memory.render(report)
        self.assertIn("| avant | 1.00 |", text)
        self.assertIn("| nginx | 1.00 |", text)
        self.assertIn("median **1.00**", text)
        self.assertNotIn("reserves", text, "an old report has no second figure")

    def test_the_report_gives_the_figure_that_counts_what_a_server_reserves(self):
        def side(per, reserved):
            run = {"rss_before_kib": 100, "rss_after_kib": 110, "kib_per_connection": per,
                   "rss_base_small_kib": 90, "kib_per_connection_reserved": reserved}
            return {"runs": [run], "median": per, "min": per, "max": per,
                    "reserved_median": reserved}
        report = {"started": "t", "revision": "r", "connections": 10, "rounds": 1,
                  "result": {"avant": side(0.5, 0.5), "nginx": side(0.5, 0.9),
                             "ratio": {"median": 1.0, "min": 1.0, "max": 1.0},
                             "reserved_ratio_median": 0.5 / 0.9}}
        text = idle_memory.render(report)
        self.assertIn(f"configured for {idle_memory.SMALL} (median) |", text)
        self.assertIn("| avant | 0.50 | 0.50-0.50 | 100 -> 110 KiB | 0.50 |", text)
        self.assertIn("| nginx | 0.50 | 0.50-0.50 | 100 -> 110 KiB | 0.90 |", text)
        self.assertIn("avant / nginx median 0.56", text)


def smoke_idle_memory(build: str) -> int:
    with tempfile.TemporaryDirectory() as out:
        code = idle_memory.main(["--build", build, "--out", out, "--connections", "200",
                                 "--rounds", "1"])
        reports = list(Path(out).glob("*-idle-memory.json"))
        if code != 0 or len(reports) != 1:
            print(f"FAIL: idle-memory exited {code} with {len(reports)} report(s)")
            return 1
        result = json.loads(reports[0].read_text())["result"]
        for label in ("avant", "nginx"):
            run = result[label]["runs"][0]
            if not (run["rss_before_kib"] > 0 and run["rss_after_kib"] > 0
                    and run["rss_base_small_kib"] > 0):
                print(f"FAIL: no RSS for {label}: {run}")
                return 1
    print("ok: a 1-round idle-memory run measured both servers")
    return 0


def smoke(build: str) -> int:
    with tempfile.TemporaryDirectory() as out:
        code = harness.main(["echo", "--build", build, "--out", out, "--rounds", "1",
                             "--warmup", "0.2", "--duration", "1.0", "--quick",
                             "--case", "raw 64 B x 1 conn", "--no-micro"])
        reports = list(Path(out).glob("*.json"))
        if code != 0 or len(reports) != 1:
            print(f"FAIL: harness exited {code} with {len(reports)} report(s)")
            return 1
        report = json.loads(reports[0].read_text())
        problems = harness.validate_report(report)
        if problems:
            print("FAIL: report not well formed:", problems)
            return 1
        if not list(Path(out).glob("*.md")):
            print("FAIL: no markdown report")
            return 1
        if not all(v > 0 for v in report.get("callgrind", {}).values()) or not report.get(
                "callgrind"):
            print("FAIL: no callgrind instruction counts")
            return 1
    print("ok: a 1-round echo scenario produced a well-formed report")
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "smoke":
        sys.exit(smoke(sys.argv[2]))
    if len(sys.argv) >= 2 and sys.argv[1] == "smoke-idle-memory":
        sys.exit(smoke_idle_memory(sys.argv[2]))
    if len(sys.argv) >= 2 and sys.argv[1] == "unit":
        sys.argv = sys.argv[:1]
    unittest.main(verbosity=2)
