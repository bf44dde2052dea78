// alarms.js: the alarm bar of the dispatcher's console, one strip of fixed
// height above the panes, so that alarms never push the queue down: a P1
// alert is a bar of its own (red, flashing); the escalations of one
// incident (units that did not accept in time) are one compact bar naming
// every late unit, however many; the engine's move-up proposals follow.
// When more bars than fit arrive, the strip scrolls sideways and says how
// many there are. groupEscalations is tested in the browser (TestBusyModel).
// lateOnCard gives the team leader's console the flag of a late assignment.

import { h, replace } from "./dom.js";
import { t, getLang } from "./i18n.js";
import { townName } from "./towns.js";

/** MAX_P1_BARS: P1 alerts shown as bars of their own; more are counted in one bar. */
export const MAX_P1_BARS = 6;

const W = {
  more_p1: ["另有 {n} 条 P1 告警", "{n} more P1 alerts"],
  alarms: ["告警", "Alarms"],
  no_alarms: ["无告警", "No alarms"],
  late_units: ["{n} 个单位超时未接单", "{n} units late"],
  late_unit: ["1 个单位超时未接单", "1 unit late"],
  longest: ["最长 {s}", "longest {s}"],
  count: ["{n} 条告警", "{n} alarms"],
  ack_all: ["确认", "Acknowledge"],
  late_card: ["超时未接单：调度员已收到告警，请立即接单或拒绝", "Not accepted in time: the dispatcher has been alerted; accept or decline now"],
};

/** aw returns the alarm bar's label for key in the current language. */
export function aw(key, vars) {
  const e = W[key];
  let s = e ? e[getLang() === "en" ? 1 : 0] : key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split("{" + k + "}").join(String(v));
  return s;
}

/** fmtWaited says a wait in seconds as "2 min 5 s" / "2分5秒". */
export function fmtWaited(s) {
  const n = Math.max(0, Math.round(Number(s) || 0));
  const m = Math.floor(n / 60);
  const sec = n % 60;
  if (getLang() === "en") return m ? `${m} min ${sec} s` : `${sec} s`;
  return m ? `${m}分${sec}秒` : `${sec}秒`;
}

/**
 * groupEscalations groups escalation alerts ({seq, incident, unit, waited})
 * per incident: [{incident, units: [unit...], waited: longest, seq: newest}],
 * newest incident first; a unit escalated twice is listed once.
 */
export function groupEscalations(alerts) {
  const by = new Map();
  for (const a of alerts) {
    let g = by.get(a.incident);
    if (!g) {
      g = { incident: a.incident, units: [], waited: 0, seq: 0 };
      by.set(a.incident, g);
    }
    if (a.unit && !g.units.includes(a.unit)) g.units.push(a.unit);
    g.waited = Math.max(g.waited, Number(a.waited) || 0);
    g.seq = Math.max(g.seq, Number(a.seq) || 0);
  }
  return [...by.values()].sort((a, b) => b.seq - a.seq);
}

/**
 * renderAlarms draws the bar into el for the dispatcher's view: its P1
 * alerts (view.p1), the model's escalations and move-ups.
 */
export function renderAlarms(el, view) {
  const model = view.model;
  const groups = groupEscalations(model.alerts);
  const key = [getLang(), view.p1.slice(-MAX_P1_BARS).map((p) => p.id).join(",") + ":" + view.p1.length, groups.map((g) => g.incident + ":" + g.units.join("+") + ":" + g.waited).join(","), [...model.moveUps.values()].map((m) => m.unit + ":" + m.station).join(",")].join("|");
  if (el.dataset.key === key) return; // nothing changed: keep the bars (and the strip's scroll)
  el.dataset.key = key;
  const bars = [];
  // P1 alerts: each its own bar, the newest first; past MAX_P1_BARS one
  // bar counts the others (they are all red in the queue too)
  const p1s = view.p1.slice(-MAX_P1_BARS).reverse();
  if (view.p1.length > p1s.length) bars.push(h("div", { class: "alarm alert p1-more", role: "status" }, aw("more_p1", { n: view.p1.length - p1s.length })));
  for (const p of p1s) {
    const rec = model.incidents.get(p.id);
    bars.push(
      h(
        "div",
        { class: "alarm alert p1-alert flash", role: "alert", "data-incident": p.id, title: rec?.address || "" },
        h("strong", {}, "P1 "),
        h("span", { class: "iid" }, p.id),
        " · " + view.queueView.typeLabel(rec?.type || p.type) + " · " + townName(rec?.town || p.town, getLang()),
        " ",
        h("button", { type: "button", onclick: () => view.select(p.id, true) }, t("detail")),
      ),
    );
  }
  for (const g of groups) {
    bars.push(
      h(
        "div",
        { class: "alarm alert escalation", role: "alert", "data-incident": g.incident, "data-units": String(g.units.length) },
        h("strong", {}, t("escalation") + " "),
        h("span", { class: "iid" }, g.incident),
        " · " + (g.units.length === 1 ? aw("late_unit") : aw("late_units", { n: g.units.length })) + ": ",
        h("span", { class: "late-units", title: g.units.join(", ") }, g.units.join(", ")),
        " · " + aw("longest", { s: fmtWaited(g.waited) }) + " ",
        h("button", { type: "button", onclick: () => view.select(g.incident, true) }, t("detail")),
        " ",
        h(
          "button",
          {
            type: "button",
            class: "btn-ack",
            onclick: () => {
              model.alerts = model.alerts.filter((x) => x.incident !== g.incident);
              view.render();
            },
          },
          aw("ack_all"),
        ),
      ),
    );
  }
  for (const m of model.moveUps.values()) {
    bars.push(
      h(
        "div",
        { class: "alarm alert moveup", "data-unit": m.unit },
        h("strong", {}, t("moveup") + " "),
        t("moveup_msg", { unit: m.unit, station: m.station }),
        " ",
        h("button", { type: "button", class: "primary", onclick: () => view.send({ kind: "relocate", unit: m.unit, station: m.station }) }, t("relocate")),
        " ",
        h(
          "button",
          {
            type: "button",
            onclick: () => {
              model.moveUps.delete(m.unit);
              view.render();
            },
          },
          t("ack"),
        ),
      ),
    );
  }
  el.dataset.count = String(bars.length);
  replace(
    el,
    h("span", { class: "alarm-count", title: aw("alarms") }, bars.length ? aw("count", { n: bars.length }) : aw("no_alarms")),
    bars,
  );
}

/**
 * lateOnCard returns the flag of a team leader's assignment the engine
 * escalated (the unit did not accept in time), or null.
 */
export function lateOnCard(rec, unitId) {
  if (!(rec.escalated || []).includes(unitId) || (rec.accepted || []).includes(unitId)) return null;
  return h("p", { class: "late-flag", role: "alert" }, "⚠ " + aw("late_card"));
}
