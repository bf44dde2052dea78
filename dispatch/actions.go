package dispatch

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

// act validates a and applies it to w. It returns an error before touching
// anything when the action is malformed, forbidden or illegal in the
// incident's state.
func (e *Engine) act(w *world, a *Action) ([]*Outcome, error) {
	now := e.cfg.Clock()
	role := a.Role
	if role == "" {
		role = RoleDrill
		if a.Team != "" {
			role = RoleTeamLeader
		}
	}
	if !RoleDrill.May(a.Kind) {
		return nil, fmt.Errorf("unknown action %q: %w", a.Kind, ErrBadAction)
	}
	if !role.May(a.Kind) {
		whose := "a team leader's"
		if role == RoleTeamLeader {
			whose = "a dispatcher's"
		}
		return nil, fmt.Errorf("%s is %s action: %w", a.Kind, whose, ErrForbidden)
	}
	if a.Kind == ActRelocate {
		return e.relocate(w, a, now)
	}
	if unitKind(a.Kind) {
		return e.reportStatus(w, a)
	}
	rec, ok := w.open[a.Incident]
	if !ok {
		return nil, fmt.Errorf("incident %q: %w", a.Incident, ErrNotFound)
	}
	out := &Outcome{Drill: w.drill, Incident: rec}
	switch a.Kind {
	case ActConfirm:
		if rec.State != StateAwaiting {
			return nil, refuse(ErrBadAction, Why{Code: WhyBadState, Action: a.Kind, Incident: rec.ID, State: rec.State})
		}
		if a.Version != 0 && a.Version < rec.RecVersion {
			return nil, fmt.Errorf("confirm: %w: the console saw version %d, the recommendation is of version %d", ErrChanged, a.Version, rec.RecVersion)
		}
		stale := false
		for _, p := range rec.Rec.Units {
			if u, ok := w.state.unit(p.UnitID); !ok || !u.Status.Assignable() {
				stale = true
			}
		}
		if stale {
			// A unit went elsewhere (another engine took it, or memory was
			// behind): rank again; a console that named the version it saw
			// is shown the new recommendation instead of having it sent.
			e.rerank(w, rec, now, Why{Code: WhyRerankedConf})
			if a.Version != 0 {
				e.addEvent(out, EvIncidentUpdated, rec, nil)
				return []*Outcome{out}, fmt.Errorf("confirm: %w: a recommended unit was taken elsewhere", ErrChanged)
			}
		} else {
			e.touch(rec, now)
		}
		e.dispatchRec(w, out, rec, now)
		return []*Outcome{out}, nil

	case ActEscalate:
		if rec.State != StateAwaiting && rec.State != StateDispatched {
			return nil, refuse(ErrBadAction, Why{Code: WhyBadState, Action: a.Kind, Incident: rec.ID, State: rec.State})
		}
		if !rec.HasLocation && rec.Lat == 0 && rec.Lng == 0 {
			return nil, refuse(ErrBadAction, Why{Code: WhyNoLocation, Action: a.Kind, Incident: rec.ID})
		}
		best, err := e.commandUnit(w, rec, now)
		if err != nil {
			return nil, err
		}
		add := *a
		add.Kind, add.NewUnit, add.Unit, add.Role, add.escalated = ActAdd, best, "", RoleDispatcher, true
		return e.act(w, &add)

	case ActSwap, ActAdd:
		nu, ok := w.state.unit(a.NewUnit)
		if !ok {
			return nil, &refusal{Why: Why{Code: WhyUnknownUnit, Unit: a.NewUnit}, Is: ErrUnknownUnit}
		}
		if !nu.Status.Assignable() {
			return nil, refuse(ErrBadAction, Why{Code: WhyUnitBusy, Unit: nu.ID, Status: string(nu.Status)})
		}
		if rec.State != StateAwaiting && rec.State != StateDispatched {
			return nil, refuse(ErrBadAction, Why{Code: WhyBadState, Action: a.Kind, Incident: rec.ID, State: rec.State})
		}
		req := ""
		idx := -1
		if a.Kind == ActSwap {
			idx = slices.IndexFunc(rec.Rec.Units, func(p UnitPick) bool { return p.UnitID == a.Unit })
			if idx < 0 || (rec.State == StateDispatched && !slices.Contains(rec.Assigned, a.Unit)) {
				return nil, refuse(ErrBadAction, Why{Code: WhyNotOnInc, Action: a.Kind, Unit: a.Unit, Incident: rec.ID})
			}
			if rec.State == StateDispatched {
				if u, _ := w.state.unit(a.Unit); u.Status == teams.StatusOnScene {
					return nil, refuse(ErrBadAction, Why{Code: WhyOnScene, Action: a.Kind, Unit: a.Unit})
				}
			}
			req = rec.Rec.Units[idx].Requirement
		}
		if slices.ContainsFunc(rec.Rec.Units, func(p UnitPick) bool { return p.UnitID == nu.ID }) {
			return nil, refuse(ErrBadAction, Why{Code: WhyOnIncident, Action: a.Kind, Unit: nu.ID, Incident: rec.ID})
		}
		e.touch(rec, now)
		pick := e.pickFor(w, nu, rec, req, now)
		if a.escalated {
			pick.because(Why{Code: WhyCommandTeam, By: a.By})
		} else {
			pick.because(Why{Code: map[string]string{ActSwap: WhySwappedIn, ActAdd: WhyAdded}[a.Kind], By: a.By})
		}
		if a.Kind == ActSwap {
			if rec.State == StateDispatched {
				e.release(w, out, rec, a.Unit, teams.StatusAvailable, "swapped", now)
			}
			rec.Rec.Units = replaced(rec.Rec.Units, idx, pick)
			if !slices.Contains(rec.SwappedOut, a.Unit) {
				rec.SwappedOut = append(rec.SwappedOut, a.Unit)
			}
		} else {
			rec.Rec.Units = append(rec.Rec.Units, pick)
		}
		if rec.State == StateDispatched {
			e.assign(w, out, rec, pick, now)
			out.Outbox = append(out.Outbox, e.assignmentRecord(w, rec, now))
		}
		e.addEvent(out, EvIncidentUpdated, rec, teamsOfUnits(w, a.Unit))
		return []*Outcome{out}, nil

	case ActCancel:
		e.touch(rec, now)
		released := slices.Clone(rec.Assigned)
		for _, id := range released {
			e.release(w, out, rec, id, teams.StatusAvailable, "cancelled", now)
		}
		e.finish(w, out, rec, StateCancelled, now, released)
		return []*Outcome{out}, nil

	case ActClassify:
		typ, ok := e.types[a.Type]
		if !ok {
			return nil, refuse(ErrBadAction, Why{Code: WhyUnknownType, Action: a.Kind, Type: a.Type})
		}
		e.touch(rec, now)
		rec.Type = typ.Code
		rec.TypeKnown = true
		setFlag(rec, FlagUnknownType, false)
		if rec.Priority == 0 || !slices.Contains([]int{1, 2, 3, 4}, rec.Priority) {
			rec.Priority = typ.Priority
		}
		e.addEvent(out, EvIncidentUpdated, rec, nil)
		return []*Outcome{out}, nil

	case ActLocate:
		if rec.State != StateManual {
			return nil, refuse(ErrBadAction, Why{Code: WhyBadState, Action: a.Kind, Incident: rec.ID, State: rec.State})
		}
		p, loc, err := e.locateAt(a)
		if err != nil {
			return nil, err
		}
		inc := rec.Incident
		inc.Lat, inc.Lng, inc.HasLocation = p.Lat, p.Lng, true
		delete(w.open, rec.ID)
		outs := e.decide(w, &inc)
		// keep it one incident: same id, next version, not a new decision,
		// in the record and in the events made of it
		patch := func(r *IncidentRecord) {
			r.Version = rec.Version + 1
			r.DecidedAt = rec.DecidedAt
			l := *loc
			r.Located = &l
		}
		for _, o := range outs {
			if o.Incident != nil && o.Incident.ID == rec.ID {
				o.NewIncident = false
				patch(o.Incident)
			}
			for i := range o.Events {
				if r := o.Events[i].Body.Record; r != nil && r.ID == rec.ID {
					patch(r)
				}
			}
		}
		return outs, nil
	}

	// Team-leader actions on one unit of the incident.
	u, ok := w.state.unit(a.Unit)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownUnit, a.Unit)
	}
	if a.Team != "" && u.Team != a.Team {
		return nil, refuse(ErrForbidden, Why{Code: WhyOtherTeam, Action: a.Kind, Unit: u.ID})
	}
	if !slices.Contains(rec.Assigned, u.ID) {
		return nil, refuse(ErrBadAction, Why{Code: WhyNotOnInc, Action: a.Kind, Unit: u.ID, Incident: rec.ID})
	}
	from := u.Status
	switch a.Kind {
	case ActAccept:
		if slices.Contains(rec.Accepted, u.ID) {
			return nil, refuse(ErrBadAction, Why{Code: WhyAccepted, Action: a.Kind, Unit: u.ID})
		}
		e.touch(rec, now)
		rec.Accepted = append(rec.Accepted, u.ID)
		e.addEvent(out, EvIncidentUpdated, rec, nil)
		return []*Outcome{out}, nil
	case ActDecline:
		if from != teams.StatusDispatched {
			return nil, refuse(ErrBadAction, Why{Code: WhyTransition, Action: a.Kind, Unit: u.ID, From: string(from), To: string(teams.StatusAvailable)})
		}
		e.touch(rec, now)
		e.decline(w, out, rec, u.ID, a.Reason, now)
		return []*Outcome{out}, nil
	case ActEnRoute, ActOnScene, ActClear:
		to := map[string]teams.Status{ActEnRoute: teams.StatusEnRoute, ActOnScene: teams.StatusOnScene, ActClear: teams.StatusAvailable}[a.Kind]
		if err := teams.Transition(from, to); err != nil {
			return nil, &refusal{Why: Why{Code: WhyTransition, Action: a.Kind, Unit: u.ID, From: string(from), To: string(to)}, Is: ErrBadAction, Cause: err}
		}
		if a.Kind == ActClear && from != teams.StatusOnScene {
			return nil, refuse(ErrBadAction, Why{Code: WhyTransition, Action: a.Kind, Unit: u.ID, From: string(from), To: string(to)})
		}
		e.touch(rec, now)
		e.progress(w, out, rec, u.ID, to, now)
		return []*Outcome{out}, nil
	}
	return nil, fmt.Errorf("unknown action %q: %w", a.Kind, ErrBadAction)
}

