// avant_ports.mjs — the --set values that move every port of an avant config to an ephemeral one
// (as avant_process.py does for the Python scripts), for the Node.js end-to-end scripts.
//
//   import { movedPorts } from "../support/avant_ports.mjs";
//   spawn(binary, ["-c", config, ...movedPorts(config).flatMap((s) => ["--set", s]), ...]);
//
// server.port, server.https_port, server.other_udp_svr_port, ipc.listen_port and each
// [listener.NAME]'s port
// become 0. When a listener uses
// TLS, an example certificate made once per process by scripts/example-cert.sh is named too (a
// caller's later server.crt.pem and server.key.pem replace it).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

let certificate = null;

export function movedPorts(config) {
  const text = fs.readFileSync(config, "utf8");
  const listeners = [...text.matchAll(/^\s*\[listener\.([A-Za-z0-9_-]+)\]/gm)].map((m) => m[1]);
  const sets = ["server.port=0", "server.https_port=0", "server.other_udp_svr_port=0",
    "ipc.listen_port=0",
    ...listeners.map((name) => `listener.${name}.port=0`)];
  if (listeners.length > 0 && /^\s*use_ssl\s*=\s*1/m.test(text)) {
    if (certificate === null) {
      const folder = fs.mkdtempSync(path.join(os.tmpdir(), "avant-cert-"));
      process.once("exit", () => fs.rmSync(folder, { recursive: true, force: true }));
      const script = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..",
        "scripts", "example-cert.sh");
      const made = spawnSync(script, [folder], { encoding: "utf8", timeout: 15000 });
      if (made.status !== 0) throw new Error(`example-cert.sh: ${made.stderr}`);
      certificate = [`server.crt.pem=${path.join(folder, "example-cert.pem")}`,
        `server.key.pem=${path.join(folder, "example-key.pem")}`];
    }
    sets.push(...certificate);
  }
  return sets;
}
