// leader.js: the team leader's console: the assignments of the leader's own
// team (the server sends nothing else) with Accept, Decline (reason), En
// route, On scene and Clear, each enabled only when the unit's status allows.

import { h, replace, prioBadge } from "./dom.js";
import { t, getLang, statusLabel, stateLabel, eventLabel } from "./i18n.js";
import { townName } from "./towns.js";
import { EV, leaderActions, fmtEta, fmtKm, fmtTime } from "./model.js";

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
    this.selected = 0;
    this.key_ = "";
    this.build();
  }

  build() {
    this.listEl = h("ol", { id: "assignments", class: "assignments" });
    this.logEl = h("ol", { id: "activity", class: "activity" });
    replace(
      this.root,
      h("div", { class: "lgrid" }, h("section", {}, h("h2", {}, t("my_assignments") + (this.ctx.me.team ? " · " + this.ctx.me.team : "")), this.listEl), h("section", { class: "side-pane" }, h("h2", {}, t("log")), this.logEl)),
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

  /** key handles shortcut keys (j/k move between assignments). */
  key(e) {
    const cards = [...this.listEl.querySelectorAll(".card")];
    if (e.key === "j" || e.key === "k") {
      if (cards.length === 0) return true;
      this.selected = Math.max(0, Math.min(cards.length - 1, this.selected + (e.key === "j" ? 1 : -1)));
      cards[this.selected].focus();
      return true;
    }
    const keys = { a: "accept", d: "decline", e: "en_route", o: "on_scene", c: "clear" };
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

  async send(action) {
    try {
      await this.ctx.act(action);
      this.ctx.toast(t("action_sent") + ": " + action.kind + " " + action.unit, false);
      this.declining = "";
      this.key_ = "";
      this.render();
    } catch (err) {
      this.ctx.toast(t("action_failed") + ": " + (err.message || err), true);
    }
  }

  render() {
    const list = this.model.assignments(this.ctx.me.team);
    const lang = getLang();
    const key = lang + "|" + this.declining + "|" + list.map((a) => `${a.rec.id}:${a.rec.version}:${a.unitId}:${a.unit?.status}:${a.accepted}`).join(",");
    // Someone typing a decline reason: updates wait until the field loses focus.
    const typing = this.listEl.contains(document.activeElement) && document.activeElement.matches("input");
    if (key !== this.key_ && !(typing && this.declining === this.renderedDeclining)) {
      this.key_ = key;
      this.renderedDeclining = this.declining;
      if (list.length === 0) replace(this.listEl, h("li", { class: "empty" }, t("no_assignments")));
      else replace(this.listEl, list.map((a) => this.card(a, lang)));
    }
    replace(
      this.logEl,
      this.model.log
        .slice(-100)
        .reverse()
        .map((e) => h("li", { "data-seq": String(e.seq) }, h("span", { class: "time" }, fmtTime(e.at, lang)), " ", h("span", { class: "kind" }, eventLabel(e.kind)), " ", e.incident, e.unit ? " · " + e.unit : "")),
    );
  }

  card(a, lang) {
    const r = a.rec;
    const status = a.unit?.status || "dispatched";
    const legal = leaderActions(status, a.accepted);
    const id = r.id + "|" + a.unitId;
    const act = (kind, extra) => this.send({ kind, incident: r.id, unit: a.unitId, ...(extra || {}) });
    const btn = (kind, label, cls) => h("button", { type: "button", class: "act-" + kind + (cls ? " " + cls : ""), disabled: !legal[kind], onclick: () => (kind === "decline" ? this.openDecline(id) : act(kind)) }, label);
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
    return h(
      "li",
      { class: "card p" + (r.priority || 4), tabindex: "0", "data-incident": r.id, "data-unit": a.unitId, "data-status": status },
      h("h3", {}, prioBadge(r.priority), " ", h("span", { class: "type" }, r.type || "?"), " ", h("span", { class: "iid" }, r.id)),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, t("unit")),
        h("dd", { class: "uid" }, a.unitId, " · ", h("span", { class: "st st-" + status }, statusLabel(status)), a.accepted ? h("span", { class: "tag tag-ok" }, " " + t("accepted")) : null),
        h("dt", {}, t("eta")),
        h("dd", {}, a.pick ? `${fmtEta(a.pick.eta_s)} · ${fmtKm(a.pick.distance_m)}` : "–"),
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
      h("div", { class: "actions" }, btn("accept", t("accept"), "primary"), btn("decline", t("decline"), "danger"), btn("en_route", t("en_route")), btn("on_scene", t("on_scene")), btn("clear", t("clear"))),
      declineForm,
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