// commandUnit returns the available unit of a command team with the least
// ETA to rec (the ranker's, exact), not already on it.
func (e *Engine) commandUnit(w *world, rec *IncidentRecord, now time.Time) (string, error) {
	command := map[string]bool{}
	for _, t := range e.sc.Teams {
		if t.Kind == teams.KindCommand {
			command[t.ID] = true
		}
	}
	ex := map[string]bool{}
	caps := map[string]bool{}
	for _, u := range e.sc.Units {
		if !command[u.Team] {
			ex[u.ID] = true
			continue
		}
		for _, c := range u.Capabilities {
			caps[c] = true
		}
	}
	if rec.Rec != nil {
		for _, p := range rec.Rec.Units {
			ex[p.UnitID] = true
		}
	}
	best := UnitPick{EtaS: math.Inf(1)}
	for _, c := range slices.Sorted(maps.Keys(caps)) {
		r := w.state.Rank(RankRequest{At: pointOf(rec.Lat, rec.Lng), Plan: scenario.Plan{Units: []scenario.Requirement{{Capability: c, Count: 1}}},
			Priority: rec.Priority, Now: now, Exclude: ex, Backlog: e.backlog(w, rec)})
		for _, p := range r.Units {
			if p.EtaS < best.EtaS || (p.EtaS == best.EtaS && p.UnitID < best.UnitID) {
				best = p
			}
		}
	}
	if best.UnitID == "" {
		return "", refuse(ErrBadAction, Why{Code: WhyNoCommand, Action: ActEscalate, Incident: rec.ID})
	}
	return best.UnitID, nil
}

