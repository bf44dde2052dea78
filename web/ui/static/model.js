// model.js: the console's state as pure data and pure functions, no DOM.
// Everything here is exercised by the browser tests (web/ui/ui_test.go).

/** Incident states (dispatch/decision.go). */
export const STATE = {
  awaiting: "awaiting_confirmation",
  dispatched: "dispatched",
  manual: "manual",
  linked: "linked",
  closed: "closed",
  cancelled: "cancelled",
};

/** Event kinds on the console log (dispatch/decide.go, dispatch/escalate.go). */
export const EV = {
  dispatched: "incident.dispatched",
  recommended: "incident.recommended",
  manual: "incident.manual",
  linked: "incident.linked",
  updated: "incident.updated",
  closed: "incident.closed",
  cancelled: "incident.cancelled",
  assignment: "assignment.new",
  assignmentCancelled: "assignment.cancelled",
  escalated: "assignment.escalated",
  moveUp: "unit.moveup",
  unitStatus: "unit.status",
};

const INCIDENT_KINDS = new Set([EV.dispatched, EV.recommended, EV.manual, EV.linked, EV.updated, EV.closed, EV.cancelled]);

/** field reads a JSON field by its snake_case name or its Go name. */
export function field(o, snake, goName) {
  if (!o) return undefined;
  if (o[snake] !== undefined) return o[snake];
  return goName ? o[goName] : undefined;
}

/** unitOf normalises a unit view (GET /api/units or a unit.status event) to one shape. */
export function unitOf(u) {
  return {
    id: field(u, "id", "ID") ?? field(u, "unit_id", "UnitID") ?? "",
    team: field(u, "team", "Team") ?? "",
    name: field(u, "name", "Name") ?? "",
    capabilities: field(u, "capabilities", "Capabilities") ?? [],
    status: field(u, "status", "Status") ?? field(u, "new_status", "NewStatus") ?? "",
    lat: Number(field(u, "lat", "Lat") ?? 0),
    lng: Number(field(u, "lng", "Lng") ?? 0),
    town: field(u, "town", "Town") ?? "",
    incident: field(u, "incident", "Incident") ?? "",
    since: field(u, "since", "Since") ?? field(u, "at", "At") ?? "",
    reserve: !!field(u, "reserve", "Reserve"),
    station: field(u, "station", "Station") ?? "", // where a move-up sends it
  };
}

/** depotOf normalises a depot view (GET /api/depots). */
export function depotOf(d) {
  const loc = field(d, "location", "Location") ?? {};
  return {
    id: field(d, "id", "ID") ?? "",
    name: field(d, "name", "Name") ?? "",
    town: field(d, "town", "Town") ?? "",
    kind: field(d, "kind", "Kind") ?? "",
    lat: Number(field(loc, "lat", "Lat") ?? 0),
    lng: Number(field(loc, "lng", "Lng") ?? 0),
    available: field(d, "available", "Available") ?? {},
  };
}

function isOpen(rec) {
  return rec.state !== STATE.closed && rec.state !== STATE.cancelled;
}

/** timeOf parses an RFC 3339 time to milliseconds (0 when absent). */
export function timeOf(s) {
  const t = Date.parse(s || "");
  return Number.isFinite(t) ? t : 0;
}

/**
 * Model holds what a console knows: open incidents by id, units by id,
 * depots, escalation alerts and the activity log. Events are applied
 * idempotently: an incident record replaces the one held only when its
 * version is not older, a unit change only when it is not older, and an
 * event whose seq was already applied is ignored, so a snapshot followed by
 * events that overlap it never shows anything twice.
 */
export class Model {
  constructor() {
    /** @type {Map<string, any>} open incidents and linked calls, by id */
    this.incidents = new Map();
    /** @type {Map<string, any>} units by id */
    this.units = new Map();
    /** @type {Map<string, any>} depots by id */
    this.depots = new Map();
    /** escalation alerts not yet acknowledged */
    this.alerts = [];
    /** move-ups the engine proposes, by unit (the newest per unit) */
    this.moveUps = new Map();
    /** activity log, newest last: {seq, at, kind, incident, unit, text} */
    this.log = [];
    /** highest event seq applied */
    this.lastSeq = 0;
    /** seqs applied (dedupe), bounded */
    this.seen = new Set();
    /** assignment.new data by "incident|unit" for the team leader */
    this.picks = new Map();
    /** incidents closed or cancelled while the page was open (the newest 200), by id */
    this.closed = new Map();
  }

  /** setIncidents replaces the incident list with a REST snapshot. */
  setIncidents(list) {
    this.incidents.clear();
    for (const r of list || []) this.putIncident(r);
  }

