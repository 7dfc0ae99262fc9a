// browser_page.mjs — the example site's WebSocket page (examples/www/ws.html) in headless Chromium.
//
//   node browser_page.mjs <avant binary> <source folder> <artefact folder>
//
// Debian's Chromium (/usr/bin/chromium) is driven by playwright-core from npm (project-local,
// pinned by package-lock.json; it downloads no browser). `avant -c examples/main.ini` serves the
// site on a free port; the page connects to ws://<its host>/ws, sends what is typed, and lists
// each echo with its round-trip time. Checked: the page connects; five messages come back in
// order, each with a time; after the server is stopped the page logs its close (1001, "server
// stopping") and, once a new server
// is up on the same port, reconnects by itself and echoes again; over https:// (a certificate
// made by scripts/example-cert.sh) the page uses wss://. A screenshot of each page goes to the
// artefact folder (ws-page.png, wss-page.png). Every wait has a deadline.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { chromium } from "playwright-core";
import { movedPorts } from "../support/avant_ports.mjs";

const DEADLINE = 15000;
const [binary, source, artefacts] = process.argv.slice(2);
if (!binary || !source || !artefacts) {
  console.log("usage: node browser_page.mjs <avant binary> <source folder> <artefact folder>");
  process.exit(2);
}
const config = path.join(source, "examples", "main.ini");
const servers = [];

function fail(message) {
  console.log(`FAIL: ${message}`);
  for (const s of servers) {
    console.log(`--- standard error of ${s.argv.join(" ")} ---`);
    console.log(s.stderr.trim() || "(empty)");
  }
  for (const s of servers) s.process.kill("SIGKILL");
  process.exit(1);
}

function check(condition, message) {
  if (!condition) fail(message);
}

// A port nobody listens on now (the server is started on it twice).
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

// Starts avant and resolves once its banner names the port.
function startAvant(port, sets = []) {
  // Every other port of the config moved to an ephemeral one, then the page's own port.
  const argv = [binary, "-c", config, ...movedPorts(config).flatMap((s) => ["--set", s]),
    "--set", `server.port=${port}`, ...sets.flatMap((s) => ["--set", s])];
  const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  const server = { argv, process: child, stderr: "" };
  servers.push(server);
  child.stderr.on("data", (chunk) => { server.stderr += chunk; });
  return new Promise((resolve) => {
    const timer = setTimeout(() => fail("no banner from avant"), DEADLINE);
    const lines = readline.createInterface({ input: child.stdout });
    lines.once("line", (line) => {
      clearTimeout(timer);
      check(/^avant: serving .* on https?:\/\/127\.0\.0\.1:\d+\//.test(line),
        `unexpected banner ${JSON.stringify(line)}`);
      lines.on("line", () => {});  // keep reading: the pipe must not fill
      resolve(server);
    });
    child.once("exit", (code) => {
      if (!server.stopping) fail(`avant exited early with status ${code}`);
    });
  });
}

function stopAvant(server) {
  server.stopping = true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => fail("avant did not stop within the deadline"), DEADLINE);
    server.process.once("exit", (code) => {
      clearTimeout(timer);
      check(code === 0, `avant exited with status ${code} after SIGTERM`);
      resolve();
    });
    server.process.kill("SIGTERM");
  });
}

async function sendAndSee(page, text) {
  await page.fill("#text", text);
  await page.click("#go");
  const item = page.locator("#log li.echo").filter({ hasText: text }).first();
  await item.waitFor({ timeout: DEADLINE });
  const rtt = await item.locator(".rtt").textContent();
  check(/ms$/.test(rtt ?? "") && Number.parseFloat((rtt ?? "").replace(/[^\d.]/g, "")) >= 0,
    `the echo of ${text} shows no round-trip time: ${rtt}`);
}

async function main() {
  fs.mkdirSync(artefacts, { recursive: true });
  const port = await freePort();
  let avant = await startAvant(port);
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    // As root (CI, the devcontainer) Chromium's sandbox can not start.
    args: ["--no-sandbox"],
  });
  try {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    page.setDefaultTimeout(DEADLINE);
    await page.goto(`http://127.0.0.1:${port}/ws.html`);
    await page.waitForSelector('#status[data-state="open"]');
    const endpoint = await page.textContent("#endpoint");
    check(endpoint === `(ws://127.0.0.1:${port}/ws)`, `the page connects to ${endpoint}`);

    const messages = ["hello from chromium", "ünïcødé ✓", "three", "four", "five"];
    for (const m of messages) await sendAndSee(page, m);
    const shown = await page.locator("#log li.echo .text").allTextContents();
    check(JSON.stringify(shown) === JSON.stringify([...messages].reverse()),
      `the log shows ${JSON.stringify(shown)}`);
    await page.screenshot({ path: path.join(artefacts, "ws-page.png"), fullPage: true });

    // The server goes away: the page says so, and comes back by itself to a new one.
    await stopAvant(avant);
    await page.waitForSelector('#status[data-state="closed"]');
    const events = await page.locator("#log li.event").allTextContents();
    check(events.includes("closed: 1001 (server stopping)"),
      `after the stop the page's log says ${JSON.stringify(events)}`);
    avant = await startAvant(port);
    await page.waitForSelector('#status[data-state="open"]', { timeout: 2 * DEADLINE });
    await sendAndSee(page, "after the reconnect");
    await stopAvant(avant);

    // Over https:// the same page uses wss://.
    const tls = fs.mkdtempSync(path.join(os.tmpdir(), "avant-page-tls-"));
    const made = spawnSync(path.join(source, "scripts", "example-cert.sh"), [tls],
      { encoding: "utf8", timeout: DEADLINE });
    check(made.status === 0, `example-cert.sh: ${made.stderr}`);
    const securePort = await freePort();
    avant = await startAvant(securePort, ["server.use_ssl=1",
      `server.crt.pem=${path.join(tls, "example-cert.pem")}`,
      `server.key.pem=${path.join(tls, "example-key.pem")}`]);
    await page.goto(`https://localhost:${securePort}/ws.html`);
    await page.waitForSelector('#status[data-state="open"]');
    const secure = await page.textContent("#endpoint");
    check(secure === `(wss://localhost:${securePort}/ws)`, `over https the page connects to ${secure}`);
    await sendAndSee(page, "over wss");
    await page.screenshot({ path: path.join(artefacts, "wss-page.png"), fullPage: true });
    await stopAvant(avant);
    fs.rmSync(tls, { recursive: true, force: true });
  } finally {
    await browser.close();
  }
  console.log(`ok: the page in Chromium over ws and wss, with a reconnect; screenshots in ${artefacts}`);
}

const watchdog = setTimeout(() => fail("the whole test took longer than 100 s"), 100000);
main().then(() => clearTimeout(watchdog), (error) => fail(error.stack ?? String(error)));
