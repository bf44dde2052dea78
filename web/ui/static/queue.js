// queue.js: the dispatcher's incident queue for a busy shift (hundreds of
// open incidents): counts per state, filters by priority, town, type and
// state, a search by id or address, and a layout that holds for any age
// (past 24 h the reported date and time are shown instead of a counter) and
// any town name (one line, cut with an ellipsis). The pure functions
// (filterQueue, stateCounts, fmtWait) are tested in the browser (TestBusyModel).

import { h, replace, prioBadge } from "./dom.js";
import { t, getLang, stateLabel } from "./i18n.js";
import { TOWNS, townName } from "./towns.js";
import { needsAction, fmtEta, fmtTime, timeOf } from "./model.js";
import { typeName } from "./names.js";

const W = {
  all: ["全部", "all"],
  all_prio: ["全部优先级", "all priorities"],
  all_towns: ["全部镇区", "all towns"],
  all_types: ["全部类型", "all types"],
  all_states: ["全部状态", "all states"],
  search: ["搜索编号或地址", "search id or address"],
  shown: ["显示 {n} / {m}", "showing {n} of {m}"],
  none_match: ["没有符合筛选条件的警情", "No incident matches the filters"],
  clear: ["清除筛选", "clear filters"],
  open_total: ["未结警情", "open"],
  needs: ["需处理", "needs action"],
  filters: ["筛选", "Filters"],
};

/** w returns the queue's label for key in the current language. */
function w(key, vars) {
  const e = W[key];
  let s = e ? e[getLang() === "en" ? 1 : 0] : key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split("{" + k + "}").join(String(v));
  return s;
}

/** QUEUE_STATES: the states an open incident of the queue can be in, in the order the counts show them. */
export const QUEUE_STATES = ["manual", "awaiting_confirmation", "dispatched", "linked"];

/** emptyFilter is the filter that keeps everything. */
export function emptyFilter() {
  return { prio: "", town: "", type: "", state: "", q: "" };
}

/**
 * matches reports whether an incident record passes the filter: priority
 * (1..4), town code, type code, state (or "needs": anything needing the
 * dispatcher), and q: a case-insensitive part of its id or address.
 */
export function matches(rec, f) {
  if (f.prio && String(rec.priority || 4) !== String(f.prio)) return false;
  if (f.town && rec.town !== f.town) return false;
  if (f.type && rec.type !== f.type) return false;
  if (f.state === "needs") {
    if (needsAction(rec).length === 0) return false;
  } else if (f.state && rec.state !== f.state) return false;
  const q = (f.q || "").trim().toLowerCase();
  if (q && !String(rec.id || "").toLowerCase().includes(q) && !String(rec.address || "").toLowerCase().includes(q)) return false;
  return true;
}

/**
 * filterQueue keeps the queue groups ({rec, calls}, Model.queue()) whose
 * incident or one of whose linked calls passes the filter; a group kept
 * for a call keeps all its calls, so the call stays under its incident.
 */
export function filterQueue(groups, f) {
  if (!f || (!f.prio && !f.town && !f.type && !f.state && !(f.q || "").trim())) return groups;
  return groups.filter((g) => matches(g.rec, f) || g.calls.some((c) => matches(c, f)));
}

/**
 * stateCounts counts the queue's incidents (linked calls included) by
 * state, with "total" and "needs" (needing the dispatcher).
 */
export function stateCounts(groups) {
  const out = { total: 0, needs: 0 };
  for (const s of QUEUE_STATES) out[s] = 0;
  const add = (r) => {
    out.total++;
    out[r.state] = (out[r.state] || 0) + 1;
    if (needsAction(r).length) out.needs++;
  };
  for (const g of groups) {
    add(g.rec);
    for (const c of g.calls) add(c);
  }
  return out;
}

const DAY_S = 24 * 3600;

/**
 * fmtWait is how long an incident has waited, for the queue: m:ss or
 * h:mm:ss under a day; past 24 h when it was reported (Asia/Shanghai):
 * "05-31 20:14" within the year, "2013-05-31" before, so a call of long
 * ago never reads "118380:55:27".
 */
export function fmtWait(reported, now) {
  const at = timeOf(reported);
  if (!at) return "";
  const s = Math.max(0, (now - at) / 1000);
  if (s < DAY_S) return fmtEta(s);
  const p = shanghaiParts(at);
  if (s < 330 * DAY_S) return `${p.month}-${p.day} ${p.hour}:${p.minute}`;
  return `${p.year}-${p.month}-${p.day}`;
}