  /** putIncident stores rec unless a newer version is already held. */
  putIncident(rec) {
    if (!rec || !rec.id) return false;
    const cur = this.incidents.get(rec.id) || this.closed.get(rec.id);
    if (cur && (cur.version ?? 0) > (rec.version ?? 0)) return false;
    if (!isOpen(rec)) {
      this.incidents.delete(rec.id);
      this.alerts = this.alerts.filter((a) => a.incident !== rec.id);
      this.closed.set(rec.id, rec);
      if (this.closed.size > 200) this.closed.delete(this.closed.keys().next().value);
      return true;
    }
    this.incidents.set(rec.id, rec);
    for (const p of rec.recommendation?.units || []) {
      const k = rec.id + "|" + p.unit_id;
      if (!this.picks.has(k) || (rec.assigned || []).includes(p.unit_id)) this.picks.set(k, p);
    }
    return true;
  }

  /** setUnits replaces the units with a REST snapshot. */
  setUnits(list) {
    this.units.clear();
    for (const u of list || []) {
      const x = unitOf(u);
      if (x.id) this.units.set(x.id, x);
    }
  }

  /** setDepots replaces the depots with a REST snapshot. */
  setDepots(list) {
    this.depots.clear();
    for (const d of list || []) {
      const x = depotOf(d);
      if (x.id) this.depots.set(x.id, x);
    }
  }

  /**
   * apply applies one event (dispatch.Event as JSON). It returns false when
   * the event was seen before (same seq), true otherwise.
   */
  apply(ev) {
    const seq = Number(ev.seq || 0);
    if (seq > 0) {
      if (this.seen.has(seq)) return false;
      this.seen.add(seq);
      if (this.seen.size > 20000) {
        const min = this.lastSeq - 10000;
        for (const s of this.seen) if (s < min) this.seen.delete(s);
      }
      if (seq > this.lastSeq) this.lastSeq = seq;
    }
    const data = ev.data || {};
    if (INCIDENT_KINDS.has(ev.kind)) {
      this.putIncident(data);
    } else if (ev.kind === EV.assignment) {
      if (data.incident) this.putIncident(data.incident);
      if (data.unit && ev.incident) this.picks.set(ev.incident + "|" + data.unit.unit_id, data.unit);
    } else if (ev.kind === EV.unitStatus) {
      const ch = unitOf(data);
      if (ch.status !== "available") this.moveUps.delete(ch.id); // moved, or busy: the proposal is done
      const cur = this.units.get(ch.id);
      if (!cur || timeOf(ch.since) >= timeOf(cur.since)) {
        this.units.set(ch.id, { ...(cur || {}), ...ch, name: cur?.name || ch.name, capabilities: cur?.capabilities?.length ? cur.capabilities : ch.capabilities });
      }
    } else if (ev.kind === EV.moveUp) {
      if (ev.unit && data.station) this.moveUps.set(ev.unit, { seq, at: ev.at, unit: ev.unit, station: data.station, message: data.message || "" });
    } else if (ev.kind === EV.escalated) {
      if (!this.alerts.some((a) => a.seq === seq)) {
        this.alerts.push({ seq, at: ev.at, incident: ev.incident || data.incident, unit: ev.unit || data.unit, waited: data.waited_s || 0, message: data.message || "" });
      }
    }
    this.log.push({ seq, at: ev.at, kind: ev.kind, incident: ev.incident || "", unit: ev.unit || "" });
    if (this.log.length > 500) this.log.splice(0, this.log.length - 500);
    return true;
  }

  /** queue returns the open incidents (not linked calls) sorted by priority then age, each with its linked calls. */
  queue() {
    const top = [];
    const linked = new Map();
    for (const r of this.incidents.values()) {
      if (r.state === STATE.linked && r.linked_to) {
        if (!linked.has(r.linked_to)) linked.set(r.linked_to, []);
        linked.get(r.linked_to).push(r);
      } else {
        top.push(r);
      }
    }
    top.sort(compareIncidents);
    const out = [];
    for (const r of top) {
      const calls = (linked.get(r.id) || []).sort(compareIncidents);
      linked.delete(r.id);
      out.push({ rec: r, calls });
    }
    // linked calls whose incident is not visible are shown on their own
    for (const calls of linked.values()) for (const c of calls) out.push({ rec: c, calls: [] });
    return out;
  }

  /** assignments returns the team's current assignments: one per (incident, unit of team). */
  assignments(team) {
    const out = [];
    for (const r of this.incidents.values()) {
      for (const uid of r.assigned || []) {
        const pick = this.picks.get(r.id + "|" + uid) || (r.recommendation?.units || []).find((p) => p.unit_id === uid);
        const unit = this.units.get(uid);
        const uteam = pick?.team || unit?.team || "";
        if (team && uteam !== team) continue;
        out.push({ rec: r, unitId: uid, pick: pick || null, unit: unit || null, accepted: (r.accepted || []).includes(uid) });
      }
    }
    out.sort((a, b) => compareIncidents(a.rec, b.rec) || a.unitId.localeCompare(b.unitId));
    return out;
  }
}

