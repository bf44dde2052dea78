package dispatch

import (
	"slices"
	"time"
)

// The live queue: what a step does after its change, before the commit
// (Engine.stepOnce calls settleLocked):
//
//   - a recommendation waiting for a dispatcher (P3/P4) whose unit was
//     taken in this step (dispatched elsewhere, out of service) is ranked
//     again at once, so that consoles never show a unit that cannot come;
//   - with EngineConfig.FillOnClear, units that came free in this step are
//     offered to the open incidents still missing units, most urgent first
//     (at most EngineConfig.FillScan incidents per freed unit).

// settleLocked returns the outcomes of the queue rules for the changes of
// one step.
func (e *Engine) settleLocked(t *txn, outs []*Outcome) []*Outcome {
	var more []*Outcome
	for _, w := range t.used {
		taken, freed := unitMoves(w.drill, outs)
		if len(taken) > 0 && len(w.awaiting) > 0 {
			more = append(more, e.refreshAwaiting(w, taken)...)
		}
		if e.cfg.FillOnClear && len(freed) > 0 {
			more = append(more, e.fillFreed(w, freed)...)
		}
		if w.cover != nil {
			more = append(more, e.moveUps(w, slices.Concat(outs, more))...)
		}
	}
	return more
}

// unitMoves returns the units of a world that stopped being assignable in
// outs (taken) and those that became assignable (freed), in order.
func unitMoves(drill string, outs []*Outcome) (taken map[string]bool, freed []string) {
	for _, o := range outs {
		if o.Drill != drill {
			continue
		}
		for _, ch := range o.Units {
			switch {
			case ch.OldStatus.Assignable() && !ch.NewStatus.Assignable():
				if taken == nil {
					taken = map[string]bool{}
				}
				taken[ch.UnitID] = true
			case !ch.OldStatus.Assignable() && ch.NewStatus.Assignable():
				if !slices.Contains(freed, ch.UnitID) {
					freed = append(freed, ch.UnitID)
				}
			}
		}
	}
	return taken, freed
}

// refreshAwaiting ranks again every waiting recommendation that offers a
// unit of taken (or any unit that is no longer assignable), excluding the
// units declined or swapped out, and bumps its version: a dispatcher who
// confirms what they saw before is told the recommendation changed.
func (e *Engine) refreshAwaiting(w *world, taken map[string]bool) []*Outcome {
	now := e.cfg.Clock()
	var stale []*IncidentRecord
	for _, rec := range w.awaiting {
		if rec.Rec == nil {
			continue
		}
		for _, p := range rec.Rec.Units {
			if u, ok := w.state.unit(p.UnitID); taken[p.UnitID] || !ok || !u.Status.Assignable() {
				stale = append(stale, rec)
				break
			}
		}
	}
	slices.SortFunc(stale, byUrgency)
	outs := make([]*Outcome, 0, len(stale))
	for _, rec := range stale {
		e.rerank(w, rec, now, Why{Code: WhyReranked})
		out := &Outcome{Drill: w.drill, Incident: rec}
		e.addEvent(out, EvIncidentUpdated, rec, nil)
		outs = append(outs, out)
	}
	return outs
}

// rerank replaces the recommendation of a waiting incident by a fresh one
// (the units declined or swapped out are not offered again) and marks the
// version it was made at.
func (e *Engine) rerank(w *world, rec *IncidentRecord, now time.Time, why Why) {
	e.touch(rec, now)
	r := w.state.Rank(RankRequest{At: pointOf(rec.Lat, rec.Lng), Plan: planFor(e.typeOf(rec), rec.Materials),
		Priority: rec.Priority, Now: now, Exclude: notAgain(rec), Backlog: e.backlog(w, rec)})
	for i := range r.Units {
		r.Units[i].because(why)
	}
	rec.Rec = &r
	rec.RecVersion = rec.Version
	setFlag(rec, FlagShortfall, len(r.Shortfalls) > 0)
}

// notAgain is the set of units an incident must not be offered again: those
// that declined it and those a dispatcher swapped out.
func notAgain(rec *IncidentRecord) map[string]bool {
	if len(rec.Declined) == 0 && len(rec.SwappedOut) == 0 {
		return nil
	}
	ex := make(map[string]bool, len(rec.Declined)+len(rec.SwappedOut))
	for _, id := range rec.Declined {
		ex[id] = true
	}
	for _, id := range rec.SwappedOut {
		ex[id] = true
	}
	return ex
}

