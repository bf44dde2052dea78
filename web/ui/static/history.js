// history.js: the timeline of an incident in the dispatcher's detail: who
// did what and when (GET /api/incidents/{id}/history), every entry by name
// in the chosen language (names.js).

import { h } from "./dom.js";
import { t, getLang } from "./i18n.js";
import { fmtTime } from "./model.js";
import { actionName, stateName, statusName, typeName } from "./names.js";
import { locatedText } from "./locate.js";

const ENGINE = {
  decided: ["系统决策", "decided by the engine"],
  linked: ["关联了重复来电", "a duplicate call was linked"],
  linked_to: ["作为重复来电关联", "linked as a duplicate call"],
  updated: ["系统更新", "updated by the engine"],
  closed: ["全部单位完成，结案", "closed: every unit cleared"],
  cancelled: ["已撤销", "cancelled"],
  late: ["超时未接单", "not accepted in time"],
  unit_status: ["单位状态", "unit status"],
};

const en = () => getLang() === "en";
const pick = (pair) => pair[en() ? 1 : 0];

/** who names the author of an entry: the person, the terminal or the engine. */
function who(e) {
  if (e.by === "terminal") return en() ? "vehicle terminal" : "车载终端";
  if (!e.by) return en() ? "engine" : "系统";
  return e.by;
}

/** what says an entry in words. */
export function entryText(e) {
  const parts = [];
  if (ENGINE[e.what]) parts.push(pick(ENGINE[e.what]));
  else parts.push(actionName(e.what));
  if (e.what === "unit_status") parts.push(`${e.unit}: ${statusName(e.from)} → ${statusName(e.to)}`);
  else if (e.unit) parts.push(e.unit);
  if (e.new_unit) parts.push("→ " + e.new_unit);
  if (e.type) parts.push(typeName(e.type));
  if (e.what === "locate" && (e.lat || e.lng)) parts.push(`${Number(e.lat).toFixed(5)}, ${Number(e.lng).toFixed(5)}`);
  if (e.what === "locate" && e.located) parts.push("(" + locatedText(e.located) + ")");
  if (e.other) parts.push(e.other);
  if (e.station) parts.push(e.station);
  if (e.what === "decided") parts.push("(" + stateName(e.state) + ")");
  return parts.join(" ");
}

/** timeline renders the entries, oldest first, as an ordered list. */
export function timeline(entries) {
  const lang = getLang();
  return h(
    "ol",
    { class: "timeline" },
    entries.map((e) =>
      h(
        "li",
        { class: "hist hist-" + e.what, "data-what": e.what },
        h("span", { class: "time" }, fmtTime(e.at, lang)),
        " ",
        h("span", { class: "by" }, who(e)),
        " · ",
        h("span", { class: "what" }, entryText(e)),
        e.reason ? h("span", { class: "reason" }, (en() ? " — reason: " : " —原因：") + e.reason) : null,
      ),
    ),
  );
}

/**
 * History fetches and caches the history of the incident the detail shows:
 * section(rec) returns the section to put in the detail, filled when the
 * history of that version has arrived (onLoad is then called to redraw).
 */
export class History {
  /** @param {(id: string) => Promise<any[]>} fetcher @param {() => void} onLoad */
  constructor(fetcher, onLoad) {
    this.fetcher = fetcher;
    this.onLoad = onLoad;
    this.key = "";
    this.entries = null;
    this.loading = "";
  }

  section(rec) {
    const key = rec.id + "|" + rec.version;
    if (key !== this.key && this.loading !== key) {
      this.loading = key;
      this.fetcher(rec.id)
        .then((list) => {
          if (this.loading !== key) return;
          this.key = key;
          this.entries = Array.isArray(list) ? list : [];
          this.onLoad();
        })
        .catch(() => {
          if (this.loading === key) this.loading = "";
        });
    }
    const mine = this.entries && this.key.startsWith(rec.id + "|");
    return h("section", { id: "history", class: "history", "data-version": mine ? this.key.split("|").pop() : "" }, h("h3", {}, t("history")), mine ? timeline(this.entries) : h("p", { class: "hint" }, t("loading")));
  }
}
