// ws.js — the WebSocket page's script (examples/www/ws.html): no library, no build step. An ES
// module (modules are strict), for the protobuf mode's import.
//
// Connects to the server the page came from (wss:// when the page came over https://), or to the
// ws:// or wss:// URL given as ?ws=..., sends what is typed, and lists each echo with its
// round-trip time. The server echoes in order, so the send times wait in a queue and each echo
// takes the oldest. A lost connection is retried with exponential backoff (0.5 s doubling up to
// 10 s, with jitter), reset by a successful open. In protobuf mode (the checkbox) each message is
// sent as the echo example's ProtoPackage, one binary message (avant-proto.js), and each binary
// message received is decoded as a package: avant's WEBSOCKET_TASK answers with command 1, the
// site's /ws echoes the request's command 0 back.
import { COMMAND_NAMES, decodeEchoAnswer, encodeEchoRequest } from "./avant-proto.js";

(() => {
  const PATH = "/ws";
  const statusEl = document.getElementById("status");
  const endpointEl = document.getElementById("endpoint");
  const form = document.getElementById("send");
  const input = document.getElementById("text");
  const button = document.getElementById("go");
  const log = document.getElementById("log");
  const protobuf = document.getElementById("proto");

  // Another server's WebSocket (avant with WEBSOCKET_TASK serves no pages): only ws:// and wss://.
  const given = new URLSearchParams(location.search).get("ws");
  const url = given && /^wss?:\/\/[^/]/.test(given) ? given
    : (location.protocol === "https:" ? "wss://" : "ws://") + location.host + PATH;
  endpointEl.textContent = "(" + url + ")";

  let socket = null;
  let delay = 500;
  let sent = [];  // performance.now() of each message not yet echoed, oldest first

  function setStatus(state, text) {
    statusEl.dataset.state = state;
    statusEl.textContent = text;
    button.disabled = state !== "open";
  }

  function add(text, rtt, detail) {
    const item = document.createElement("li");
    item.className = detail === undefined ? "echo" : "echo package";
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    item.append(body);
    if (detail !== undefined) {
      const what = document.createElement("span");
      what.className = "cmd";
      what.textContent = " — " + detail;
      item.append(what);
    }
    const time = document.createElement("span");
    time.className = "rtt";
    time.textContent = " — " + rtt.toFixed(1) + " ms";
    item.append(time);
    log.prepend(item);
  }

  // A binary message in protobuf mode: the package's command and its testContext as text.
  function addPackage(data, rtt) {
    try {
      const { cmd, testContext } = decodeEchoAnswer(new Uint8Array(data));
      const name = COMMAND_NAMES[cmd] ?? "an unknown command";
      add(new TextDecoder().decode(testContext), rtt,
          "cmd " + cmd + " (" + name + "), " + data.byteLength + " bytes");
    } catch (error) {
      add("(binary)", rtt, "not a ProtoPackage: " + error.message);
    }
  }

  function note(text) {
    const item = document.createElement("li");
    item.className = "event";
    item.textContent = text;
    log.prepend(item);
  }

  function connect() {
    setStatus("connecting", "connecting");
    socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      delay = 500;
      sent = [];
      setStatus("open", "connected");
      note("connected to " + url);
    });
    socket.addEventListener("message", (event) => {
      const started = sent.shift();
      const rtt = started === undefined ? 0 : performance.now() - started;
      if (typeof event.data === "string") {
        add(event.data, rtt);
      } else if (protobuf.checked) {
        addPackage(event.data, rtt);
      } else {
        add("(binary)", rtt);
      }
    });
    socket.addEventListener("close", (event) => {
      if (opened) {
        // Attempts that never connected (while the server is away) are not logged one by one.
        note("closed: " + event.code + (event.reason ? " (" + event.reason + ")" : ""));
      }
      const wait = Math.min(delay, 10000) * (0.75 + Math.random() / 2);
      delay = Math.min(delay * 2, 10000);
      setStatus("closed", "closed (" + event.code + "), retrying in " +
                (wait / 1000).toFixed(1) + " s");
      setTimeout(connect, wait);
    });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!socket || socket.readyState !== WebSocket.OPEN || input.value === "") return;
    sent.push(performance.now());
    socket.send(protobuf.checked ? encodeEchoRequest(input.value) : input.value);
    input.value = "";
    input.focus();
  });

  connect();
})();