// reportStatus applies a team leader's "returning" or "available" for a
// unit, as the unit's terminal would report it. An Incident on the action
// must be the unit's current one (a console acting on stale data is
// refused); the action's Incident is set to the unit's, for Act's answer.
func (e *Engine) reportStatus(w *world, a *Action) ([]*Outcome, error) {
	u, ok := w.state.unit(a.Unit)
	if !ok {
		return nil, fmt.Errorf("unit %q: %w", a.Unit, ErrNotFound)
	}
	if a.Team != "" && u.Team != a.Team {
		return nil, refuse(ErrForbidden, Why{Code: WhyOtherTeam, Action: a.Kind, Unit: u.ID})
	}
	if a.Incident != "" && u.Incident != a.Incident {
		return nil, refuse(ErrBadAction, Why{Code: WhyNotOnInc, Action: a.Kind, Unit: u.ID, Incident: a.Incident, Status: string(u.Status)})
	}
	a.Incident = u.Incident
	status := teams.StatusReturning
	if a.Kind == ActAvailable {
		status = teams.StatusAvailable
		switch teams.Status(u.Status) {
		case teams.StatusAvailable:
			return nil, refuse(ErrBadAction, Why{Code: WhyAlready, Action: a.Kind, Unit: u.ID, Status: string(u.Status)})
		case teams.StatusDispatched, teams.StatusEnRoute:
			return nil, refuse(ErrBadAction, Why{Code: WhyDeclineInstead, Action: a.Kind, Unit: u.ID, Status: string(u.Status), Incident: u.Incident})
		case teams.StatusOnScene:
			if u.Incident != "" {
				clear := *a
				clear.Kind, clear.Incident = ActClear, u.Incident
				return e.act(w, &clear)
			}
		}
	}
	// As the terminal would send it (no time: the engine's clock).
	out, err := e.applyUnitEvent(w, &UnitEvent{UnitID: u.ID, Status: string(status), Drill: w.drill})
	if err != nil {
		if errors.Is(err, ErrUnknownUnit) {
			return nil, fmt.Errorf("%s: %w: %w", a.Kind, err, ErrNotFound)
		}
		return nil, &refusal{Why: Why{Code: WhyTransition, Action: a.Kind, Unit: u.ID, From: string(u.Status), To: string(status)}, Is: ErrBadAction, Cause: err}
	}
	if out == nil {
		return nil, nil
	}
	return []*Outcome{out}, nil
}

