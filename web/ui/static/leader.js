// leader.js: the team leader's console: the assignments of the leader's own
// team (the server sends nothing else) with Accept, Decline (reason) and the
// unit's status: En route, On scene, Returning, Available. The step the
// status machine expects next is highlighted; the others stay usable and an
// illegal change shows the server's error on the card. Units of the team
// that are busy without an assignment (returning, out of service) are listed
// beside, with Available.

import { h, replace, prioBadge } from "./dom.js";
import { t, getLang, statusLabel, stateLabel, eventLabel } from "./i18n.js";
import { townName } from "./towns.js";
import { EV, leaderActions, fmtEta, fmtKm, fmtTime } from "./model.js";
import { lateOnCard } from "./alarms.js";
import { typeName, capName, errorText, actionName } from "./names.js";

const STATUS_STEPS = ["en_route", "on_scene", "returning", "available"];

/** LeaderView renders the team leader's console into root. */
export class LeaderView {
  /**
   * @param {HTMLElement} root
   * @param {{model: import("./model.js").Model, act: Function, me: any, alert: Function, toast: Function, refreshUnits: Function}} ctx
   */
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.model = ctx.model;
    this.declining = ""; // "incident|unit" whose decline form is open
    this.errors = new Map(); // "incident|unit" or "|unit" -> the server's last refusal
    this.selected = 0;
    this.key_ = "";
    this.build();
  }

  build() {
    this.listEl = h("ol", { id: "assignments", class: "assignments" });
    this.unitsEl = h("ul", { id: "my-units", class: "my-units" });
    this.logEl = h("ol", { id: "activity", class: "activity" });
    replace(
      this.root,
      h(
        "div",
        { class: "lgrid" },
        h("section", {}, h("h2", {}, t("my_assignments")), this.listEl),
        h("section", { class: "side-pane" }, h("h2", {}, t("my_units")), this.unitsEl, h("h2", {}, t("log")), this.logEl),
      ),
    );
    this.key_ = "";
  }

  /** relabel rebuilds everything after a language switch. */
  relabel() {
    this.build();
    this.render();
  }

  /** onEvent is called for each new live event. */
  onEvent(ev) {
    if (ev.kind === EV.assignment) this.ctx.alert();
    if (ev.kind === EV.unitStatus) this.ctx.refreshUnits();
  }

  /** key handles shortcut keys: j/k move between assignments, a d e o r v act on the selected one. */
  key(e) {
    const cards = [...this.listEl.querySelectorAll(".card")];
    if (e.key === "j" || e.key === "k") {
      if (cards.length === 0) return true;
      this.selected = Math.max(0, Math.min(cards.length - 1, this.selected + (e.key === "j" ? 1 : -1)));
      cards[this.selected].focus();
      return true;
    }
    const keys = { a: "accept", d: "decline", e: "en_route", o: "on_scene", r: "returning", v: "available" };
    if (keys[e.key]) {
      const card = document.activeElement?.closest?.(".card") || cards[this.selected];
      const b = card?.querySelector(".act-" + keys[e.key]);
      if (b && !b.disabled) b.click();
      return true;
    }
    if (e.key === "Escape" && this.declining) {
      this.declining = "";
      this.key_ = "";
      this.render();
      return true;
    }
    return false;
  }

  /** send sends an action; a refusal is kept under key and shown where the action was made. */
  async send(action, key) {
    try {
      await this.ctx.act(action);
      this.ctx.toast(t("action_sent") + ": " + actionName(action.kind) + " " + action.unit, false);
      this.errors.delete(key);
      this.declining = "";
    } catch (err) {
      this.errors.set(key, err);
      this.ctx.toast(t("action_failed") + ": " + errorText(err), true);
    }
    this.key_ = "";
    this.render();
  }

  render() {
    const team = this.ctx.me.team;
    const list = this.model.assignments(team);
    const onCard = new Set(list.map((a) => a.unitId));
    const busy = [...this.model.units.values()].filter((u) => u.team === team && u.status !== "available" && !onCard.has(u.id)).sort((a, b) => a.id.localeCompare(b.id));
    const free = [...this.model.units.values()].filter((u) => u.team === team && u.status === "available").length;
    const lang = getLang();
    const key = [
      lang,
      this.declining,
      [...this.errors.keys()].join(";"),
      list.map((a) => `${a.rec.id}:${a.rec.version}:${a.unitId}:${a.unit?.status}:${a.accepted}`).join(","),
      busy.map((u) => u.id + ":" + u.status).join(","),
      free,
    ].join("|");
    // Someone typing a decline reason: updates wait until the field loses focus.
    const typing = this.listEl.contains(document.activeElement) && document.activeElement.matches("input");
    if (key !== this.key_ && !(typing && this.declining === this.renderedDeclining)) {
      this.key_ = key;
      this.renderedDeclining = this.declining;
      if (list.length === 0) replace(this.listEl, h("li", { class: "empty" }, t("no_assignments")));
      else replace(this.listEl, list.map((a) => this.card(a, lang)));
      replace(this.unitsEl, h("li", { class: "hint", id: "units-free" }, t("n_available", { n: free })), busy.length ? busy.map((u) => this.unitRow(u, lang)) : h("li", { class: "hint" }, t("no_busy_units")));
    }
    replace(
      this.logEl,
      this.model.log
        .slice(-100)
        .reverse()
        .map((e) => h("li", { "data-seq": String(e.seq) }, h("span", { class: "time" }, fmtTime(e.at, lang)), " ", h("span", { class: "kind" }, eventLabel(e.kind)), " ", e.incident, e.unit ? " · " + e.unit : "")),
    );
  }

  /** statusButtons are the status steps for a unit; the expected ones are highlighted. */
  statusButtons(legal, send) {
    return STATUS_STEPS.map((kind) =>
      h("button", { type: "button", class: "act-" + kind + (legal[kind] ? " expected" : ""), "data-expected": legal[kind] ? "1" : "0", onclick: () => send(kind) }, t(kind)),
    );
  }

  errorLine(key) {
    const err = this.errors.get(key);
    return err ? h("p", { class: "card-error bad", role: "alert" }, t("server_said") + ": " + errorText(err)) : null;
  }

  card(a, lang) {
    const r = a.rec;
    const status = a.unit?.status || "dispatched";
    const legal = leaderActions(status, a.accepted, this.ctx.config.actions);
    const id = r.id + "|" + a.unitId;
    const act = (kind, extra) => this.send({ kind, incident: r.id, unit: a.unitId, ...(extra || {}) }, id);
    let declineForm = null;
    if (this.declining === id) {
      const input = h("input", { type: "text", class: "decline-reason", required: true, placeholder: t("reason"), "aria-label": t("reason") });
      declineForm = h(
        "form",
        {
          class: "panel",
          onsubmit: (e) => {
            e.preventDefault();
            if (input.value.trim()) act("decline", { reason: input.value.trim() });
          },
        },
        h("label", {}, t("decline") + " — " + t("reason") + " ", input),
        h("button", { type: "submit", class: "danger" }, t("decline")),
        h("button", { type: "button", onclick: () => this.openDecline("") }, t("close")),
      );
    }
    const late = lateOnCard(r, a.unitId);
    return h(
      "li",
      { class: "card p" + (r.priority || 4) + (late ? " late" : ""), tabindex: "0", "data-incident": r.id, "data-unit": a.unitId, "data-status": status },
      h("h3", {}, prioBadge(r.priority), " ", h("span", { class: "type" }, typeName(r.type) || "?"), " ", h("span", { class: "iid" }, r.id)),
      late,
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, t("unit")),
        h("dd", { class: "uid" }, a.unitId, " · ", h("span", { class: "st st-" + status }, statusLabel(status)), a.accepted ? h("span", { class: "tag tag-ok" }, " " + t("accepted")) : null),
        h("dt", {}, t("eta")),
        h("dd", {}, a.pick ? `${fmtEta(a.pick.eta_s)} · ${fmtKm(a.pick.distance_m)}` : "–"),
        a.pick ? h("dt", {}, t("capability")) : null,
        a.pick ? h("dd", { class: "cap" }, capName(a.pick.capability)) : null,
        h("dt", {}, t("town")),
        h("dd", {}, townName(r.town, lang)),
        h("dt", {}, t("address")),
        h("dd", { class: "address" }, r.address || ""),
        h("dt", {}, t("description")),
        h("dd", { class: "description" }, r.description || ""),
        h("dt", {}, t("reported")),
        h("dd", {}, fmtTime(r.reported_at, lang, true)),
        h("dt", {}, t("state")),
        h("dd", {}, stateLabel(r.state)),
      ),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "act-accept primary", disabled: !legal.accept, onclick: () => act("accept") }, t("accept")),
        h("button", { type: "button", class: "act-decline danger", disabled: !legal.decline, onclick: () => this.openDecline(id) }, t("decline")),
        this.statusButtons(legal, (kind) => act(kind)),
      ),
      this.errorLine(id),
      declineForm,
    );
  }

  /** unitRow is a busy unit of the team without an assignment (returning, out of service). */
  unitRow(u, lang) {
    const key = "|" + u.id;
    const legal = leaderActions(u.status, true, this.ctx.config.actions);
    return h(
      "li",
      { class: "unit-row", "data-unit": u.id, "data-status": u.status },
      h("span", { class: "uid" }, u.id),
      " ",
      h("span", { class: "st st-" + u.status }, statusLabel(u.status)),
      " ",
      h("span", { class: "town" }, townName(u.town, lang)),
      u.station && u.status === "relocating" ? h("span", { class: "station" }, " → " + u.station) : "",
      " ",
      h("button", { type: "button", class: "act-available" + (legal.available ? " expected" : ""), onclick: () => this.send({ kind: "available", unit: u.id }, key) }, t("available")),
      this.errorLine(key),
    );
  }

  openDecline(id) {
    this.declining = id;
    this.key_ = "";
    this.render();
    const input = this.listEl.querySelector(".decline-reason");
    if (input) input.focus();
  }
}
