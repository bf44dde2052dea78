// names.js: names, not codes. Every catalogue code a console shows (incident
// types, capabilities, materials, depots, teams, towns, unit statuses,
// incident states, flags) goes through here and is shown by its name in the
// chosen language, from GET /api/config (useNames). Reasons and server
// errors travel as a code with parameters ({"code":"eta","eta_s":226,
// "distance_m":1200}, docs/protocol.md "why"); whyText renders them.
//
// API (stable; other views import it):
//   useNames(cfg)            take the names of GET /api/config
//   typeName(code)           incident type
//   capName(code)            unit capability
//   itemName(code)           material
//   depotName(id)            depot
//   teamLabel(id)            team
//   townLabel(code)          town
//   statusName(s)            unit status
//   stateName(s)             incident state
//   flagName(f)              incident flag
//   invalidName(code)        why intake refused a record (dead-letter reason)
//   actionName(kind)         an action kind (confirm, swap, en_route...)
//   durText(seconds)         a duration ("3分46秒", "3m46s")
//   whyText(why)             one reason {code, ...params}
//   pickReasons(pick)        the reasons of a unit pick, joined
//   shortfallText(sf)        a shortfall in words
//   errorText(err)           a server error (HTTPError or {error, reason})
//   knownCodes()             every catalogue code (the tests scan for them)

import { t, getLang, statusLabel, stateLabel } from "./i18n.js";
import { townName, teamName } from "./towns.js";

const maps = { type: new Map(), cap: new Map(), item: new Map(), depot: new Map() };

const en = () => getLang() === "en";
const pick2 = (x, code) => (x ? (en() ? x.en : x.zh) || code : code || "");

/** useNames takes the names of GET /api/config (types, capabilities, items, depots). */
export function useNames(cfg) {
  const put = (m, list, key) => {
    for (const x of list || []) {
      if (x && x[key]) m.set(x[key], { zh: x.name_zh || x.name_en || x[key], en: x.name_en || x.name_zh || x[key] });
    }
  };
  put(maps.type, cfg && cfg.types, "code");
  put(maps.cap, cfg && cfg.capabilities, "code");
  put(maps.item, cfg && cfg.items, "code");
  put(maps.depot, cfg && cfg.depots, "id");
}

/** typeName returns the name of an incident type. */
export const typeName = (code) => pick2(maps.type.get(code), code);
/** capName returns the name of a unit capability. */
export const capName = (code) => pick2(maps.cap.get(code), code);
/** itemName returns the name of a material. */
export const itemName = (code) => pick2(maps.item.get(code), code);
/** depotName returns the name of a depot. */
export const depotName = (id) => pick2(maps.depot.get(id), id);
/** teamLabel returns the name of a team. */
export const teamLabel = (id) => teamName(id, getLang());
/** townLabel returns the name of a town. */
export const townLabel = (code) => townName(code, getLang());
/** statusName returns the name of a unit status. */
export const statusName = (s) => statusLabel(s);
/** stateName returns the name of an incident state. */
export const stateName = (s) => stateLabel(s);

const FLAGS = {
  unknown_type: ["类型未知", "unknown type"],
  no_location: ["无位置", "no location"],
  outside_city: ["市域外", "outside the city"],
  shortfall: ["资源不足", "shortfall"],
  invalid_record: ["记录有误", "invalid record"],
};

/** flagName returns the name of an incident flag. */
export const flagName = (f) => (FLAGS[f] ? FLAGS[f][en() ? 1 : 0] : f || "");

const INVALID = {
  bad_json: ["记录不是有效的 JSON（可能被截断或含 NaN）", "not valid JSON (truncated, or NaN)"],
  invalid_utf8: ["记录不是有效的 UTF-8 文本", "not valid UTF-8 text"],
  missing_field: ["缺少必填字段", "a required field is missing"],
  bad_field: ["字段类型或取值有误", "a field has a wrong type or value"],
  bad_location: ["位置缺失或有误", "the location is missing or wrong"],
  oversized: ["记录过大", "the record is too large"],
};

/** invalidName says why intake refused a record, from its dead-letter reason code. */
export const invalidName = (code) => (INVALID[code] ? INVALID[code][en() ? 1 : 0] : en() ? "refused record" : "记录被拒收");

const ACTION_KEYS = { confirm: "confirm", swap: "swap", add: "add_unit", cancel: "cancel", escalate: "escalate", decline: "decline", classify: "classify", locate: "locate", accept: "accept", en_route: "en_route", on_scene: "on_scene", clear: "clear", returning: "returning", available: "available", relocate: "relocate" };

/** actionName returns the label of an action kind. */
export const actionName = (k) => (ACTION_KEYS[k] ? t(ACTION_KEYS[k]) : k || "");

