package dispatch

import (
	"context"
	"slices"
	"time"

	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/resources"
)

// EvStockRestocked is the console event of a delivery to a depot (Engine.Restock).
const EvStockRestocked = "stock.restocked"

// FillShortfalls assigns available units to the queue: the open, dispatched
// incidents of a drill's world ("" = live) whose plan is still missing units
// (a unit shortfall at decision time, or at an earlier fill). ids names the
// incidents to try (nil: every open incident of the world). They are served
// most urgent first: priority, then oldest reported_at, then id. For each,
// the missing units of each requirement (the plan's count minus the units
// picked for it so far) are ranked as at decision time, excluding the units
// already on the incident and those that declined, and assigned; the unit
// shortfalls of the recommendation are replaced by what is still missing.
// Changes are durable when it returns, like Process. It returns the ids of
// the incidents it changed (they got units, or a stale unit shortfall was
// cleared), in the order served.
func (e *Engine) FillShortfalls(ctx context.Context, drill string, ids []string) ([]string, error) {
	var filled []string
	_, err := e.step(ctx, "fill", func(t *txn) ([]*Outcome, error) {
		w, err := t.world(drill)
		if err != nil {
			return nil, err
		}
		var outs []*Outcome
		outs, filled = e.fillQueue(w, ids)
		return outs, nil
	})
	if err != nil {
		return nil, err
	}
	return filled, nil
}

// fillQueue is the change of FillShortfalls.
func (e *Engine) fillQueue(w *world, ids []string) ([]*Outcome, []string) {
	now := e.cfg.Clock()
	var queue []*IncidentRecord
	if ids == nil {
		for _, rec := range w.open {
			queue = append(queue, rec)
		}
	} else {
		for _, id := range ids {
			if rec, ok := w.open[id]; ok {
				queue = append(queue, rec)
			}
		}
	}
	slices.SortFunc(queue, byUrgency)
	var (
		outs   []*Outcome
		filled []string
	)
	for _, rec := range queue {
		if out := e.fill(w, rec, now); out != nil {
			outs = append(outs, out)
			filled = append(filled, rec.ID)
		}
	}
	return outs, filled
}

// fill ranks and assigns the missing units of one incident; nil when it
// has no unit shortfall or no unit could be found.
func (e *Engine) fill(w *world, rec *IncidentRecord, now time.Time) *Outcome {
	if rec.State != StateDispatched || rec.Rec == nil || !slices.ContainsFunc(rec.Rec.Shortfalls, isUnitShortfall) {
		return nil
	}
	var missing []scenario.Requirement
	for _, r := range e.typeOf(rec).Plan.Units {
		have := 0
		for _, p := range rec.Rec.Units {
			if p.Requirement == r.Capability && !p.FirstResponder {
				have++
			}
		}
		if n := r.Count - have; n > 0 {
			missing = append(missing, scenario.Requirement{Capability: r.Capability, Count: n, Substitutes: r.Substitutes})
		}
	}
	ex := excluded(rec)
	var r Recommendation
	if len(missing) > 0 {
		r = w.state.Rank(RankRequest{At: pointOf(rec.Lat, rec.Lng), Plan: scenario.Plan{Units: missing}, Priority: rec.Priority, Now: now, Exclude: ex,
			Backlog: e.backlog(w, rec)})
		if len(r.Units) == 0 {
			return nil // still nothing available: the incident stays queued
		}
	}
	e.touch(rec, now)
	out := &Outcome{Drill: w.drill, Incident: rec}
	for _, p := range r.Units {
		p.because(Why{Code: WhyQueue})
		rec.Rec.Units = append(rec.Rec.Units, p)
		e.assign(w, out, rec, p, now)
	}
	kept := make([]Shortfall, 0, len(rec.Rec.Shortfalls)+len(r.Shortfalls))
	for _, s := range rec.Rec.Shortfalls {
		if !isUnitShortfall(s) {
			kept = append(kept, s)
		}
	}
	rec.Rec.Shortfalls = append(kept, r.Shortfalls...)
	if len(rec.Rec.Shortfalls) == 0 {
		rec.Rec.Shortfalls = nil
	}
	if len(rec.Rec.Shortfalls) == 0 {
		setFlag(rec, FlagShortfall, false)
	}
	out.Outbox = append(out.Outbox, e.assignmentRecord(w, rec, now))
	e.addEvent(out, EvIncidentUpdated, rec, nil)
	return out
}

func isUnitShortfall(s Shortfall) bool { return s.Kind == "unit" }

// Restock adds qty of item to a depot of a drill's world ("" = live): a
// delivery. The change is durable when it returns.
func (e *Engine) Restock(ctx context.Context, drill, depot, item string, qty int) error {
	_, err := e.step(ctx, "restock", func(t *txn) ([]*Outcome, error) {
		w, err := t.world(drill)
		if err != nil {
			return nil, err
		}
		if err := w.state.Inventory().Restock(depot, item, qty); err != nil {
			return nil, err
		}
		out := &Outcome{Drill: drill, Stock: []resources.StockChange{{Depot: depot, Item: item, Qty: qty, Op: resources.OpRestock}}}
		out.Events = append(out.Events, Event{At: e.cfg.Clock(), Kind: EvStockRestocked, Drill: drill,
			Body: EventBody{Depot: depot, Item: item, Qty: qty}})
		return []*Outcome{out}, nil
	})
	return err
}
