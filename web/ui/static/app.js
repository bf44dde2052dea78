// app.js: start-up: who am I (GET /api/me), which console, the live
// connection, the header (connection state, language, help) and alerts.

import { h, replace } from "./dom.js";
import { t, getLang, setLang } from "./i18n.js";
import { Model } from "./model.js";
import { Connection } from "./conn.js";
import { getJSON, tryJSON, postAction, HTTPError } from "./api.js";
import { DispatcherView } from "./dispatcher.js";
import { LeaderView } from "./leader.js";
import { useScenario, teamName } from "./towns.js";
import { useNames } from "./names.js";

const model = new Model();
let me = null;
let view = null;
let conn = null;
let connState = { state: "connecting", seq: 0, attempt: 0 };
let renderQueued = false;
let audio = null;

const $ = (id) => document.getElementById(id);

function listOf(x, key) {
  if (Array.isArray(x)) return x;
  if (x && Array.isArray(x[key])) return x[key];
  return [];
}

function query() {
  return me && me.drill ? "?drill=" + encodeURIComponent(me.drill) : "";
}

function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    if (view) view.render();
    renderConn();
    document.body.dataset.seq = String(model.lastSeq);
  });
}

function renderHeader() {
  document.title = t("title");
  $("title").textContent = t("title");
  $("lang").textContent = t("lang");
  $("help-btn").textContent = t("help") + " (?)";
  if (me) {
    const role = t(me.role) + (me.drill ? " · " + me.drill : "") + (me.team ? " · " + teamName(me.team, getLang()) : "") + ((me.towns || []).length ? " · " + me.towns.join(",") : "");
    replace($("who"), t("signed_in_as") + ": ", h("strong", {}, me.name || ""), " (" + role + ")");
  }
  renderConn();
  renderHelp();
  $("sound").textContent = audio ? t("sound_on") : t("sound_off");
}

function renderConn() {
  const el = $("conn");
  const s = connState;
  let text;
  switch (s.state) {
    case "connected":
      text = `● ${t("connected")} · ${t("seq")} ${conn ? conn.lastSeq : s.seq}`;
      break;
    case "resumed":
      text = `● ${t("resumed")} ${s.seq}`;
      break;
    case "reconnecting":
      text = `○ ${t("reconnecting")} (${s.attempt}) · ${t("seq")} ${s.seq}`;
      break;
    default:
      text = "○ " + t("connecting");
  }
  el.textContent = text;
  el.className = "conn conn-" + s.state;
  el.dataset.state = s.state;
}

function renderHelp() {
  const keys = me && me.role === "team_leader" ? ["k_jk_leader", "k_leader", "k_l", "k_help", "k_esc"] : ["k_jk", "k_enter", "k_c", "k_s", "k_a", "k_e", "k_x", "k_m", "k_search", "k_l", "k_help", "k_map", "k_esc"];
  replace($("help"), h("h2", {}, t("shortcuts")), h("ul", {}, keys.map((k) => h("li", {}, t(k)))), h("button", { type: "button", onclick: () => toggleHelp(false) }, t("close")));
}

function toggleHelp(show) {
  const el = $("help");
  el.hidden = show === undefined ? !el.hidden : !show;
  if (!el.hidden) el.querySelector("button")?.focus();
}

/** beep plays three short tones (no audio file): the P1 / escalation / new assignment alert. */
function beep() {
  if (!audio) return;
  const now = audio.currentTime;
  for (let i = 0; i < 3; i++) {
    const o = audio.createOscillator();
    const g = audio.createGain();
    o.type = "square";
    o.frequency.value = 880;
    g.gain.setValueAtTime(0.0001, now + i * 0.25);
    g.gain.exponentialRampToValueAtTime(0.3, now + i * 0.25 + 0.02);
    g.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.25 + 0.18);
    o.connect(g).connect(audio.destination);
    o.start(now + i * 0.25);
    o.stop(now + i * 0.25 + 0.2);
  }
  document.body.dataset.beeps = String(Number(document.body.dataset.beeps || 0) + 1);
}

function enableSound() {
  if (audio) return;
  try {
    audio = new AudioContext();
  } catch {
    audio = null;
  }
  $("sound").textContent = audio ? t("sound_on") : t("sound_off");
}

