// placeholder.js: the test page of package web. It shows who is signed in
// and lists the /ws events as text. The real consoles are in web/ui.
"use strict";
(async () => {
  const $ = (id) => document.getElementById(id);
  try {
    const res = await fetch("/api/me", { credentials: "same-origin" });
    if (!res.ok) {
      $("who").textContent = "not signed in (HTTP " + res.status + ")";
      return;
    }
    const me = await res.json();
    $("who").textContent = me.name + " (" + me.role + ")";
  } catch (e) {
    $("who").textContent = String(e);
    return;
  }
  let last = 0;
  const open = () => {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    ws.onopen = () => ws.send(JSON.stringify({ type: "hello", after: last }));
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.type === "ready") $("conn").textContent = "live · seq " + msg.seq;
      if (msg.type !== "event") return;
      last = msg.seq;
      const li = document.createElement("li");
      const ev = msg.event || {};
      li.textContent = "#" + msg.seq + " " + ev.kind + " " + (ev.incident || "") + " " + (ev.unit || "") + " " + (ev.town || "");
      $("events").prepend(li);
    };
    ws.onclose = (c) => {
      $("conn").textContent = "closed (" + c.code + " " + c.reason + "), reconnecting";
      setTimeout(open, 1000);
    };
  };
  open();
})();