/** durText formats seconds as a duration ("3分46秒" / "3m46s"); Infinity: no target. */
export function durText(s) {
  if (!Number.isFinite(Number(s))) return en() ? "no target" : "无时限";
  let n = Math.round(Number(s));
  const h = Math.floor(n / 3600);
  n %= 3600;
  const m = Math.floor(n / 60);
  const sec = n % 60;
  if (en()) return (h ? h + "h" : "") + (h || m ? m + "m" : "") + sec + "s";
  return (h ? h + "小时" : "") + (h || m ? m + "分" : "") + sec + "秒";
}

const km = (m) => (Number(m || 0) / 1000).toFixed(1) + " km";
const unitOrNone = (u) => u || (en() ? "a unit" : "某单位");

// [zh, en] renderers per reason code; w is the Why.
const WHY = {
  eta: (w) => {
    const src = {
      learned: [`（据 ${w.trips} 次出车学习）`, ` (learned from ${w.trips} ${w.trips === 1 ? 'trip' : 'trips'})`],
      matrix: ['（机构行程时间表）', ' (agency matrix)'],
      override: ['（已知行程时间）', ' (known travel time)'],
    }[w.source] || ['', ''];
    return [`预计 ${durText(w.eta_s)} 到达，距离 ${km(w.distance_m)}${src[0]}`, `ETA ${durText(w.eta_s)} over ${km(w.distance_m)}${src[1]}`];
  },
  substitute: (w) => [`替代${capName(w.capability)}`, `substitute for ${capName(w.capability)}`],
  reserve: (w) => [`预备队（含 ${durText(w.activation_s)} 集结时间）：专业队伍无法在 P${w.priority} 时限 ${durText(w.target_s)} 内到达`, `reserve team, ${durText(w.activation_s)} activation included: professionals cannot cover within the P${w.priority} target of ${durText(w.target_s)}`],
  coverage: (w) => [`覆盖代价 ${durText(w.cost_s)}：${townLabel(w.town)}该能力最后一个可用单位`, `coverage cost ${durText(w.cost_s)}: last available unit of a capability in ${townLabel(w.town)}`],
  first: (w) => [`先期到场：比第一辆${capName(w.capability)}早 ${durText(w.ahead_s)}（其预计 ${durText(w.eta_s)}）${w.priority ? `，后者超出 P${w.priority} 时限 ${durText(w.target_s)}` : ""}`, `first responder: ${durText(w.ahead_s)} ahead of the first ${capName(w.capability)} (ETA ${durText(w.eta_s)})${w.priority ? `, which misses the P${w.priority} target of ${durText(w.target_s)}` : ""}`],
  first_none: (w) => [`先期到场：目前没有${capName(w.capability)}可以前往`, `first responder: no ${capName(w.capability)} can come now`],
  queue: () => ["从排队中补派：预案缺少此单位", "assigned from the queue: the plan was missing this unit"],
  reranked: () => ["已重新推荐：原推荐单位已被派往他处", "re-ranked: a recommended unit was taken elsewhere"],
  reranked_confirm: () => ["确认时重新推荐：原推荐单位已被派往他处", "re-ranked at confirmation: a recommended unit was taken elsewhere"],
  swapped_in: (w) => [`由 ${w.by || "调度员"} 换入`, `swapped in by ${w.by || "a dispatcher"}`],
  added: (w) => [`由 ${w.by || "调度员"} 增派`, `added by ${w.by || "a dispatcher"}`],
  replaces: (w) => [`替换 ${w.unit}（退回原因：${w.reason || "—"}）`, `replaces ${w.unit} (declined: ${w.reason || "—"})`],
  diverted: (w) => [`从 P${w.priority} 警情 ${w.incident} 改派：无单位能在时限内到达此一级警情`, `diverted from P${w.priority} incident ${w.incident}: no unit reached this P1 within its target`],
  no_unit: (w) => [`没有可用的${capName(w.capability)}${(w.substitutes || []).length ? "或替代（" + w.substitutes.map(capName).join("、") + "）" : ""}`, `no available ${capName(w.capability)}${(w.substitutes || []).length ? " or substitute (" + w.substitutes.map(capName).join(", ") + ")" : ""}`],
  no_stock: (w) => [`各仓库${itemName(w.item)}仅有 ${w.have || 0}，需要 ${w.need || 0}`, `only ${w.have || 0} of ${w.need || 0} ${itemName(w.item)} in all depots`],
  diverted_away: (w) => [`单位 ${w.unit} 已改派至一级警情 ${w.incident}`, `unit ${w.unit} diverted to P1 incident ${w.incident}`],
  command_team: (w) => [`${w.by ? "由 " + w.by + " " : ""}升级：市应急指挥队`, `escalated${w.by ? " by " + w.by : ""}: the city command team`],
  bad_state: (w) => [`警情 ${w.incident || ""} 当前为「${stateName(w.state)}」，不能执行此操作`, `incident ${w.incident || ""} is ${stateName(w.state)}: not possible now`],
  unit_busy: (w) => [`单位 ${unitOrNone(w.unit)} 当前为「${statusName(w.status)}」，不可调派`, `unit ${unitOrNone(w.unit)} is ${statusName(w.status)}, not available`],
  not_on_incident: (w) => [`单位 ${unitOrNone(w.unit)} 不在警情 ${w.incident || ""} 上`, `unit ${unitOrNone(w.unit)} is not on incident ${w.incident || ""}`],
  already_on_incident: (w) => [`单位 ${unitOrNone(w.unit)} 已在此警情上`, `unit ${unitOrNone(w.unit)} is already on this incident`],
  already_on_scene: (w) => [`单位 ${unitOrNone(w.unit)} 已到场`, `unit ${unitOrNone(w.unit)} is already on scene`],
  already_accepted: (w) => [`单位 ${unitOrNone(w.unit)} 已接受`, `unit ${unitOrNone(w.unit)} already accepted`],
  already_status: (w) => [`单位 ${unitOrNone(w.unit)} 已是「${statusName(w.status)}」`, `unit ${unitOrNone(w.unit)} is already ${statusName(w.status)}`],
  illegal_transition: (w) => [`单位 ${unitOrNone(w.unit)} 不能从「${statusName(w.from)}」变为「${statusName(w.to)}」`, `unit ${unitOrNone(w.unit)} cannot go from ${statusName(w.from)} to ${statusName(w.to)}`],
  unknown_type: () => ["未知的警情类型", "unknown incident type"],
  unknown_unit: (w) => [`没有单位 ${w.unit || ""}`, `no unit ${w.unit || ""}`],
  no_command_unit: () => ["市应急指挥队没有可用单位", "no available unit of the city command team"],
  no_location: () => ["警情没有位置：请先定位", "the incident has no location: locate it first"],
  decline_instead: (w) => [`单位 ${unitOrNone(w.unit)} 在警情 ${w.incident || ""} 上为「${statusName(w.status)}」：请填写原因退回指派`, `unit ${unitOrNone(w.unit)} is ${statusName(w.status)} on incident ${w.incident || ""}: decline the assignment with a reason instead`],
  changed: () => ["推荐已变化：请查看新的推荐", "the recommendation changed: check the new one"],
  other_team: (w) => [`单位 ${unitOrNone(w.unit)} 属于其他队伍`, `unit ${unitOrNone(w.unit)} belongs to another team`],
  forbidden: () => ["无权执行此操作", "not allowed for this console"],
  not_found: () => ["没有找到", "not found"],
  bad_action: () => ["操作不被接受", "the action was refused"],
  bad_request: () => ["请求格式有误", "malformed request"],
  rate_limited: () => ["操作过于频繁，请稍候", "too many requests: wait a moment"],
  internal: () => ["服务器内部错误", "internal error"],
};

