// dispatcher.js: the dispatcher's console: incident queue, incident detail
// with the engine's recommendation and the actions, escalation alerts, unit
// board, map and activity log. Every action is sent to the engine; the page
// changes only when the resulting events are pushed back.

import { h, replace, prioBadge } from "./dom.js";
import { t, getLang, statusLabel, stateLabel, eventLabel } from "./i18n.js";
import { TOWNS, townName } from "./towns.js";
import { EV, needsAction, dispatcherActions, unitDeclinable, fmtEta, fmtKm, fmtTime } from "./model.js";
import { MapView } from "./map.js";
import { History } from "./history.js";
import { typeName, capName, itemName, depotName, teamLabel, pickReasons, shortfallText as sfText, errorText, actionName, invalidName } from "./names.js";
import { QueueView } from "./queue.js";
import { renderAlarms } from "./alarms.js";
import { statusLegend } from "./maplayers.js";
import { locatePanel, locatedFact, loadPlaces } from "./locate.js";

const NEW_KINDS = new Set([EV.dispatched, EV.recommended, EV.manual]);

/** DispatcherView renders the dispatcher's console into root. */
export class DispatcherView {
  /**
   * @param {HTMLElement} root
   * @param {{model: import("./model.js").Model, act: Function, config: any, alert: Function, toast: Function}} ctx
   */
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.model = ctx.model;
    this.selected = "";
    this.panel = null; // {kind: "swap"|"add"|"cancel"|"decline", unit?}
    this.detailKey = "";
    this.tab = "map";
    this.flash = new Map(); // incident id -> flash until (ms)
    this.p1 = []; // P1 banners not yet acknowledged: {id, text}
    this.typeCodes = new Set((ctx.config.types || []).map((x) => (typeof x === "string" ? x : x.code)).filter(Boolean));
    this.typeNames = new Map((ctx.config.types || []).filter((x) => x && x.code).map((x) => [x.code, x]));
    this.query = ctx.me && ctx.me.drill ? "?drill=" + encodeURIComponent(ctx.me.drill) : "";
    this.queueView = new QueueView(this);
    if ((ctx.config.actions || []).includes("locate")) loadPlaces(this.query);
    this.history = new History(ctx.history || (() => Promise.resolve([])), () => {
      this.detailKey = "";
      this.render();
    });
    this.build();
  }

  build() {
    this.alertsEl = h("section", { id: "alerts", class: "alerts alarmbar", "aria-live": "assertive" });
    const queuePane = this.queueView.build();
    this.queueEl = this.queueView.listEl;
    this.detailEl = h("section", { id: "detail", class: "detail", tabindex: "-1", "aria-label": t("detail") });
    this.canvas = h("canvas", { id: "map", class: "map", tabindex: "0", "aria-label": t("map") });
    this.townSel = h("select", { id: "town-filter", "aria-label": t("town"), onchange: () => this.renderUnits() });
    this.unitsEl = h("div", { id: "unit-board", class: "unit-board" });
    this.logEl = h("ol", { id: "activity", class: "activity" });
    this.tabs = {
      map: h("div", { class: "tab-body", id: "tab-map" }, this.canvas, this.legend()),
      units: h("div", { class: "tab-body", id: "tab-units" }, h("label", { class: "filter" }, t("town") + " ", this.townSel), this.unitsEl),
      log: h("div", { class: "tab-body", id: "tab-log" }, this.logEl),
    };
    this.tabButtons = {};
    const bar = h(
      "div",
      { class: "tabs", role: "tablist" },
      ["map", "units", "log"].map((k) => {
        const b = h("button", { type: "button", role: "tab", id: "tab-btn-" + k, onclick: () => this.showTab(k) }, t(k));
        this.tabButtons[k] = b;
        return b;
      }),
    );
    replace(
      this.root,
      this.alertsEl,
      h(
        "div",
        { class: "dgrid" },
        queuePane,
        this.detailEl,
        h("section", { class: "side-pane" }, bar, this.tabs.map, this.tabs.units, this.tabs.log),
      ),
    );
    this.fillTowns();
    this.map = new MapView(this.canvas, { tileURL: this.ctx.config.tile_url || "", onSelect: (id) => this.select(id, false) });
    this.showTab(this.tab);
  }

  legend() {
    return h(
      "p",
      { class: "legend" },
      t("legend") + ": ",
      ["1", "2", "3", "4"].map((p) => [prioBadge(Number(p)), " "]),
      h("span", { class: "lg-town" }, "■ " + t("legend_town")),
      " ",
      h("span", { class: "lg-unit" }, t("legend_unit") + ": "),
      statusLegend(),
      " ",
      h("span", { class: "lg-depot" }, "▲ " + t("legend_depot")),
    );
  }

  fillTowns() {
    const cur = this.townSel.value;
    replace(
      this.townSel,
      h("option", { value: "" }, t("all_towns")),
      TOWNS.map((x) => h("option", { value: x.code }, townName(x.code, getLang()))),
    );
    this.townSel.value = cur;
  }

  showTab(k) {
    this.tab = k;
    for (const [name, el] of Object.entries(this.tabs)) el.hidden = name !== k;
    for (const [name, b] of Object.entries(this.tabButtons)) b.setAttribute("aria-selected", String(name === k));
    if (k === "map") this.map?.draw();
    this.render();
  }

  /** relabel rebuilds everything after a language switch. */
  relabel() {
    this.detailKey = "";
    this.build();
    this.render();
  }

  /** onEvent is called for each new live event, after the model applied it. */
  onEvent(ev) {
    const d = ev.data || {};
    if (NEW_KINDS.has(ev.kind) && d.priority === 1 && d.version === 1) {
      this.flash.set(d.id, Date.now() + 15000);
      this.p1.push({ id: d.id, type: d.type, town: d.town });
      this.ctx.alert();
    }
    if (ev.kind === EV.escalated) this.ctx.alert();
    if (ev.kind === EV.unitStatus) this.ctx.refreshUnits();
  }

  /** select makes id the current incident; focus moves the keyboard focus to the detail. */
  select(id, focus) {
    if (id !== this.selected) this.panel = null;
    this.selected = id;
    this.p1 = this.p1.filter((x) => x.id !== id);
    this.render();
    if (focus) this.detailEl.focus();
  }

  /** move moves the selection by d in the queue (j/k). */
  move(d) {
    const ids = this.flatQueue();
    if (ids.length === 0) return;
    let i = ids.indexOf(this.selected);
    i = i < 0 ? (d > 0 ? 0 : ids.length - 1) : Math.max(0, Math.min(ids.length - 1, i + d));
    this.select(ids[i], false);
    const li = this.queueEl.querySelector(`[data-id="${CSS.escape(ids[i])}"]`);
    if (li) li.focus();
  }

  flatQueue() {
    const ids = [];
    for (const g of this.queueView.groups()) {
      ids.push(g.rec.id);
      for (const c of g.calls) ids.push(c.id);
    }
    return ids;
  }

  /** key handles the console's shortcut keys; returns true when handled. */
  key(e) {
    const rec = this.model.incidents.get(this.selected);
    switch (e.key) {
      case "j":
        this.move(1);
        return true;
      case "k":
        this.move(-1);
        return true;
      case "Enter":
        if (this.selected) this.select(this.selected, true);
        return !!this.selected;
      case "c":
        if (rec && dispatcherActions(rec, this.ctx.config.actions).confirm) this.send({ kind: "confirm", incident: rec.id, version: rec.version });
        return true;
      case "s":
        if (rec && rec.recommendation?.units?.length) this.openPanel({ kind: "swap", unit: rec.recommendation.units[0].unit_id });
        return true;
      case "a":
        if (rec && dispatcherActions(rec, this.ctx.config.actions).add) this.openPanel({ kind: "add" });
        return true;
      case "x":
        if (rec) this.openPanel({ kind: "cancel" });
        return true;
      case "e":
        if (rec && dispatcherActions(rec, this.ctx.config.actions).escalate) this.send({ kind: "escalate", incident: rec.id });
        return true;
      case "m":
        this.showTab("map");
        return true;
      case "/":
        this.queueView.search.focus();
        return true;
      case "u":
        this.showTab("units");
        return true;
      case "g":
        this.showTab("log");
        return true;
      case "Escape":
        if (this.map.picking) {
          this.map.pickOnce(null);
          this.detailKey = "";
          this.render();
          return true;
        }
        if (this.panel) {
          this.panel = null;
          this.render();
          return true;
        }
        return false;
    }
    return false;
  }

  openPanel(p) {
    this.panel = p;
    this.render();
    const first = this.detailEl.querySelector(".panel input, .panel select, .panel button");
    if (first) first.focus();
  }

  async send(action) {
    // A form of the detail is done with: let the detail redraw as events arrive.
    if (this.detailEl.contains(document.activeElement)) this.detailEl.focus();
    try {
      await this.ctx.act(action);
      this.ctx.toast(t("action_sent") + ": " + actionName(action.kind) + " " + (action.incident || action.unit || ""), false);
      this.panel = null;
      this.detailKey = "";
      this.render();
    } catch (err) {
      this.ctx.toast(t("action_failed") + ": " + errorText(err), true);
    }
  }

  /** render redraws what changed. */
  render() {
    this.renderAlerts();
    this.renderQueue();
    this.renderDetail();
    if (this.tab === "map") this.map.update(this.model, this.selected);
    if (this.tab === "units") this.renderUnits();
    if (this.tab === "log") this.renderLog();
  }

  renderAlerts() {
    renderAlarms(this.alertsEl, this);
  }

  renderQueue() {
    this.queueView.render();
  }

  renderDetail() {
    const open = this.model.incidents.get(this.selected);
    const rec = open || this.model.closed.get(this.selected);
    const ended = !open && !!rec;
    const units = rec ? (rec.recommendation?.units || []).map((p) => this.model.units.get(p.unit_id)?.status || "").join(",") : "";
    const base = rec ? `${rec.id}|${JSON.stringify(this.panel)}|${getLang()}|${ended}` : `none|${getLang()}`;
    const key = rec ? `${base}|${rec.version}|${units}|${this.model.alerts.length}` : base;
    if (key === this.detailKey) return;
    // Someone is typing in a form of this incident: the update waits until the field loses focus.
    const typing = this.detailEl.contains(document.activeElement) && document.activeElement.matches("input, select, textarea");
    if (typing && base === this.detailBase) return;
    this.detailBase = base;
    this.detailKey = key;
    if (!rec) {
      replace(this.detailEl, h("h2", {}, t("detail")), h("p", { class: "hint" }, t("select_incident")));
      return;
    }
    const lang = getLang();
    const acts = ended ? { confirm: false, swap: false, add: false, escalate: false, cancel: false, classify: false, locate: false } : dispatcherActions(rec, this.ctx.config.actions);
    const why = ended ? [] : needsAction(rec);
    const field = (label, value, cls) => (value === undefined || value === null || value === "" ? null : [h("dt", {}, label), h("dd", { class: cls || "" }, String(value))]);
    const parts = [
      h("h2", { id: "detail-title" }, prioBadge(rec.priority), " ", typeName(rec.type) || "?", " ", h("span", { class: "iid" }, rec.id)),
      h("p", { class: "state-line" }, h("span", { class: "state s-" + rec.state }, stateLabel(rec.state)), why.map((w) => [" ", h("span", { class: "tag tag-" + w }, t("why_" + w))])),
      ended ? h("p", { class: "ended", role: "status" }, t("closed_note")) : null,
      h(
        "dl",
        { class: "facts" },
        field(t("reported"), fmtTime(rec.reported_at, lang, true)),
        field(t("town"), townName(rec.town, lang)),
        field(t("address"), rec.address, "address"),
        field(t("description"), rec.description, "description"),
        field(t("caller"), rec.caller),
        field(t("casualties"), rec.casualties || null),
        field("lat, lng", rec.lat || rec.lng ? `${Number(rec.lat).toFixed(5)}, ${Number(rec.lng).toFixed(5)}` : ""),
        locatedFact(rec),
        rec.linked_to ? field(t("linked_calls"), rec.linked_to) : null,
        rec.invalid ? field(t("invalid_reason"), invalidName(rec.invalid) + (rec.invalid_field ? ` (${rec.invalid_field})` : ""), "invalid") : null,
        (rec.linked || []).length ? field(t("linked_calls"), rec.linked.join(", ")) : null,
      ),
    ];
    if (rec.raw) parts.push(h("h3", {}, t("raw_record")), h("pre", { class: "raw", id: "raw-record" }, rec.raw));
    if (acts.classify) parts.push(this.classifyForm(rec));
    if (acts.locate) parts.push(locatePanel(this, rec));
    const r = rec.recommendation;
    if (r) {
      parts.push(h("h3", {}, t("recommended")), this.unitsTable(rec, r, acts));
      if (this.panel?.kind === "swap") parts.push(this.swapPanel(rec, r));
      if (this.panel?.kind === "decline") parts.push(this.declinePanel(rec));
      if (this.panel?.kind === "add") parts.push(this.addPanel(rec, r));
      if ((r.materials || []).length) parts.push(h("h3", {}, t("materials")), this.materialsTable(r));
      if ((r.shortfalls || []).length) {
        parts.push(h("h3", { class: "warn" }, t("shortfalls")), h("ul", { class: "shortfalls" }, r.shortfalls.map((sf) => h("li", {}, sfText(sf)))));
      }
    }
    if (this.panel?.kind === "cancel") parts.push(this.cancelPanel(rec));
    parts.push(
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", id: "btn-confirm", class: "primary", disabled: !acts.confirm, onclick: () => this.send({ kind: "confirm", incident: rec.id, version: rec.version }) }, t("confirm") + " (c)"),
        h("button", { type: "button", id: "btn-add", disabled: !acts.add, onclick: () => this.openPanel({ kind: "add" }) }, t("add_unit") + " (a)"),
        h("button", { type: "button", id: "btn-escalate", title: t("escalate_title"), disabled: !acts.escalate, onclick: () => this.send({ kind: "escalate", incident: rec.id }) }, t("escalate") + " (e)"),
        h("button", { type: "button", id: "btn-cancel", class: "danger", disabled: !acts.cancel, onclick: () => this.openPanel({ kind: "cancel" }) }, t("cancel") + " (x)"),
      ),
    );
    parts.push(this.history.section(rec));
    replace(this.detailEl, parts);
  }

  unitsTable(rec, r, acts) {
    const rows = (r.units || []).map((p) => {
      const u = this.model.units.get(p.unit_id);
      const notes = [];
      if (p.substitute) notes.push(h("span", { class: "tag" }, t("substitute") + ": " + capName(p.requirement) + " → " + capName(p.capability)));
      if (p.reserve) notes.push(h("span", { class: "tag tag-reserve" }, t("reserve")));
      if (p.first_responder) notes.push(h("span", { class: "tag" }, t("first_responder")));
      if ((rec.assigned || []).includes(p.unit_id)) notes.push(h("span", { class: "tag tag-ok" }, t("assigned")));
      if ((rec.accepted || []).includes(p.unit_id)) notes.push(h("span", { class: "tag tag-ok" }, t("accepted")));
      if ((rec.escalated || []).includes(p.unit_id)) notes.push(h("span", { class: "tag tag-escalated" }, t("why_escalated")));
      return h(
        "tr",
        { "data-unit": p.unit_id },
        h("td", { class: "uid" }, p.unit_id, u?.name ? h("div", { class: "sub" }, u.name) : null, notes.length ? h("div", {}, notes) : null),
        h("td", { class: "team", title: p.team }, teamLabel(p.team)),
        h("td", { class: "cap" }, capName(p.capability)),
        h("td", { class: "num eta" }, fmtEta(p.eta_s)),
        h("td", { class: "num dist" }, fmtKm(p.distance_m)),
        h("td", { class: "ustatus" }, u ? statusLabel(u.status) : ""),
        h("td", { class: "reasons" }, pickReasons(p)),
        h(
          "td",
          { class: "row-actions" },
          h("button", { type: "button", class: "btn-swap", disabled: !acts.swap, onclick: () => this.openPanel({ kind: "swap", unit: p.unit_id }) }, t("swap")),
          h("button", { type: "button", class: "btn-decline", disabled: !acts.swap || !unitDeclinable(rec, p.unit_id, u?.status), onclick: () => this.openPanel({ kind: "decline", unit: p.unit_id }) }, t("decline_unit")),
        ),
      );
    });
    return h(
      "table",
      { class: "units-table" },
      h("thead", {}, h("tr", {}, [t("unit"), t("team"), t("capability"), t("eta"), t("distance"), t("status"), t("reasons"), ""].map((x) => h("th", {}, x)))),
      h("tbody", {}, rows),
    );
  }

  candidates(rec, r, requirement) {
    const on = new Set((r.units || []).map((p) => p.unit_id));
    const seen = new Set();
    const out = [];
    const alts = r.alternates || {};
    const lists = requirement ? [alts[requirement] || []] : Object.values(alts);
    for (const list of lists) {
      for (const p of list) {
        if (on.has(p.unit_id) || seen.has(p.unit_id)) continue;
        const u = this.model.units.get(p.unit_id);
        if (u && u.status && u.status !== "available") continue;
        seen.add(p.unit_id);
        out.push(p);
      }
    }
    out.sort((a, b) => (a.cost_s ?? a.eta_s) - (b.cost_s ?? b.eta_s));
    return out;
  }

  candidateList(rec, list, onUse) {
    if (list.length === 0) return h("p", { class: "hint" }, t("no_candidates"));
    return h(
      "table",
      { class: "cand-table" },
      h("thead", {}, h("tr", {}, [t("unit"), t("team"), t("capability"), t("eta"), t("distance"), ""].map((x) => h("th", {}, x)))),
      h(
        "tbody",
        {},
        list.slice(0, 8).map((p) =>
          h(
            "tr",
            { "data-unit": p.unit_id },
            h("td", { class: "uid" }, p.unit_id, p.reserve ? h("span", { class: "tag tag-reserve" }, t("reserve")) : null),
            h("td", {}, teamLabel(p.team)),
            h("td", {}, capName(p.capability)),
            h("td", { class: "num" }, fmtEta(p.eta_s)),
            h("td", { class: "num" }, fmtKm(p.distance_m)),
            h("td", {}, h("button", { type: "button", class: "btn-use", onclick: () => onUse(p.unit_id) }, t("use"))),
          ),
        ),
      ),
    );
  }

  swapPanel(rec, r) {
    const pick = (r.units || []).find((p) => p.unit_id === this.panel.unit);
    const list = this.candidates(rec, r, pick?.requirement);
    return h(
      "div",
      { class: "panel", id: "swap-panel", role: "group", "aria-label": t("swap") },
      h("h3", {}, t("swap") + " " + this.panel.unit + " → " + t("candidates") + (pick ? " (" + pick.requirement + ")" : "")),
      this.candidateList(rec, list, (nu) => this.send({ kind: "swap", incident: rec.id, unit: this.panel.unit, new_unit: nu })),
      h("button", { type: "button", onclick: () => this.openPanel(null) }, t("close")),
    );
  }

  addPanel(rec, r) {
    const list = this.candidates(rec, r, "");
    const input = h("input", { type: "text", id: "add-unit-id", list: "avail-units", placeholder: t("unit_id"), "aria-label": t("unit_id") });
    const on = new Set((r.units || []).map((p) => p.unit_id));
    const avail = [...this.model.units.values()].filter((u) => u.status === "available" && !on.has(u.id));
    return h(
      "div",
      { class: "panel", id: "add-panel", role: "group", "aria-label": t("add_unit") },
      h("h3", {}, t("add_unit")),
      this.candidateList(rec, list, (nu) => this.send({ kind: "add", incident: rec.id, new_unit: nu })),
      h(
        "form",
        {
          class: "inline",
          onsubmit: (e) => {
            e.preventDefault();
            if (input.value.trim()) this.send({ kind: "add", incident: rec.id, new_unit: input.value.trim() });
          },
        },
        input,
        h("datalist", { id: "avail-units" }, avail.slice(0, 500).map((u) => h("option", { value: u.id }, teamLabel(u.team) + " " + u.capabilities.map(capName).join(",")))),
        h("button", { type: "submit" }, t("add_unit")),
        h("button", { type: "button", onclick: () => this.openPanel(null) }, t("close")),
      ),
    );
  }

  declinePanel(rec) {
    const unit = this.panel.unit;
    const input = h("input", { type: "text", id: "decline-reason", required: true, placeholder: t("reason"), "aria-label": t("reason") });
    return h(
      "form",
      {
        class: "panel",
        id: "decline-panel",
        onsubmit: (e) => {
          e.preventDefault();
          if (input.value.trim()) this.send({ kind: "decline", incident: rec.id, unit, reason: input.value.trim() });
        },
      },
      h("label", {}, t("decline_reason") + " (" + unit + ") ", input),
      h("button", { type: "submit", class: "danger" }, t("decline_unit")),
      h("button", { type: "button", onclick: () => this.openPanel(null) }, t("close")),
    );
  }

  cancelPanel(rec) {
    const input = h("input", { type: "text", id: "cancel-reason", required: true, placeholder: t("reason"), "aria-label": t("reason") });
    return h(
      "form",
      {
        class: "panel",
        id: "cancel-panel",
        onsubmit: (e) => {
          e.preventDefault();
          if (input.value.trim()) this.send({ kind: "cancel", incident: rec.id, reason: input.value.trim() });
        },
      },
      h("label", {}, t("close_reason") + " ", input),
      h("button", { type: "submit", class: "danger" }, t("cancel")),
      h("button", { type: "button", onclick: () => this.openPanel(null) }, t("close")),
    );
  }

  classifyForm(rec) {
    for (const x of this.model.incidents.values()) if (x.type_known !== false && x.type) this.typeCodes.add(x.type);
    const input = h("input", { type: "text", id: "classify-type", list: "type-codes", required: true, "aria-label": t("type") });
    return h(
      "form",
      {
        class: "panel needs-panel",
        id: "classify-form",
        onsubmit: (e) => {
          e.preventDefault();
          if (input.value.trim()) this.send({ kind: "classify", incident: rec.id, type: input.value.trim() });
        },
      },
      h("label", {}, t("why_unknown_type") + " — " + t("type") + " ", input),
      h(
        "datalist",
        { id: "type-codes" },
        [...this.typeCodes].sort().map((c) => {
          const x = this.typeNames.get(c);
          return h("option", { value: c }, x ? `P${x.priority} ${getLang() === "en" ? x.name_en : x.name_zh}` : c);
        }),
      ),
      h("button", { type: "submit", class: "primary" }, t("classify")),
    );
  }

  materialsTable(r) {
    return h(
      "table",
      { class: "materials-table" },
      h("thead", {}, h("tr", {}, [t("item"), t("depot"), t("qty"), t("eta")].map((x) => h("th", {}, x)))),
      h(
        "tbody",
        {},
        r.materials.map((m) => {
          return h("tr", {}, h("td", {}, itemName(m.item)), h("td", {}, depotName(m.depot_id)), h("td", { class: "num" }, String(m.qty)), h("td", { class: "num" }, fmtEta(m.eta_s)));
        }),
      ),
    );
  }

  renderUnits() {
    const town = this.townSel.value;
    const byTeam = new Map();
    for (const u of this.model.units.values()) {
      if (town && u.town !== town) continue;
      if (!byTeam.has(u.team)) byTeam.set(u.team, []);
      byTeam.get(u.team).push(u);
    }
    const lang = getLang();
    const teams = [...byTeam.keys()].sort();
    replace(
      this.unitsEl,
      teams.map((team) => {
        const list = byTeam.get(team).sort((a, b) => a.status.localeCompare(b.status) || a.id.localeCompare(b.id));
        const counts = {};
        for (const u of list) counts[u.status] = (counts[u.status] || 0) + 1;
        return h(
          "details",
          { class: "team", open: true, "data-team": team },
          h("summary", {}, h("strong", {}, teamLabel(team)), " ", Object.entries(counts).map(([s, n]) => h("span", { class: "st st-" + s }, `${statusLabel(s)} ${n}`))),
          h(
            "table",
            { class: "board" },
            h("tbody", {}, list.map((u) => h("tr", { "data-unit": u.id }, h("td", { class: "uid" }, u.id), h("td", { class: "st st-" + u.status }, statusLabel(u.status)), h("td", {}, townName(u.town, lang)), h("td", {}, u.incident || ""), h("td", {}, (u.capabilities || []).map(capName).join(", "))))),
          ),
        );
      }),
    );
  }

  renderLog() {
    const lang = getLang();
    const items = this.model.log.slice(-150).reverse();
    replace(
      this.logEl,
      items.map((e) => h("li", { "data-seq": String(e.seq) }, h("span", { class: "time" }, fmtTime(e.at, lang)), " ", h("span", { class: "seq" }, "#" + e.seq), " ", h("span", { class: "kind" }, eventLabel(e.kind)), " ", e.incident, e.unit ? " · " + e.unit : "")),
    );
  }
}