// unitStatus applies a status a vehicle terminal reported over unit-events
// (already checked against the state machine).
func (e *Engine) unitStatus(w *world, unitID string, to teams.Status, at time.Time, by string) ([]*Outcome, error) {
	u, _ := w.state.unit(unitID)
	rec := w.open[u.Incident]
	out := &Outcome{Drill: w.drill}
	if rec == nil {
		// Not on an incident: a plain status change (out of service, back in service).
		if to.Active() {
			return nil, fmt.Errorf("%w: unit %s reported %s with no incident", ErrIllegalStatus, unitID, to)
		}
		ch, err := w.state.setStatus(unitID, to, "", at)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrIllegalStatus, err)
		}
		out.Units = append(out.Units, ch)
		e.addUnitEvent(w, out, ch)
		return []*Outcome{out}, nil
	}
	out.Incident = rec
	e.touch(rec, at)
	from := u.Status
	switch {
	case to == teams.StatusEnRoute || to == teams.StatusOnScene:
		e.progress(w, out, rec, unitID, to, at)
	case from == teams.StatusOnScene || from == teams.StatusReturning:
		e.progress(w, out, rec, unitID, to, at) // cleared (available or returning)
	default:
		// dispatched/en route and now available or out of service: the unit
		// cannot go; offer the incident to the next unit.
		e.decline(w, out, rec, unitID, "terminal reported "+string(to), at)
		if to != teams.StatusAvailable {
			ch, err := w.state.setStatus(unitID, to, "", at)
			if err == nil {
				out.Units = append(out.Units, ch)
			}
		}
	}
	return []*Outcome{out}, nil
}

