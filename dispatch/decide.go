package dispatch

import (
	"maps"
	"slices"
	"time"

	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

// Event kinds on the console log (see docs/protocol.md).
const (
	EvIncidentDispatched  = "incident.dispatched"  // units assigned
	EvIncidentRecommended = "incident.recommended" // P3/P4: waiting for a dispatcher
	EvIncidentManual      = "incident.manual"      // cannot be decided automatically
	EvIncidentLinked      = "incident.linked"      // a duplicate call linked to an open incident
	EvIncidentUpdated     = "incident.updated"     // any later change
	EvIncidentClosed      = "incident.closed"      // every unit cleared
	EvIncidentCancelled   = "incident.cancelled"   // cancelled by a dispatcher
	EvAssignment          = "assignment.new"       // a unit was assigned: to its team leader
	EvAssignmentCancelled = "assignment.cancelled" // a unit was released from an incident before clearing
	EvUnitStatus          = "unit.status"          // a unit changed status
	// EvMoveUp: a move-up the engine proposes (EngineConfig.MoveUp
	// "recommend": a dispatcher confirms with ActRelocate) or made ("auto"):
	// the event's Unit goes to wait at Body.Station; Body.Message says why.
	EvMoveUp = "unit.moveup"
)

// Incident flags.
const (
	FlagUnknownType = "unknown_type"   // decided with the fallback plan: classify it
	FlagNoLocation  = "no_location"    // no usable location: handle manually
	FlagOutsideCity = "outside_city"   // location outside every town
	FlagShortfall   = "shortfall"      // part of the plan could not be covered
	FlagInvalid     = "invalid_record" // intake refused part of the record: handle manually
)

func (e *Engine) family(code string) string {
	if t, ok := e.types[code]; ok && t.Family != "" {
		return t.Family
	}
	return code
}

func pointOf(lat, lng float64) geo.Point { return geo.Point{Lat: lat, Lng: lng} }

// decide makes the first decision on a new incident and applies it to the
// world. It returns the outcomes to store: the incident's own and, for a
// linked duplicate, the update of the incident it is linked to.
func (e *Engine) decide(w *world, inc *Incident) []*Outcome {
	now := e.cfg.Clock()
	rec := &IncidentRecord{Incident: *inc, TypeKnown: true, DecidedAt: now, UpdatedAt: now, Version: 1}
	rec.Materials = maps.Clone(inc.Materials)
	typ, ok := e.types[inc.Type]
	if !ok {
		typ = e.types[e.sc.Fallback]
		rec.TypeKnown = false
		rec.Flags = append(rec.Flags, FlagUnknownType)
	}
	if rec.Priority < 1 || rec.Priority > 4 {
		rec.Priority = typ.Priority
	}
	out := &Outcome{Drill: w.drill, Incident: rec, NewIncident: true}
	if inc.Invalid != "" {
		rec.Flags = append(rec.Flags, FlagInvalid)
	}
	if !inc.HasLocation || inc.Invalid != "" {
		rec.State = StateManual
		if !inc.HasLocation {
			rec.Flags = append(rec.Flags, FlagNoLocation)
		}
		w.open[rec.ID] = rec
		e.addEvent(out, EvIncidentManual, rec, nil)
		return []*Outcome{out}
	}
	p := pointOf(inc.Lat, inc.Lng)
	town, inside, cell := w.state.locate(p)
	if inside {
		rec.Town = town
	} else {
		rec.Flags = append(rec.Flags, FlagOutsideCity)
	}
	rec.Cell = cell
	fam := e.family(inc.Type)
	if rec.TypeKnown {
		if dup := w.links.find(p, inc.ReportedAt, fam); dup != nil {
			if target, ok := w.open[dup.id]; ok {
				return e.link(w, out, rec, target, now)
			}
		}
	}
	plan := planFor(typ, inc.Materials)
	recm := w.state.Rank(RankRequest{At: p, Plan: plan, Priority: rec.Priority, Now: now, Backlog: e.backlog(w, nil)})
	rec.Rec = &recm
	if len(recm.Shortfalls) > 0 {
		rec.Flags = append(rec.Flags, FlagShortfall)
	}
	w.open[rec.ID] = rec
	w.links.add(rec, fam)
	if rec.Priority >= e.cfg.ConfirmFrom {
		rec.State = StateAwaiting
		rec.RecVersion = rec.Version
		w.setAwaiting(rec)
		e.addEvent(out, EvIncidentRecommended, rec, nil)
		return []*Outcome{out}
	}
	if e.cfg.Divert {
		// the calls that lose a unit first: it is free again when the P1 takes it
		if robbed := e.divert(w, rec, now); len(robbed) > 0 {
			e.dispatchRec(w, out, rec, now)
			return append(robbed, out)
		}
	}
	e.dispatchRec(w, out, rec, now)
	return []*Outcome{out}
}

// planFor returns the type's plan with the call's extra materials added.
func planFor(t *scenario.IncidentType, extra map[string]int) scenario.Plan {
	p := scenario.Plan{Units: t.Plan.Units}
	if len(t.Plan.Materials) > 0 || len(extra) > 0 {
		p.Materials = maps.Clone(t.Plan.Materials)
		if p.Materials == nil {
			p.Materials = map[string]int{}
		}
		for k, v := range extra {
			p.Materials[k] += v
		}
	}
	return p
}

// link records rec as a duplicate call of target.
func (e *Engine) link(w *world, out *Outcome, rec, target *IncidentRecord, now time.Time) []*Outcome {
	rec.State = StateLinked
	rec.LinkedTo = target.ID
	w.linked[rec.ID] = rec
	target.Linked = append(target.Linked, rec.ID)
	target.Version++
	target.UpdatedAt = now
	// A linked call is not open on its own: it lives under its incident.
	e.addEvent(out, EvIncidentLinked, rec, teamsOf(w, target.Assigned))
	up := &Outcome{Drill: w.drill, Incident: target}
	e.addEvent(up, EvIncidentUpdated, target, nil)
	return []*Outcome{out, up}
}

// dispatchRec assigns the recommended units and reserves the materials.
func (e *Engine) dispatchRec(w *world, out *Outcome, rec *IncidentRecord, now time.Time) {
	rec.State = StateDispatched
	w.setAwaiting(rec)
	if rec.DispatchedAt.IsZero() {
		rec.DispatchedAt = now
	}
	for _, pick := range rec.Rec.Units {
		e.assign(w, out, rec, pick, now)
	}
	for _, m := range rec.Rec.Materials {
		id := reservationID(rec.ID, m.Item, m.DepotID)
		if err := w.state.Inventory().Reserve(id, m.DepotID, m.Item, m.Qty); err != nil {
			// The ranker only offers available stock; this is a bug, not an input error.
			e.log.Error("reserve recommended stock", "incident", rec.ID, "err", err)
			continue
		}
		out.Stock = append(out.Stock, resources.StockChange{Reservation: id, Incident: rec.ID, Depot: m.DepotID, Item: m.Item, Qty: m.Qty, Op: resources.OpReserve})
	}
	e.addEvent(out, EvIncidentDispatched, rec, nil)
	out.Outbox = append(out.Outbox, e.assignmentRecord(w, rec, now))
}

// assign moves one unit to dispatched on rec.
func (e *Engine) assign(w *world, out *Outcome, rec *IncidentRecord, pick UnitPick, now time.Time) {
	ch, err := w.state.setStatus(pick.UnitID, teams.StatusDispatched, rec.ID, now)
	if err != nil {
		e.log.Error("assign recommended unit", "incident", rec.ID, "unit", pick.UnitID, "err", err)
		return
	}
	out.Units = append(out.Units, ch)
	w.state.expectFree(pick.UnitID, now, pick.EtaS+e.typeOf(rec).ServiceS, pointOf(rec.Lat, rec.Lng))
	rec.Assigned = append(rec.Assigned, pick.UnitID)
	out.Events = append(out.Events, Event{At: now, Kind: EvAssignment, Drill: w.drill, Town: rec.Town,
		Teams: []string{pick.Team}, Incident: rec.ID, Unit: pick.UnitID, Body: EventBody{Record: cloneRecord(rec), Pick: &pick}})
	e.addUnitEvent(w, out, ch)
}

// addEvent appends an incident event whose audience is the teams of its
// assigned units plus extra.
func (e *Engine) addEvent(out *Outcome, kind string, rec *IncidentRecord, extra []string) {
	w := e.worlds[out.Drill]
	ts := teamsOf(w, rec.Assigned)
	for _, t := range extra {
		if !slices.Contains(ts, t) {
			ts = append(ts, t)
		}
	}
	slices.Sort(ts)
	out.Events = append(out.Events, Event{At: rec.UpdatedAt, Kind: kind, Drill: out.Drill, Town: rec.Town,
		Teams: ts, Incident: rec.ID, Body: EventBody{Record: cloneRecord(rec)}})
}

func (e *Engine) addUnitEvent(w *world, out *Outcome, ch teams.UnitChange) {
	if ch.OldStatus == ch.NewStatus {
		return
	}
	out.Events = append(out.Events, Event{At: ch.At, Kind: EvUnitStatus, Drill: w.drill, Town: ch.Town,
		Teams: []string{ch.Team}, Incident: ch.Incident, Unit: ch.UnitID, Body: EventBody{Change: &ch}})
}

func teamsOf(w *world, units []string) []string {
	var ts []string
	if w == nil {
		return nil
	}
	for _, id := range units {
		if u, ok := w.state.unit(id); ok && !slices.Contains(ts, u.Team) {
			ts = append(ts, u.Team)
		}
	}
	return ts
}

// assignmentRecord is the outbox record of rec's current assignment: the
// record as it is now (dispatch/wire writes the message from it).
func (e *Engine) assignmentRecord(w *world, rec *IncidentRecord, now time.Time) OutboxRecord {
	key := rec.ID
	if w.drill != "" {
		key = w.drill + "/" + rec.ID
	}
	return OutboxRecord{Key: key, Drill: w.drill, Record: cloneRecord(rec), At: now}
}

func reservationID(incident, item, depot string) string {
	return incident + "|" + item + "|" + depot
}

// cloneRecord is the engine's copy of a record (the frozen copies the
// store and the events get): the struct and its recommendation, sharing
// their slices and maps. That is safe because the engine changes a record's
// slices only by appending or by making new ones (without, removed,
// replaced), never in place: an element a copy sees is never written
// again. Clone is the deep copy.
func cloneRecord(r *IncidentRecord) *IncidentRecord {
	c := *r
	if r.Rec != nil {
		rc := *r.Rec
		c.Rec = &rc
	}
	return &c
}

// without returns s without x, as a new slice (nil when empty): records'
// slices are never changed in place (cloneRecord).
func without[T comparable](s []T, x T) []T {
	if !slices.Contains(s, x) {
		return s
	}
	var out []T
	for _, v := range s {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}

// removed returns s without its element i, as a new slice (empty, not
// nil, when it was the last: Recommendation.Units is written even empty).
func removed[T any](s []T, i int) []T {
	out := make([]T, 0, len(s)-1)
	return append(append(out, s[:i]...), s[i+1:]...)
}

// replaced returns a copy of s with element i set to v.
func replaced[T any](s []T, i int, v T) []T {
	out := slices.Clone(s)
	out[i] = v
	return out
}

// Clone returns a deep copy of the record: every slice and map, the picks'
// reasons and the alternates included.
func (r *IncidentRecord) Clone() *IncidentRecord {
	c := *r
	c.Materials = maps.Clone(r.Materials)
	c.Linked = slices.Clone(r.Linked)
	c.Assigned = slices.Clone(r.Assigned)
	c.Accepted = slices.Clone(r.Accepted)
	c.Declined = slices.Clone(r.Declined)
	c.SwappedOut = slices.Clone(r.SwappedOut)
	c.Cleared = slices.Clone(r.Cleared)
	c.Escalated = slices.Clone(r.Escalated)
	c.Flags = slices.Clone(r.Flags)
	if r.Located != nil {
		l := *r.Located
		c.Located = &l
	}
	if r.Rec != nil {
		rc := *r.Rec
		rc.Materials = slices.Clone(r.Rec.Materials)
		rc.Shortfalls = slices.Clone(r.Rec.Shortfalls)
		c.Rec = &rc
		c.Rec.Units = clonePicks(r.Rec.Units)
		if r.Rec.Alternates != nil {
			c.Rec.Alternates = make(map[string][]UnitPick, len(r.Rec.Alternates))
			for k, v := range r.Rec.Alternates {
				c.Rec.Alternates[k] = clonePicks(v)
			}
		}
	}
	return &c
}

func clonePicks(ps []UnitPick) []UnitPick {
	if ps == nil {
		return nil
	}
	out := make([]UnitPick, len(ps))
	for i, p := range ps {
		out[i] = p
		out[i].Reasons = slices.Clone(p.Reasons)
		out[i].Why = slices.Clone(p.Why)
	}
	return out
}