/** whyText renders one reason ({code, ...params}) in the current language. */
export function whyText(w) {
  if (!w || !w.code) return "";
  const f = WHY[w.code];
  if (!f) return en() ? "other reason" : "其他原因";
  return f(w)[en() ? 1 : 0];
}

/** pickReasons renders the reasons of a unit pick (its why codes), joined. */
export function pickReasons(p) {
  if (p && Array.isArray(p.why) && p.why.length) return p.why.map(whyText).join(en() ? "; " : "；");
  return "";
}

/** shortfallText says a shortfall in words: what is missing and why. */
export function shortfallText(sf) {
  const n = sf.missing || 0;
  const why = sf.why ? whyText(sf.why) : "";
  if (sf.kind === "material") {
    const what = itemName(sf.what);
    return en() ? `${n} ${what} short${why ? ": " + why : ""}` : `${what}缺 ${n}${why ? "：" + why : ""}`;
  }
  const what = capName(sf.what);
  return en() ? `${n} × ${what} short${why ? ": " + why : ""}` : `缺 ${n} 个${what}${why ? "：" + why : ""}`;
}

/**
 * errorText renders a server error: its reason code when it has one (an
 * HTTPError of api.js, or a body {error, reason}), else a generic word by
 * HTTP status. The English text of the server is never shown in Chinese.
 */
export function errorText(err) {
  const reason = err && (err.reason || (err.body && err.body.reason));
  if (reason && reason.code) return whyText(reason);
  const st = err && err.status;
  if (st === 403) return whyText({ code: "forbidden" });
  if (st === 404) return whyText({ code: "not_found" });
  if (st === 400) return whyText({ code: "bad_request" });
  if (st === 429) return whyText({ code: "rate_limited" });
  if (st >= 500) return whyText({ code: "internal" });
  if (st) return whyText({ code: "bad_action" });
  return en() ? "no connection to the server" : "无法连接服务器";
}

/** knownCodes returns every catalogue code the names cover (for tests). */
export function knownCodes() {
  return {
    types: [...maps.type.keys()],
    capabilities: [...maps.cap.keys()],
    items: [...maps.item.keys()],
    reasons: Object.keys(WHY),
    flags: Object.keys(FLAGS),
    invalid: Object.keys(INVALID),
  };
}