// progress moves an assigned unit along en route -> on scene -> cleared.
func (e *Engine) progress(w *world, out *Outcome, rec *IncidentRecord, unitID string, to teams.Status, now time.Time) {
	switch to {
	case teams.StatusEnRoute, teams.StatusOnScene:
		if to == teams.StatusOnScene && rec.HasLocation {
			if ch, err := w.state.setPosition(unitID, pointOf(rec.Lat, rec.Lng), now); err == nil {
				out.Units = append(out.Units, ch)
			}
			if rec.FirstOnSceneAt.IsZero() {
				rec.FirstOnSceneAt = now
			}
		}
		ch, err := w.state.setStatus(unitID, to, rec.ID, now)
		if err != nil {
			e.log.Error("progress", "unit", unitID, "err", err)
			return
		}
		if to == teams.StatusOnScene {
			w.state.expectFree(unitID, now, e.typeOf(rec).ServiceS, pointOf(rec.Lat, rec.Lng))
			if rec.HasLocation {
				if t, ok := w.state.arrived(unitID, rec.ID, pointOf(rec.Lat, rec.Lng), now); ok {
					out.Trips = append(out.Trips, t)
				}
			}
		}
		out.Units = append(out.Units, ch)
		e.addUnitEvent(w, out, ch)
		e.addEvent(out, EvIncidentUpdated, rec, nil)
	default: // available or returning: cleared
		e.release(w, out, rec, unitID, to, "cleared", now)
		if len(rec.Assigned) == 0 {
			e.finish(w, out, rec, StateClosed, now, []string{unitID})
		} else {
			e.addEvent(out, EvIncidentUpdated, rec, teamsOfUnits(w, unitID))
		}
	}
}

// decline releases a unit that will not go and offers its place to the next
// best unit for the same requirement.
func (e *Engine) decline(w *world, out *Outcome, rec *IncidentRecord, unitID, reason string, now time.Time) {
	idx := slices.IndexFunc(rec.Rec.Units, func(p UnitPick) bool { return p.UnitID == unitID })
	e.release(w, out, rec, unitID, teams.StatusAvailable, "declined", now)
	rec.Declined = append(rec.Declined, unitID)
	if idx >= 0 && rec.Rec.Units[idx].FirstResponder {
		rec.Rec.Units = removed(rec.Rec.Units, idx) // the requirement's own units still come
	} else if idx >= 0 {
		old := rec.Rec.Units[idx]
		req := scenario.Requirement{Capability: old.Requirement, Count: 1}
		for _, r := range e.typeOf(rec).Plan.Units {
			if r.Capability == old.Requirement {
				req.Substitutes = r.Substitutes
			}
		}
		ex := excluded(rec)
		r := w.state.Rank(RankRequest{At: pointOf(rec.Lat, rec.Lng), Plan: scenario.Plan{Units: []scenario.Requirement{req}}, Priority: rec.Priority, Now: now, Exclude: ex,
			Backlog: e.backlog(w, rec)})
		rec.Rec.Units = removed(rec.Rec.Units, idx)
		for _, p := range r.Units {
			p.because(Why{Code: WhyReplaces, Unit: unitID, Reason: reason})
			rec.Rec.Units = append(rec.Rec.Units, p)
			e.assign(w, out, rec, p, now)
		}
		rec.Rec.Shortfalls = append(rec.Rec.Shortfalls, r.Shortfalls...)
	}
	out.Outbox = append(out.Outbox, e.assignmentRecord(w, rec, now))
	e.addEvent(out, EvIncidentUpdated, rec, teamsOfUnits(w, unitID))
}

// release takes a unit off an incident: it goes to status to.
func (e *Engine) release(w *world, out *Outcome, rec *IncidentRecord, unitID string, to teams.Status, how string, now time.Time) {
	ch, err := w.state.setStatus(unitID, to, "", now)
	if err != nil {
		e.log.Error("release", "unit", unitID, "to", to, "err", err)
		return
	}
	out.Units = append(out.Units, ch)
	rec.Assigned = without(rec.Assigned, unitID)
	rec.Accepted = without(rec.Accepted, unitID)
	rec.Escalated = without(rec.Escalated, unitID)
	if how == "cleared" {
		rec.Cleared = append(rec.Cleared, unitID)
	} else {
		out.Events = append(out.Events, Event{At: now, Kind: EvAssignmentCancelled, Drill: w.drill, Town: rec.Town,
			Teams: []string{ch.Team}, Incident: rec.ID, Unit: unitID, Body: EventBody{Reason: how}})
	}
	e.addUnitEvent(w, out, ch)
}