/** compareIncidents orders by priority (1 first), then by age (oldest first), then by id. */
export function compareIncidents(a, b) {
  const pa = a.priority || 9;
  const pb = b.priority || 9;
  if (pa !== pb) return pa - pb;
  const ta = timeOf(a.reported_at);
  const tb = timeOf(b.reported_at);
  if (ta !== tb) return ta - tb;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * needsAction lists why a dispatcher must act on rec: "manual", "invalid",
 * "unknown_type", "confirm", "shortfall", "escalated".
 */
export function needsAction(rec) {
  const why = [];
  const flags = rec.flags || [];
  if (rec.state === STATE.manual || flags.includes("no_location")) why.push("manual");
  if (flags.includes("invalid_record")) why.push("invalid");
  if (rec.type_known === false || flags.includes("unknown_type")) why.push("unknown_type");
  if (rec.state === STATE.awaiting) why.push("confirm");
  if ((rec.recommendation?.shortfalls || []).length > 0) why.push("shortfall");
  if ((rec.escalated || []).length > 0) why.push("escalated");
  return why;
}

/**
 * permitted keeps, of a map of button -> legal, the buttons whose action
 * kind the console's role may send: allowed is /api/config's "actions",
 * the engine's role table (dispatch.Role.Actions). Without it, all stay.
 */
function permitted(buttons, allowed) {
  if (!Array.isArray(allowed)) return buttons;
  for (const k of Object.keys(buttons)) buttons[k] = buttons[k] && allowed.includes(k);
  return buttons;
}

/**
 * dispatcherActions returns which dispatcher buttons are legal for rec
 * (cancel is the "close" button; escalate calls the city command team),
 * among the kinds the role may send (allowed, from /api/config).
 */
export function dispatcherActions(rec, allowed) {
  const s = rec.state;
  const hasRec = !!rec.recommendation;
  const open = s !== STATE.closed && s !== STATE.cancelled;
  const live = s === STATE.awaiting || s === STATE.dispatched;
  return permitted({
    confirm: s === STATE.awaiting,
    swap: hasRec && live,
    add: hasRec && live,
    escalate: live && !!(rec.lat || rec.lng),
    cancel: open,
    classify: open && (rec.type_known === false || (rec.flags || []).includes("unknown_type")),
    locate: s === STATE.manual,
  }, allowed);
}

/**
 * unitDeclinable reports whether a dispatcher may decline unit of rec: it
 * is assigned and not moving yet (status is "" while units are loading).
 */
export function unitDeclinable(rec, unitId, status) {
  return rec.state === STATE.dispatched && (rec.assigned || []).includes(unitId) && (!status || status === "dispatched");
}

/**
 * leaderActions returns which team-leader steps are expected for a unit in
 * status, accepted or not (the unit status machine of teams). The status
 * buttons stay usable: the server answers an illegal change with its error.
 * Only kinds the role may send (allowed, from /api/config) are offered.
 */
export function leaderActions(status, accepted, allowed) {
  return permitted({
    accept: status === "dispatched" && !accepted,
    decline: status === "dispatched",
    en_route: status === "dispatched",
    on_scene: status === "en_route",
    returning: status === "on_scene",
    available: status === "on_scene" || status === "returning" || status === "out_of_service" || status === "relocating",
  }, allowed);
}

/** fmtEta formats seconds as m:ss (h:mm:ss past an hour). */
export function fmtEta(s) {
  if (!Number.isFinite(s) || s < 0) return "–";
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** fmtKm formats metres as kilometres with one decimal. */
export function fmtKm(m) {
  if (!Number.isFinite(m)) return "–";
  return (m / 1000).toFixed(1) + " km";
}

const fmtCache = new Map();

/** fmtTime formats an RFC 3339 time in Asia/Shanghai (HH:MM:SS), lang "zh" or "en". */
export function fmtTime(s, lang, withDate) {
  const t = timeOf(s);
  if (!t) return "";
  const key = lang + (withDate ? "d" : "");
  if (!fmtCache.has(key)) {
    const opts = { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
    if (withDate) Object.assign(opts, { year: "numeric", month: "2-digit", day: "2-digit" });
    fmtCache.set(key, new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "zh-CN", opts));
  }
  return fmtCache.get(key).format(new Date(t));
}

/** fmtAge formats the age of an RFC 3339 time relative to now (ms) as m:ss. */
export function fmtAge(s, now) {
  const t = timeOf(s);
  if (!t) return "";
  return fmtEta(Math.max(0, (now - t) / 1000));
}

/**
 * Sequencer checks the websocket's event stream: every event's prev must be
 * the seq of the previous event on the same connection; events already seen
 * (seq <= last) are dropped.
 */
export class Sequencer {
  /** @param {number} last the last seq the console has applied */
  constructor(last) {
    this.last = last || 0;
    this.connLast = -1; // no event yet on this connection
  }

  /** reset starts a new connection resuming after last. */
  reset() {
    this.connLast = -1;
  }

  /**
   * check returns "ok" (apply it), "dup" (drop it) or "gap" (reconnect and
   * resume after this.last) for a message {seq, prev}.
   */
  check(msg) {
    const seq = Number(msg.seq);
    const prev = Number(msg.prev ?? 0);
    if (this.connLast >= 0 && prev !== this.connLast) return "gap";
    if (this.connLast < 0 && this.last > 0 && prev > this.last) return "gap";
    this.connLast = seq;
    if (seq <= this.last) return "dup";
    this.last = seq;
    return "ok";
  }
}
