// conn.js: the websocket to /ws with resume by sequence number.
//
// Scheme (no gap, no duplicate):
//  1. open /ws, send {"type":"hello","after":0} ("from now") and wait for
//     {"type":"ready","seq":N}; events arriving meanwhile are buffered;
//  2. load the REST snapshot (incidents, units, depots): it reflects at
//     least every event up to N;
//  3. apply the snapshot, then the buffered events: records carry versions,
//     so an event the snapshot already contains changes nothing;
//  4. on any drop (close code 4008 "slow consumer", network, a gap detected
//     by prev != last seq) reconnect with back-off and hello after = the
//     last seq applied: the server replays everything after it;
//  5. close code 4001 (token revoked or expired) signs the console out: no
//     reconnection ("signed_out" state).

import { Sequencer } from "./model.js";

/**
 * Connection keeps one websocket open and calls onEvent(ev, seq) for each
 * new event exactly once, in order. onState({state, seq, attempt}) reports
 * "connecting", "connected", "resumed", "reconnecting", "signed_out" (with reason).
 */
export class Connection {
  /**
   * @param {{url?: string, onEvent: Function, onState: Function, onSnapshot: Function, onResult?: Function}} opts
   * onSnapshot() is awaited once after the first ready, before buffered events are delivered.
   */
  constructor(opts) {
    this.opts = opts;
    this.url = opts.url || (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
    this.seq = new Sequencer(0);
    this.synced = false; // snapshot loaded
    this.buffer = [];
    this.attempt = 0;
    this.ws = null;
    this.closed = false;
    this.timer = 0;
    this.nextId = 1;
    this.pending = new Map();
  }

  /** start opens the first connection. */
  start() {
    this.open();
  }

  /** stop closes the connection for good. */
  stop() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000, "bye");
  }

  /** lastSeq is the last event seq applied. */
  get lastSeq() {
    return this.seq.last;
  }

  open() {
    if (this.closed) return;
    const resume = this.synced;
    this.opts.onState({ state: this.attempt ? "reconnecting" : "connecting", seq: this.seq.last, attempt: this.attempt });
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (e) {
      this.retry();
      return;
    }
    this.ws = ws;
    this.seq.reset();
    if (!resume) this.buffer = [];
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "hello", after: resume ? this.seq.last : 0 }));
    };
    ws.onmessage = (m) => this.message(ws, m, resume);
    ws.onclose = (c) => {
      if (this.ws !== ws) return;
      this.ws = null;
      for (const [, p] of this.pending) p.reject(new Error("connection closed"));
      this.pending.clear();
      if (this.closed) return;
      // 4001: the token was revoked or expired: signed out, no reconnection
      if (c.code === 4001) {
        this.closed = true;
        this.opts.onState({ state: "signed_out", seq: this.seq.last, attempt: 0, reason: c.reason });
        return;
      }
      // 4008: slow consumer; resume at once, then back off on repeated failures
      this.retry(c.code === 4008 ? 100 : 0);
    };
    ws.onerror = () => {};
  }

  retry(first) {
    this.attempt++;
    const base = first || Math.min(10000, 500 * 2 ** Math.min(this.attempt - 1, 5));
    const delay = base + Math.floor(Math.random() * 250);
    this.opts.onState({ state: "reconnecting", seq: this.seq.last, attempt: this.attempt });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.open(), delay);
  }

  async message(ws, m, resume) {
    if (ws !== this.ws) return; // a late message of a connection already replaced
    let msg;
    try {
      msg = JSON.parse(m.data);
    } catch {
      return;
    }
    if (msg.type === "event") {
      if (!this.synced) {
        this.buffer.push(msg);
        return;
      }
      this.deliver(ws, msg);
    } else if (msg.type === "ready") {
      this.attempt = 0;
      if (!this.synced) {
        if (Number(msg.seq) > this.seq.last) this.seq.last = Number(msg.seq);
        try {
          await this.opts.onSnapshot();
        } catch (e) {
          ws.close(4000, "snapshot failed");
          return;
        }
        if (ws !== this.ws) return; // dropped meanwhile: the next connection loads its own snapshot
        this.synced = true;
        const buf = this.buffer;
        this.buffer = [];
        // buffered events follow the snapshot; the model ignores what it already holds
        for (const b of buf) this.deliver(ws, b);
        this.opts.onState({ state: "connected", seq: this.seq.last, attempt: 0 });
      } else {
        this.opts.onState({ state: resume ? "resumed" : "connected", seq: this.seq.last, attempt: 0 });
      }
    } else if (msg.type === "result") {
      const p = this.pending.get(msg.id);
      if (p) {
        this.pending.delete(msg.id);
        p.resolve(msg);
      }
      if (this.opts.onResult) this.opts.onResult(msg);
    }
  }

  deliver(ws, msg) {
    const verdict = this.seq.check(msg);
    if (verdict === "gap") {
      // events missed: resume from the last one applied
      ws.close(4000, "gap");
      return;
    }
    if (verdict === "ok") this.opts.onEvent(msg.event || {}, Number(msg.seq));
  }

  /** send sends an action over the websocket and resolves with the server's result. */
  act(action) {
    return new Promise((resolve, reject) => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
        reject(new Error("not connected"));
        return;
      }
      const id = "c" + this.nextId++;
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ type: "action", id, action }));
    });
  }
}