// finish closes or cancels an incident: reservations are consumed (closed:
// the materials were used) or released (cancelled).
func (e *Engine) finish(w *world, out *Outcome, rec *IncidentRecord, state string, now time.Time, lastUnits []string) {
	rec.State = state
	w.setAwaiting(rec)
	inv := w.state.Inventory()
	if rec.Rec != nil && !rec.DispatchedAt.IsZero() {
		for _, m := range rec.Rec.Materials {
			id := reservationID(rec.ID, m.Item, m.DepotID)
			op := resources.OpConsume
			var err error
			if state == StateCancelled {
				op = resources.OpRelease
				err = inv.Release(id)
			} else {
				err = inv.Consume(id)
			}
			if err != nil {
				e.log.Error("finish reservation", "reservation", id, "err", err)
				continue
			}
			out.Stock = append(out.Stock, resources.StockChange{Reservation: id, Incident: rec.ID, Depot: m.DepotID, Item: m.Item, Qty: m.Qty, Op: op})
		}
	}
	delete(w.open, rec.ID)
	w.links.remove(rec.ID, rec)
	for _, id := range rec.Linked {
		if l, ok := w.linked[id]; ok {
			delete(w.linked, id)
			l.State = state
			e.touch(l, now)
			// linked calls close with their incident
			lo := &Outcome{Drill: w.drill, Incident: l}
			lo.Events = append(lo.Events, Event{At: now, Kind: map[string]string{StateClosed: EvIncidentClosed, StateCancelled: EvIncidentCancelled}[state],
				Drill: w.drill, Town: l.Town, Incident: l.ID, Body: EventBody{Record: cloneRecord(l)}})
			w.extra = append(w.extra, lo)
		}
	}
	kind := EvIncidentClosed
	if state == StateCancelled {
		kind = EvIncidentCancelled
	}
	e.addEvent(out, kind, rec, teamsOfUnits(w, lastUnits...))
	if !rec.DispatchedAt.IsZero() {
		out.Outbox = append(out.Outbox, e.assignmentRecord(w, rec, now))
	}
}

// pickFor describes unit u as a pick for rec (a dispatcher's swap or add).
func (e *Engine) pickFor(w *world, u teams.UnitView, rec *IncidentRecord, req string, now time.Time) UnitPick {
	p := pointOf(rec.Lat, rec.Lng)
	dist := geo.DistanceM(pointOf(u.Lat, u.Lng), p)
	eta := w.state.travel()
	prof, err := eta.Profile(u.Profile)
	secs := 0.0
	var src geo.Source
	trips := 0
	if err == nil {
		est := w.state.Travel().Estimate(pointOf(u.Lat, u.Lng), p, prof, now)
		secs, src, trips = est.Seconds, est.Source, est.Trips
	}
	if t, ok := e.team(u.Team); ok {
		secs += t.ActivationDelayS
	}
	capab := req
	sub := false
	if req == "" {
		if len(u.Capabilities) > 0 {
			capab, req = u.Capabilities[0], u.Capabilities[0]
		}
	} else if !u.Has(req) {
		sub = true
		if len(u.Capabilities) > 0 {
			capab = u.Capabilities[0]
		}
	}
	pk := UnitPick{UnitID: u.ID, Team: u.Team, Requirement: req, Capability: capab, Substitute: sub, Reserve: u.Reserve,
		EtaS: secs, DistanceM: dist, Cost: secs, Town: u.Town}
	if src != geo.SourceModel {
		pk.EtaSource, pk.EtaTrips = src.String(), trips
	}
	return pk
}

func (e *Engine) team(id string) (teams.Team, bool) {
	for _, t := range e.sc.Teams {
		if t.ID == id {
			return t, true
		}
	}
	return teams.Team{}, false
}

func (e *Engine) typeOf(rec *IncidentRecord) *scenario.IncidentType {
	if t, ok := e.types[rec.Type]; ok {
		return t
	}
	return e.types[e.sc.Fallback]
}

func (e *Engine) touch(rec *IncidentRecord, now time.Time) {
	rec.Version++
	rec.UpdatedAt = now
}

func teamsOfUnits(w *world, ids ...string) []string {
	var out []string
	for _, id := range ids {
		if id == "" {
			continue
		}
		if u, ok := w.state.unit(id); ok && !slices.Contains(out, u.Team) {
			out = append(out, u.Team)
		}
	}
	return out
}

func reservationOf(r resources.StockChange) resources.Reservation {
	return resources.Reservation{ID: r.Reservation, Depot: r.Depot, Item: r.Item, Qty: r.Qty}
}