let partsFmt = null;

/** shanghaiParts returns the two-digit parts of a time (ms) in Asia/Shanghai. */
function shanghaiParts(ms) {
  if (!partsFmt) partsFmt = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const out = {};
  for (const x of partsFmt.formatToParts(new Date(ms))) out[x.type] = x.value;
  return out;
}

/** QueueView is the queue pane of the dispatcher's console. */
export class QueueView {
  /**
   * @param {{model: any, selected: string, flash: Map<string, number>, select: Function, typeNames: Map<string, any>}} view the dispatcher's view
   */
  constructor(view) {
    this.view = view;
    this.filter = emptyFilter();
    this.el = null;
  }

  /** typeLabel is the name of a type code in the current language (names.js; the code when unknown). */
  typeLabel(code) {
    return typeName(code) || "?";
  }

  /** build returns the pane: heading, counts, filters, the list. */
  build() {
    this.countsEl = h("div", { id: "queue-counts", class: "qcounts", role: "group", "aria-label": t("queue") });
    const sel = (id, label, options, key) => {
      const s = h(
        "select",
        {
          id,
          "aria-label": label,
          onchange: () => {
            this.filter[key] = s.value;
            this.view.render();
          },
        },
        options.map(([v, text]) => h("option", { value: v }, text)),
      );
      s.value = this.filter[key];
      return s;
    };
    const lang = getLang();
    this.prioSel = sel("qf-prio", t("priority"), [["", w("all_prio")], ...[1, 2, 3, 4].map((p) => [String(p), "P" + p])], "prio");
    this.townSel = sel("qf-town", t("town"), [["", w("all_towns")], ...TOWNS.map((x) => [x.code, townName(x.code, lang)])], "town");
    const types = [...this.view.typeNames.values()].sort((a, b) => (a.priority || 9) - (b.priority || 9) || this.typeLabel(a.code).localeCompare(this.typeLabel(b.code)));
    this.typeSel = sel("qf-type", t("type"), [["", w("all_types")], ...types.map((x) => [x.code, this.typeLabel(x.code)])], "type");
    this.stateSel = sel("qf-state", t("state"), [["", w("all_states")], ["needs", w("needs")], ...QUEUE_STATES.map((s) => [s, stateLabel(s)])], "state");
    this.search = h("input", {
      type: "search",
      id: "qf-search",
      placeholder: w("search"),
      "aria-label": w("search"),
      value: this.filter.q,
      oninput: () => {
        this.filter.q = this.search.value;
        this.view.render();
      },
    });
    this.shownEl = h("p", { id: "queue-shown", class: "hint qshown", "aria-live": "polite" });
    this.listEl = h("ol", { id: "queue", class: "queue", role: "listbox", "aria-label": t("queue") });
    this.el = h(
      "section",
      { class: "queue-pane" },
      h("h2", {}, t("queue")),
      this.countsEl,
      h("div", { class: "qfilters", role: "search", "aria-label": w("filters") }, this.search, this.prioSel, this.townSel, this.typeSel, this.stateSel),
      this.shownEl,
      h("div", { class: "queue-scroll" }, this.listEl),
    );
    return this.el;
  }

  /** groups returns the queue groups that pass the filter. */
  groups() {
    return filterQueue(this.view.model.queue(), this.filter);
  }

  setFilter(key, value) {
    this.filter[key] = value;
    const s = { prio: this.prioSel, town: this.townSel, type: this.typeSel, state: this.stateSel, q: this.search }[key];
    if (s) s.value = value;
    this.view.render();
  }

  renderCounts(all) {
    const c = stateCounts(all);
    const chip = (key, label, n, cls) =>
      h(
        "button",
        {
          type: "button",
          class: "qcount " + cls + (this.filter.state === key ? " on" : ""),
          "data-state": key || "all",
          "aria-pressed": String(this.filter.state === key),
          onclick: () => this.setFilter("state", this.filter.state === key ? "" : key),
        },
        h("span", { class: "qn" }, String(n)),
        " ",
        label,
      );
    replace(
      this.countsEl,
      chip("", w("open_total"), c.total, "qc-all"),
      chip("needs", w("needs"), c.needs, "qc-needs"),
      QUEUE_STATES.map((s) => chip(s, stateLabel(s), c[s] || 0, "qc-" + s)),
    );
  }

