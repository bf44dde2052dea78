package dispatch

import (
	"math"
	"slices"
	"time"

	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

// Diversion (EngineConfig.Divert): a P1 whose requirement no recommended
// unit reaches within the P1 target may take a unit on its way to a call of
// priority DivertFrom or lower (dispatched or en route, not yet on scene)
// that reaches it within the target; that call loses the unit and goes
// back to the queue with the reason (a unit shortfall the queue fills).
// As in JEMSS (the open ambulance simulator), diversion never touches a
// unit already working a scene.

// divertCandidate is a unit on its way to a low-priority call.
type divertCandidate struct {
	unit int32
	eta  float64
	from *IncidentRecord
}

// divertable returns, for capability c (or one of subs), the unit on its
// way to a call of priority >= from that reaches p soonest (ETA from where
// it is), if any reaches within target; ties by unit id. It scans every
// unit: exact by construction (TestDivertableMatchesBruteForce checks it
// against an oracle over the unit views and the ranker's notion of ETA).
func (e *Engine) divertable(w *world, p geo.Point, caps []string, from int, target float64, hour int, ex map[string]bool) (divertCandidate, bool) {
	f := w.state.Fleet()
	want := make([]int32, 0, len(caps))
	for _, c := range caps {
		if ci, ok := f.Capability(c); ok {
			want = append(want, ci)
		}
	}
	best := divertCandidate{eta: math.Inf(1), unit: -1}
	q := w.state.Travel().PlaceOf(p)
	for i := int32(0); i < int32(f.Len()); i++ {
		r := f.Record(i)
		if st := r.Status(); st != teams.StatusDispatched && st != teams.StatusEnRoute {
			continue
		}
		if r.Reserve() || ex[r.ID()] || !slices.ContainsFunc(want, r.Has) {
			continue
		}
		inc := w.open[r.Incident()]
		if inc == nil || inc.Priority < from {
			continue
		}
		s := w.state.unitSeconds(i, geo.DistanceM(r.Position(), p), hour, q)
		if s > target {
			continue
		}
		if s < best.eta || (s == best.eta && r.ID() < f.Record(best.unit).ID()) {
			best = divertCandidate{unit: i, eta: s, from: inc}
		}
	}
	return best, best.unit >= 0
}

// divert gives a P1 the diverted units its late requirements need; it
// returns the outcomes of the calls that lost them (before the P1 is
// dispatched: the units are available again when it is).
func (e *Engine) divert(w *world, rec *IncidentRecord, now time.Time) []*Outcome {
	if rec.Rec == nil || rec.Priority != 1 {
		return nil
	}
	target := w.state.target(1)
	hour := w.state.travel().Hour(now)
	p := pointOf(rec.Lat, rec.Lng)
	var outs []*Outcome
	ex := map[string]bool{}
	for _, pk := range rec.Rec.Units {
		ex[pk.UnitID] = true
	}
	for _, rq := range e.typeOf(rec).Plan.Units {
		idx := -1 // the requirement's late pick to replace (-1: a shortfall to fill)
		onTime := false
		for i, pk := range rec.Rec.Units {
			if pk.Requirement != rq.Capability {
				continue
			}
			if pk.EtaS <= target {
				onTime = true
			} else if idx < 0 || pk.EtaS > rec.Rec.Units[idx].EtaS {
				idx = i
			}
		}
		short := slices.IndexFunc(rec.Rec.Shortfalls, func(s Shortfall) bool { return s.Kind == "unit" && s.What == rq.Capability })
		if onTime || (idx < 0 && short < 0) {
			continue
		}
		c, ok := e.divertable(w, p, append([]string{rq.Capability}, rq.Substitutes...), e.cfg.DivertFrom, target, hour, ex)
		if !ok || (idx >= 0 && c.eta >= rec.Rec.Units[idx].EtaS) {
			continue
		}
		r := w.state.Fleet().Record(c.unit)
		ex[r.ID()] = true
		outs = append(outs, e.robbed(w, c.from, r.ID(), rec.ID, now))
		u, _ := w.state.unit(r.ID())
		pick := e.pickFor(w, u, rec, rq.Capability, now)
		pick.DivertedFrom = c.from.ID
		pick.because(Why{Code: WhyDiverted, Priority: c.from.Priority, Incident: c.from.ID})
		if idx >= 0 {
			rec.Rec.Units = replaced(rec.Rec.Units, idx, pick)
		} else {
			rec.Rec.Units = append(rec.Rec.Units, pick)
			if sf := rec.Rec.Shortfalls[short]; sf.Missing > 1 {
				sf.Missing--
				rec.Rec.Shortfalls = replaced(rec.Rec.Shortfalls, short, sf)
			} else {
				rec.Rec.Shortfalls = removed(rec.Rec.Shortfalls, short)
			}
		}
	}
	if len(outs) > 0 {
		setFlag(rec, FlagShortfall, slices.ContainsFunc(rec.Rec.Shortfalls, isUnitShortfall))
	}
	return outs
}

// robbed takes unit off the low-priority incident inc for the P1 p1: the
// unit is released, the incident keeps a unit shortfall with the reason.
func (e *Engine) robbed(w *world, inc *IncidentRecord, unit, p1 string, now time.Time) *Outcome {
	e.touch(inc, now)
	out := &Outcome{Drill: w.drill, Incident: inc}
	req := ""
	if i := slices.IndexFunc(inc.Rec.Units, func(pk UnitPick) bool { return pk.UnitID == unit }); i >= 0 {
		req = inc.Rec.Units[i].Requirement
		inc.Rec.Units = removed(inc.Rec.Units, i)
	}
	e.release(w, out, inc, unit, teams.StatusAvailable, "diverted", now)
	inc.Rec.Shortfalls = append(inc.Rec.Shortfalls, shortfall("unit", req, 1, Why{Code: WhyDivertedAway, Unit: unit, Incident: p1}))
	setFlag(inc, FlagShortfall, true)
	out.Outbox = append(out.Outbox, e.assignmentRecord(w, inc, now))
	e.addEvent(out, EvIncidentUpdated, inc, teamsOfUnits(w, unit))
	return out
}
