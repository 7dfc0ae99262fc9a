// browser_proto_page.mjs — the example site's WebSocket page (examples/www/ws.html) in protobuf
// mode, in headless Chromium.
//
//   node browser_proto_page.mjs <avant binary> <source folder> <artefact folder>
//
// Debian's Chromium driven by playwright-core (npm, project-local; it downloads no browser), as in
// chapter 06's test of the same page. Two servers: `avant -c examples/main.ini` serves the page,
// and an avant with WEBSOCKET_TASK (which serves no pages) dispatches ProtoPackages; the page is
// loaded with ?ws=<the second's URL>. Checked: the page's hand-written encoder
// (examples/www/js/avant-proto.js) gives the bytes protobufjs gives for the echo example's request
// (empty, 8 bytes, a NUL and all 256 byte values, lengths of one, two and three varint bytes, a
// negative command), and its decoder reads protobufjs's answers, skips unknown fields and refuses
// truncated input; with the protobuf box checked, what is typed goes out as one binary message
// that is the original's request byte for byte, and the answer (command 1, 14 bytes for
// `aaaaaaaa`) is shown decoded; unchecked, text is echoed as text; against the site's own /ws
// (an echo) the page shows its request's command 0 coming back. A screenshot goes to the artefact
// folder (ws-proto-page.png). Every wait has a deadline.
import fs from "node:fs";
import path from "node:path";
import protobuf from "protobufjs";
import { chromium } from "playwright-core";
import { check, DEADLINE, fail, startAvant } from "../support/avant_process.mjs";

const [binary, source, artefacts] = process.argv.slice(2);
if (!binary || !source || !artefacts) {
  console.log("usage: node browser_proto_page.mjs <avant binary> <source folder> " +
    "<artefact folder>");
  process.exit(2);
}
const config = path.join(source, "examples", "main.ini");
const SITE = /^avant: serving .* on (http):\/\/127\.0\.0\.1:(\d+)\//;
const WEBSOCKET = new RegExp(String.raw`^avant: serving WebSocket \(ProtoPackages: the echo ` +
  String.raw`example\) on (ws)://127\.0\.0\.1:(\d+)/`);

const hex = (bytes) => Buffer.from(bytes).toString("hex");

// The page's module, run in the page, against protobufjs (the reference) run here.
async function moduleChecks(page) {
  const root = await new protobuf.Root().load(path.join(source, "proto", "avant.proto"),
    { keepCase: true });
  const Package = root.lookupType("avant.ProtoPackage");
  const Req = root.lookupType("avant.ProtoCSReqExample");
  const Res = root.lookupType("avant.ProtoCSResExample");
  const contexts = [Buffer.alloc(0), Buffer.from("aaaaaaaa"),
    Buffer.concat([Buffer.from("nul\0here|"), Buffer.from([...Array(256).keys()])]),
    Buffer.alloc(127, 1), Buffer.alloc(128, 2), Buffer.alloc(16384, 3)];
  const requests = contexts.map((c) => hex(Package.encode({ cmd: 0,
    protocol: Req.encode({ testContext: c }).finish() }).finish()));
  const answers = contexts.map((c) => hex(Package.encode({ cmd: 1,
    protocol: Res.encode({ testContext: c }).finish() }).finish()));
  const negative = hex(Package.encode({ cmd: -1 }).finish());

  const got = await page.evaluate(async ({ contexts, answers }) => {
    const m = await import("/js/avant-proto.js");
    const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    const fromHex = (h) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
    const decoded = answers.map((a) => {
      const { cmd, testContext } = m.decodeEchoAnswer(fromHex(a));
      return { cmd, testContext: toHex(testContext) };
    });
    // Field 3 as a varint and field 4 as a fixed64 before the answer's fields: skipped.
    const unknown = m.decodeEchoAnswer(fromHex("1805" + "210102030405060708" + answers[1]));
    let truncated = null;
    try {
      m.decodeEchoAnswer(fromHex(answers[2]).subarray(0, 20));
    } catch (error) {
      truncated = error.message;
    }
    return {
      requests: contexts.map((c) => toHex(m.encodeEchoRequest(fromHex(c)))),
      text: toHex(m.encodeEchoRequest("aaaaaaaa")),
      decoded,
      unknown: { cmd: unknown.cmd, testContext: toHex(unknown.testContext) },
      truncated,
      negative: toHex(m.encodePackage({ cmd: -1 })),
      negativeBack: m.decodePackage(m.encodePackage({ cmd: -1 })).cmd,
    };
  }, { contexts: contexts.map(hex), answers });

  got.requests.forEach((r, i) => check(r === requests[i],
    `the page encodes a testContext of ${contexts[i].length} bytes as ${r.slice(0, 80)}, ` +
    `protobufjs as ${requests[i].slice(0, 80)}`));
  check(got.text === requests[1], `a string is encoded as ${got.text}`);
  got.decoded.forEach((d, i) => check(d.cmd === 1 && d.testContext === hex(contexts[i]),
    `the page decodes protobufjs's answer of ${contexts[i].length} bytes as cmd ${d.cmd}, ` +
    `${d.testContext.slice(0, 80)}`));
  check(got.unknown.cmd === 1 && got.unknown.testContext === hex(contexts[1]),
    `unknown fields were not skipped: ${JSON.stringify(got.unknown)}`);
  check(got.truncated !== null, "a truncated package was decoded");
  check(got.negative === negative && got.negativeBack === -1,
    `cmd -1 is ${got.negative} (protobufjs: ${negative}), read back as ${got.negativeBack}`);
}