  /** render redraws the counts and the list. */
  render() {
    const v = this.view;
    const now = Date.now();
    const all = v.model.queue();
    const groups = filterQueue(all, this.filter);
    this.renderCounts(all);
    let n = 0;
    for (const g of groups) n += 1 + g.calls.length;
    let m = 0;
    for (const g of all) m += 1 + g.calls.length;
    this.shownEl.textContent = n === m ? "" : w("shown", { n, m });
    const hadFocus = this.listEl.contains(document.activeElement);
    if (groups.length === 0) {
      replace(
        this.listEl,
        all.length === 0
          ? h("li", { class: "empty" }, t("no_incidents"))
          : h("li", { class: "empty" }, w("none_match"), " ", h("button", { type: "button", id: "qf-clear", onclick: () => this.clear() }, w("clear"))),
      );
      return;
    }
    const lang = getLang();
    const ages = [];
    const itemKey = (rec) => {
      const fl = v.flash.get(rec.id);
      return [rec.version, rec.state, rec.id === v.selected, !!(fl && fl > now), (rec.flags || []).join(","), (rec.escalated || []).length, rec.priority, rec.type, rec.town].join("~");
    };
    const item = (rec, isCall) => {
      const why = needsAction(rec);
      const fl = v.flash.get(rec.id);
      const flashing = fl && fl > now;
      const cls = ["item", "p" + (rec.priority || 4), why.length ? "needs" : "", flashing ? "flash" : "", rec.id === v.selected ? "selected" : "", isCall ? "call" : ""].filter(Boolean).join(" ");
      const town = townName(rec.town, lang);
      const age = h("span", { class: "age", title: t("age") + " · " + fmtTime(rec.reported_at, lang, true) });
      ages.push([age, rec.reported_at]);
      return h(
        "li",
        {
          class: cls,
          role: "option",
          tabindex: "0",
          "data-id": rec.id,
          "aria-selected": String(rec.id === v.selected),
          onclick: (e) => {
            e.stopPropagation();
            v.select(rec.id, false);
          },
          onkeydown: (e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              e.stopPropagation();
              v.select(rec.id, true);
            }
          },
        },
        h("div", { class: "row1" }, prioBadge(rec.priority), h("span", { class: "type", title: this.typeLabel(rec.type) }, this.typeLabel(rec.type)), h("span", { class: "town", title: town }, town), age),
        h("div", { class: "row2" }, h("span", { class: "iid" }, rec.id), " ", h("span", { class: "state s-" + rec.state }, stateLabel(rec.state)), rec.address ? h("span", { class: "addr", title: rec.address }, " · " + rec.address) : null),
        why.length ? h("div", { class: "why" }, why.map((x) => h("span", { class: "tag tag-" + x }, t("why_" + x)))) : null,
      );
    };
    // Cards are kept between renders and rebuilt only when their incident
    // (or a linked call) changed: with hundreds of incidents a render is
    // then the ages and the order, not the whole list.
    if (this.cacheLang !== lang) {
      this.cache = new Map();
      this.cacheLang = lang;
    }
    const next = new Map();
    const lis = [];
    for (const g of groups) {
      const key = itemKey(g.rec) + "|" + g.calls.map(itemKey).join("|") + "|" + g.calls.map((c) => c.id).join(",");
      let c = this.cache.get(g.rec.id);
      if (!c || c.key !== key) {
        ages.length = 0;
        const li = item(g.rec, false);
        if (g.calls.length) li.appendChild(h("ol", { class: "calls", "aria-label": t("linked_calls") }, g.calls.map((x) => item(x, true))));
        c = { key, li, ages: ages.slice() };
      }
      next.set(g.rec.id, c);
      lis.push(c.li);
    }
    this.cache = next;
    for (const c of next.values()) {
      for (const [el, at] of c.ages) {
        const text = fmtWait(at, now);
        if (el.textContent !== text) el.textContent = text;
      }
    }
    const kids = this.listEl.children;
    let same = kids.length === lis.length;
    for (let i = 0; same && i < lis.length; i++) same = kids[i] === lis[i];
    if (!same) replace(this.listEl, lis);
    if (hadFocus && v.selected) {
      const li = this.listEl.querySelector(`[data-id="${CSS.escape(v.selected)}"]`);
      if (li && document.activeElement !== li) li.focus();
    }
  }

  clear() {
    this.filter = emptyFilter();
    for (const s of [this.prioSel, this.townSel, this.typeSel, this.stateSel, this.search]) s.value = "";
    this.view.render();
  }
}
