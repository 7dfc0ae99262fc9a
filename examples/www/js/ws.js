// ws.js — the WebSocket page's script (examples/www/ws.html): no library, no build step.
//
// Connects to the server the page came from (wss:// when the page came over https://), sends
// what is typed, and lists each echo with its round-trip time. The server echoes in order, so the
// send times wait in a queue and each echo takes the oldest. A lost connection is retried with
// exponential backoff (0.5 s doubling up to 10 s, with jitter), reset by a successful open.
"use strict";

(() => {
  const PATH = "/ws";
  const statusEl = document.getElementById("status");
  const endpointEl = document.getElementById("endpoint");
  const form = document.getElementById("send");
  const input = document.getElementById("text");
  const button = document.getElementById("go");
  const log = document.getElementById("log");

  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + PATH;
  endpointEl.textContent = "(" + url + ")";

  let socket = null;
  let delay = 500;
  let sent = [];  // performance.now() of each message not yet echoed, oldest first

  function setStatus(state, text) {
    statusEl.dataset.state = state;
    statusEl.textContent = text;
    button.disabled = state !== "open";
  }

  function add(text, rtt) {
    const item = document.createElement("li");
    item.className = "echo";
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    const time = document.createElement("span");
    time.className = "rtt";
    time.textContent = " — " + rtt.toFixed(1) + " ms";
    item.append(body, time);
    log.prepend(item);
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
      add(typeof event.data === "string" ? event.data : "(binary)", rtt);
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
    socket.send(input.value);
    input.value = "";
    input.focus();
  });

  connect();
})();
