// avant_process.mjs — the assembled `avant` started by a Node.js end-to-end script (as
// avant_process.py does for the Python ones): its banner read, its standard error kept.
//
//   import { startAvant, fail, check, within } from "../support/avant_process.mjs";
//   const avant = await startAvant(binary, config, BANNER, ["server.task_type=STREAM_TASK"]);
//   ... avant.port, avant.match (the banner's match), avant.stderr (what it wrote so far) ...
//   const udp = await avant.udpPort();  // the UDP listener's port, from its line on stdout
//   const code = await avant.stop();   // SIGTERM, then its exit status
//
// The ports are moved to ephemeral ones by avant_ports.mjs (server.port, server.https_port,
// server.other_udp_svr_port, ipc.listen_port and every [listener.NAME]'s port, with an example
// certificate when a
// listener uses TLS), before the caller's own --set values, which may override them;
// exampleCertificate() gives a caller one for its own TLS servers. The banner is avant's first line
// on standard output; `banner` must match it, and its group `portGroup` is the port; avant.lines
// keeps every line of standard output, and avant.linePort(pattern, what) waits for the first one
// `pattern` matches (its group 1 is the port), as line_port() does in avant_process.py. fail()
// prints the standard error of every avant started here and exits 1, so a failing script shows why
// the server did what it did. Every wait has a deadline.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { movedPorts } from "./avant_ports.mjs";

export const DEADLINE = 15000;
const started = [];
const SOURCE = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

// An example certificate and key for this process, made once; removed when the process exits.
let certificate = null;
export function exampleCertificate() {
  if (!certificate) {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "avant-cert-"));
    process.once("exit", () => fs.rmSync(folder, { recursive: true, force: true }));
    const made = spawnSync(path.join(SOURCE, "scripts", "example-cert.sh"), [folder],
      { encoding: "utf8", timeout: DEADLINE });
    if (made.status !== 0) fail(`example-cert.sh: ${made.stderr}`);
    certificate = { cert: path.join(folder, "example-cert.pem"),
      key: path.join(folder, "example-key.pem") };
  }
  return certificate;
}

export function fail(message) {
  console.log(`FAIL: ${message}`);
  for (const a of started) {
    console.log(`--- standard error of ${a.argv.join(" ")} ---`);
    console.log(a.stderr.trim() || "(empty)");
  }
  for (const a of started) a.process.kill("SIGKILL");
  process.exit(1);
}

export function check(condition, message) {
  if (!condition) fail(message);
}

// `promise`, or a rejection naming `what` once `ms` have passed without it settling.
export function within(promise, what, ms = DEADLINE) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

export function startAvant(binary, config, banner, sets = [], { portGroup = 2 } = {}) {
  const argv = [binary, "-c", config];
  for (const s of [...movedPorts(config), ...sets]) argv.push("--set", s);
  const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  const avant = { argv, process: child, stderr: "", stopping: false, lines: [] };
  const lineWaiters = new Set();  // each called with every new line of standard output
  started.push(avant);
  child.stderr.on("data", (chunk) => { avant.stderr += chunk; });
  child.once("exit", (code, signal) => {
    avant.exit = code ?? signal;
    if (!avant.stopping) fail(`avant exited early with status ${code ?? signal}`);
  });
  avant.stop = () => {
    avant.stopping = true;
    if (avant.exit !== undefined) return Promise.resolve(avant.exit);
    const exited = new Promise((resolve) => child.once("exit", (code, signal) =>
      resolve(code ?? signal)));
    child.kill("SIGTERM");
    return within(exited, "avant's exit after SIGTERM");
  };
  avant.linePort = (pattern, what, ms = DEADLINE) => {
    let look;
    const found = new Promise((resolve) => {
      look = (line) => {
        const m = pattern.exec(line);
        if (m) resolve(Number(m[1]));
      };
      avant.lines.forEach(look);
      lineWaiters.add(look);
    });
    return within(found, `avant's line for ${what}`, ms).finally(() => lineWaiters.delete(look));
  };
  avant.udpPort = (ms = DEADLINE) =>
    avant.linePort(/^avant: UDP: .* on udp:\/\/[0-9.]+:(\d+)\/$/, "UDP", ms);
  const ready = new Promise((resolve) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.once("line", (line) => {
      avant.banner = line;
      avant.match = banner.exec(line);
      check(avant.match !== null, `unexpected banner ${JSON.stringify(line)}`);
      avant.port = Number(avant.match[portGroup]);
      resolve(avant);
    });
    // Every line kept (the banner too), and read on: the pipe must not fill.
    lines.on("line", (line) => {
      avant.lines.push(line);
      for (const look of lineWaiters) look(line);
    });
  });
  return within(ready, "avant's banner");
}