// excluded is notAgain plus the units the incident has now: those a fill
// or a replacement must not pick.
func excluded(rec *IncidentRecord) map[string]bool {
	ex := notAgain(rec)
	if ex == nil {
		ex = map[string]bool{}
	}
	if rec.Rec != nil {
		for _, p := range rec.Rec.Units {
			ex[p.UnitID] = true
		}
	}
	return ex
}

// setFlag adds or removes a flag of an incident.
func setFlag(rec *IncidentRecord, flag string, on bool) {
	has := slices.Contains(rec.Flags, flag)
	switch {
	case on && !has:
		rec.Flags = append(rec.Flags, flag)
	case !on && has:
		rec.Flags = without(rec.Flags, flag)
	}
}

// fillFreed offers units that came free to the dispatched incidents still
// missing units that one of them could fill, most urgent first, at most
// FillScan incidents per freed unit.
func (e *Engine) fillFreed(w *world, freed []string) []*Outcome {
	caps := map[string]bool{}
	for _, id := range freed {
		if u, ok := w.state.unit(id); ok && u.Status.Assignable() {
			for _, c := range u.Capabilities {
				caps[c] = true
			}
		}
	}
	if len(caps) == 0 {
		return nil
	}
	var queue []*IncidentRecord
	for _, rec := range w.open {
		if rec.State == StateDispatched && rec.Rec != nil && e.couldUse(rec, caps) {
			queue = append(queue, rec)
		}
	}
	slices.SortFunc(queue, byUrgency)
	queue = queue[:min(len(queue), e.cfg.FillScan*len(freed))]
	now := e.cfg.Clock()
	var outs []*Outcome
	for _, rec := range queue {
		if out := e.fill(w, rec, now); out != nil {
			outs = append(outs, out)
		}
	}
	return outs
}

// couldUse reports whether a unit with one of caps could fill a unit
// shortfall of rec (the capability asked for or one of its substitutes).
func (e *Engine) couldUse(rec *IncidentRecord, caps map[string]bool) bool {
	for _, s := range rec.Rec.Shortfalls {
		if !isUnitShortfall(s) {
			continue
		}
		if caps[s.What] {
			return true
		}
		for _, r := range e.typeOf(rec).Plan.Units {
			if r.Capability == s.What && slices.ContainsFunc(r.Substitutes, func(c string) bool { return caps[c] }) {
				return true
			}
		}
	}
	return false
}

// setAwaiting keeps world.awaiting in step with the state of rec.
func (w *world) setAwaiting(rec *IncidentRecord) {
	if rec.State == StateAwaiting {
		w.awaiting[rec.ID] = rec
	} else {
		delete(w.awaiting, rec.ID)
	}
}

// backlogMemo is a world's count of the units its open incidents wait
// for, by capability (unit shortfalls), counted once per step.
type backlogMemo struct {
	step  uint64 // Engine.steps when counted (0: never; steps start at 1)
	units map[string]int
}

// backlog returns RankRequest.Backlog for a decision on rec (nil: a new
// incident not yet open): the units the other open incidents of w still
// miss, by capability. The open incidents are counted at most once a step
// and only when the reserve rule asks (a surge is when it does).
func (e *Engine) backlog(w *world, rec *IncidentRecord) func(string) int {
	return func(capab string) int {
		m := &w.backlog
		if m.step != e.steps {
			m.step = e.steps
			clear(m.units)
			if m.units == nil {
				m.units = map[string]int{}
			}
			for _, o := range w.open {
				for capab, n := range missingUnits(o) {
					m.units[capab] += n
				}
			}
		}
		n := m.units[capab]
		if rec != nil { // the incident's own shortfalls are not a queue for it
			for c, k := range missingUnits(rec) {
				if c == capab {
					n -= k
				}
			}
		}
		return max(n, 0) // counted earlier in the step: an estimate
	}
}

// missingUnits yields an incident's unit shortfalls: capability, units.
func missingUnits(rec *IncidentRecord) func(yield func(string, int) bool) {
	return func(yield func(string, int) bool) {
		if rec.Rec == nil {
			return
		}
		for _, sf := range rec.Rec.Shortfalls {
			if isUnitShortfall(sf) && !yield(sf.What, sf.Missing) {
				return
			}
		}
	}
}