let toastTimer = 0;
function toast(msg, bad) {
  const el = $("toast");
  el.textContent = msg;
  el.className = "toast " + (bad ? "bad" : "good");
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), bad ? 10000 : 3000);
}

let unitsTimer = 0;
function refreshUnits() {
  clearTimeout(unitsTimer);
  unitsTimer = setTimeout(async () => {
    const u = await tryJSON("/api/units" + query(), null);
    if (u) {
      model.setUnits(listOf(u, "units"));
      scheduleRender();
    }
  }, 400);
}

async function snapshot() {
  const q = query();
  const [inc, units, depots] = await Promise.all([getJSON("/api/incidents" + q), tryJSON("/api/units" + q, []), tryJSON("/api/depots" + q, [])]);
  model.setIncidents(listOf(inc, "incidents"));
  model.setUnits(listOf(units, "units"));
  model.setDepots(listOf(depots, "depots"));
  scheduleRender();
}

function showSignin(message) {
  const input = h("input", { type: "password", id: "token-input", autocomplete: "off", "aria-label": t("token"), required: true });
  replace(
    $("app"),
    h(
      "form",
      {
        id: "signin",
        class: "signin",
        onsubmit: (e) => {
          e.preventDefault();
          const v = input.value.trim();
          if (v) location.href = "/?token=" + encodeURIComponent(v);
        },
      },
      h("h2", {}, t("signin")),
      h("p", {}, t("signin_help")),
      message ? h("p", { class: "bad" }, message) : null,
      h("label", {}, t("token") + " ", input),
      " ",
      h("button", { type: "submit", class: "primary" }, t("signin")),
    ),
  );
  input.focus();
}

function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const tag = e.target && e.target.tagName;
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") {
    if (e.key === "Escape" && view && view.key(e)) e.preventDefault();
    return;
  }
  if ((e.key === "Enter" || e.key === " ") && (tag === "BUTTON" || tag === "A" || tag === "SUMMARY")) return; // activate it
  if (e.key === "?") {
    toggleHelp();
    e.preventDefault();
    return;
  }
  if (e.key === "Escape" && !$("help").hidden) {
    toggleHelp(false);
    return;
  }
  if (e.key === "l") {
    switchLang();
    e.preventDefault();
    return;
  }
  if (view && view.key(e)) e.preventDefault();
}

function switchLang() {
  setLang(getLang() === "zh" ? "en" : "zh");
  $("toast").hidden = true; // said in the other language
  renderHeader();
  if (view) view.relabel();
  else if (!me) showSignin();
}

async function main() {
  setLang(getLang());
  $("lang").addEventListener("click", switchLang);
  $("help-btn").addEventListener("click", () => toggleHelp());
  document.addEventListener("keydown", onKey);
  document.addEventListener("pointerdown", enableSound, { once: true });
  document.addEventListener("keydown", enableSound, { once: true });
  renderHeader();
  try {
    me = await getJSON("/api/me");
  } catch (err) {
    showSignin(err instanceof HTTPError && err.status === 401 ? "" : String(err.message || err));
    document.body.dataset.role = "none";
    return;
  }
  document.body.dataset.role = me.role;
  const config = await tryJSON("/api/config" + query(), {});
  useScenario(config);
  useNames(config);
  renderHeader();
  const ctx = {
    model,
    me,
    config: config || {},
    act: (a) => postAction(a),
    alert: beep,
    toast,
    refreshUnits,
    history: (id) => getJSON("/api/incidents/" + encodeURIComponent(id) + "/history"),
  };
  view = me.role === "team_leader" ? new LeaderView($("app"), ctx) : new DispatcherView($("app"), ctx);
  conn = new Connection({
    onEvent: (ev, seq) => {
      if (!ev.seq) ev.seq = seq;
      if (model.apply(ev)) view.onEvent(ev);
      scheduleRender();
    },
    onState: (s) => {
      connState = s;
      if (s.state === "signed_out") {
        view = null;
        document.body.dataset.role = "none";
        showSignin(s.reason || "");
        return;
      }
      renderConn();
      if (s.state === "connected" || s.state === "resumed") document.body.dataset.synced = "1";
    },
    onSnapshot: snapshot,
  });
  conn.start();
  // for operators' debugging from the browser console and for the browser tests
  window.zs110 = { model, conn, view, me };
  setInterval(() => {
    scheduleRender();
    renderConn();
  }, 1000);
}

main();