async function sendAndSee(page, text) {
  await page.fill("#text", text);
  await page.click("#go");
  const item = page.locator("#log li.echo").filter({ hasText: text }).first();
  await item.waitFor({ timeout: DEADLINE });
  return item;
}

async function main() {
  fs.mkdirSync(artefacts, { recursive: true });
  const site = await startAvant(binary, config, SITE);
  const ws = await startAvant(binary, config, WEBSOCKET, ["server.task_type=WEBSOCKET_TASK"]);
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    // As root (CI, the devcontainer) Chromium's sandbox can not start.
    args: ["--no-sandbox"],
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(DEADLINE);
    // What the page really sends and receives, as the browser's devtools see it.
    const sent = [];
    const received = [];
    page.on("websocket", (socket) => {
      socket.on("framesent", (f) => sent.push(f.payload));
      socket.on("framereceived", (f) => received.push(f.payload));
    });

    const wsUrl = `ws://127.0.0.1:${ws.port}/`;
    await page.goto(`http://127.0.0.1:${site.port}/ws.html?ws=${encodeURIComponent(wsUrl)}`);
    await page.waitForSelector('#status[data-state="open"]');
    const endpoint = await page.textContent("#endpoint");
    check(endpoint === `(${wsUrl})`, `the page connects to ${endpoint}`);
    await moduleChecks(page);

    await page.check("#proto");
    const item = await sendAndSee(page, "aaaaaaaa");
    const detail = await item.locator(".cmd").textContent();
    check(detail === " — cmd 1 (PROTO_CMD_CS_RES_EXAMPLE), 14 bytes",
      `the answer to aaaaaaaa is shown as ${JSON.stringify(detail)}`);
    // docs/original-avant.md, "The echo example, byte by byte": the request's package (20 bytes
    // on a stream, less its 8-byte length) and the answer's 14.
    const request = sent.find((p) => Buffer.isBuffer(p));
    check(request && hex(request) === "120a0a086161616161616161",
      `the page sent ${request ? hex(request) : "no binary message"}`);
    const answer = received.find((p) => Buffer.isBuffer(p));
    check(answer && hex(answer) === "0801120a0a086161616161616161",
      `the page received ${answer ? hex(answer) : "no binary message"}`);

    for (const text of ["ünïcødé ✓", "hello protobuf"]) {
      const shown = await sendAndSee(page, text);
      check((await shown.locator(".text").textContent()) === text &&
        /cmd 1 \(PROTO_CMD_CS_RES_EXAMPLE\)/.test(await shown.locator(".cmd").textContent()),
      `the answer to ${text} is shown as ${await shown.textContent()}`);
    }
    await page.screenshot({ path: path.join(artefacts, "ws-proto-page.png"), fullPage: true });

    // Unchecked: text, which WEBSOCKET_TASK echoes as text.
    await page.uncheck("#proto");
    const plain = await sendAndSee(page, "plain text");
    check((await plain.locator(".cmd").count()) === 0 && typeof sent.at(-1) === "string",
      `text mode sent ${JSON.stringify(sent.at(-1))}`);

    // The site's own /ws echoes every message: the request comes back, command 0.
    await page.goto(`http://127.0.0.1:${site.port}/ws.html`);
    await page.waitForSelector('#status[data-state="open"]');
    await page.check("#proto");
    const echoed = await sendAndSee(page, "echoed by the site");
    const shown = await echoed.locator(".cmd").textContent();
    check(/^ — cmd 0 \(PROTO_CMD_CS_REQ_EXAMPLE\)/.test(shown),
      `the site's echo is shown as ${await echoed.textContent()}`);
  } finally {
    await browser.close();
  }
  for (const server of [site, ws]) {
    const code = await server.stop();
    check(code === 0, `avant exited with status ${code} after SIGTERM`);
  }
  console.log("ok: the page's protobuf mode in Chromium, byte for byte; screenshot in " +
    artefacts);
}

const watchdog = setTimeout(() => fail("the whole test took longer than 100 s"), 100000);
main().then(() => clearTimeout(watchdog), (error) => fail(error.stack ?? String(error)));
