package dispatch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

// Replicas kept fresh from the log. Several engines may share one store
// (instances of one consumer group on one PostgreSQL): each one's memory
// is a cache of the store that the others make stale. Instead of reloading
// a whole world when it finds out (a conflict, a refused input), an engine
// applies what the others commit, by the store's event log
// (Store.Changes): the rows the events name (units, incidents with their
// reservations, stock levels) are read again and set in memory, through
// the write path's lock and the views' publication. It does so
//
//   - in Follow, every EngineConfig.FollowEvery, for every world in memory;
//   - at the start of every step, for each world the step uses;
//   - after a conflict (ErrConflict), for the rows the failed write named
//     (memory is ahead of the store on those) and what the log names;
//   - when an input is refused, once, before the refusal is final.
//
// A whole-world reload remains only at the first use of a world, after a
// store error (a write that may or may not have committed), and when the
// log cannot fill the gap (ErrGap).

// Causes of a refresh, as passed to EngineConfig.OnRefresh.
const (
	RefreshFollow   = "follow"   // Follow's tick
	RefreshStep     = "step"     // the start of a step
	RefreshConflict = "conflict" // a write refused by the store: its rows set back
	RefreshStale    = "stale"    // an input refused against memory
	// ReloadGap is the cause of the whole reload (EngineConfig.OnReload)
	// made when the log cannot fill the gap.
	ReloadGap = "gap"
)

// Refresh is what one refresh of a world did (EngineConfig.OnRefresh).
type Refresh struct {
	Drill string
	Cause string
	// Events other writers committed that the refresh read; Rows it set
	// in memory (units, incidents, stock levels that differed).
	Events, Rows int
	// Lag is how long before the refresh the oldest of those events was
	// committed (0 without events): how far behind memory was.
	Lag time.Duration
}

// Follow keeps the worlds in memory fresh from the store's log until ctx
// ends: every EngineConfig.FollowEvery it applies what other writers
// committed (FollowOnce). Run it beside the consumer when several engines
// share a store; an engine alone on its store finds nothing (one cheap
// read a tick). It returns nil when ctx ends.
func (e *Engine) Follow(ctx context.Context) error {
	tick := time.NewTicker(e.cfg.FollowEvery)
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		err := e.FollowOnce(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			e.log.Warn("following the store's log", "err", err)
			failing = true
		case err == nil && failing:
			e.log.Info("following the store's log again")
			failing = false
		}
	}
}

// FollowOnce applies to every world in memory what other writers
// committed since it was last brought up to date. The store is read
// outside the engine lock; what was read is applied only if no step ran
// meanwhile (a step refreshes the worlds it uses itself).
func (e *Engine) FollowOnce(ctx context.Context) error {
	type mark struct {
		w     *world
		after int64
		skip  []SeqRange
	}
	e.mu.Lock()
	gen := e.gen
	marks := make([]mark, 0, len(e.worlds))
	for _, w := range e.worlds {
		marks = append(marks, mark{w, w.seen, slices.Clone(w.own)})
	}
	e.mu.Unlock()
	var errs []error
	for _, m := range marks {
		ch, err := e.store.Changes(ctx, m.w.drill, m.after, Want{Skip: m.skip})
		e.mu.Lock()
		switch {
		case e.worlds[m.w.drill] != m.w || e.gen != gen:
			// a step ran (and refreshed), or the world was reloaded
		case errors.Is(err, ErrGap):
			if err := e.reloadWorldLocked(ctx, m.w.drill, ReloadGap); err != nil {
				// dropped: the next step or tick loads it again
				errs = append(errs, fmt.Errorf("follow %q: reload: %w", m.w.drill, err))
			}
		case err != nil:
			errs = append(errs, fmt.Errorf("follow %q: %w", m.w.drill, err))
		default:
			e.applyChangesLocked(m.w, ch, Want{}, RefreshFollow) // the rest, if ch.More, next tick
			gen = e.gen
		}
		e.mu.Unlock()
	}
	return errors.Join(errs...)
}

// refreshLocked brings w up to date with the store: the rows other
// writers' events name, and those want asks for. It returns how many
// events of other writers it read. On ErrGap the world is reloaded whole.
func (e *Engine) refreshLocked(ctx context.Context, w *world, want Want, cause string) (int, error) {
	events := 0
	for {
		want.Skip = w.own
		ch, err := e.store.Changes(ctx, w.drill, w.seen, want)
		if errors.Is(err, ErrGap) {
			if err := e.reloadWorldLocked(ctx, w.drill, ReloadGap); err != nil {
				return events, err
			}
			return events + 1, nil
		}
		if err != nil {
			return events, fmt.Errorf("refresh: %w", err)
		}
		e.applyChangesLocked(w, ch, want, cause)
		events += ch.Events
		if !ch.More {
			return events, nil
		}
		want = Want{} // the rows asked for are read
	}
}

// reloadWorldLocked drops one world and loads it again at once.
func (e *Engine) reloadWorldLocked(ctx context.Context, drill, cause string) error {
	delete(e.worlds, drill)
	e.gen++
	if e.cfg.OnReload != nil {
		e.cfg.OnReload(cause)
	}
	_, err := e.worldLocked(ctx, drill)
	return err
}

// revertLocked sets the rows outs changed in memory back to what the store
// has (they were not written), together with what the log names.
func (e *Engine) revertLocked(ctx context.Context, outs []*Outcome, cause string) error {
	wants := map[string]*Want{}
	for _, o := range outs {
		wt := wants[o.Drill]
		if wt == nil {
			wt = &Want{}
			wants[o.Drill] = wt
		}
		if o.Incident != nil {
			wt.Incidents = append(wt.Incidents, o.Incident.ID)
		}
		for i := range o.Units {
			wt.Units = append(wt.Units, o.Units[i].UnitID)
		}
		for i := range o.Stock {
			wt.Stock = true
			if id := o.Stock[i].Incident; id != "" {
				wt.Incidents = append(wt.Incidents, id)
			}
		}
	}
	for drill, wt := range wants {
		w := e.worlds[drill]
		if w == nil {
			continue
		}
		if _, err := e.refreshLocked(ctx, w, *wt, cause); err != nil {
			return err
		}
	}
	return nil
}

// applyChangesLocked sets in w the rows ch holds (want: the rows asked for,
// absent from ch when the store does not have them), publishes them to
// the world's view and moves w's place in the log to ch.Last.
func (e *Engine) applyChangesLocked(w *world, ch *Changes, want Want, cause string) {
	var pub []*Outcome
	rows := 0
	for _, u := range ch.Units {
		if cur, ok := w.state.unit(u.ID); ok && sameUnit(cur, u) {
			continue
		}
		if err := w.state.restore(u); err != nil {
			e.log.Error("refresh unit", "unit", u.ID, "err", err)
			continue
		}
		if w.cover != nil {
			if i, ok := w.state.fleet.Number(u.ID); ok {
				w.cover.recount(w.state.fleet, i)
			}
		}
		rows++
		pub = append(pub, &Outcome{Drill: w.drill, Units: []teams.UnitChange{{UnitID: u.ID}}})
	}
	// Incidents: those the log named (in ch) and those asked for (absent
	// from ch when never stored).
	got := make(map[string]*IncidentRecord, len(ch.Incidents))
	for i := range ch.Incidents {
		got[ch.Incidents[i].ID] = &ch.Incidents[i]
	}
	ids := make([]string, 0, len(got)+len(want.Incidents))
	for i := range ch.Incidents {
		ids = append(ids, ch.Incidents[i].ID)
	}
	for _, id := range want.Incidents {
		if got[id] == nil && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	inv := w.state.Inventory()
	changed := map[string]bool{}
	for _, id := range ids {
		rec, old := got[id], w.record(id)
		if rec != nil && old != nil && old.Version == rec.Version && w.stored[id] == rec.Version {
			continue // memory has it as stored
		}
		if rec == nil && old == nil {
			continue
		}
		for _, r := range []*IncidentRecord{old, rec} {
			if r != nil && r.Rec != nil {
				for _, m := range r.Rec.Materials {
					inv.Drop(reservationID(id, m.Item, m.DepotID))
				}
			}
		}
		changed[id] = true
		e.setIncidentLocked(w, id, rec)
		rows++
		pub = append(pub, &Outcome{Drill: w.drill, Incident: w.published(id)})
	}
	if ch.Stock != nil {
		for _, l := range ch.Stock {
			if inv.OnHand(l.Depot, l.Item) == l.OnHand && inv.Available(l.Depot, l.Item) == l.OnHand-l.Reserved {
				continue
			}
			if err := inv.SetLevel(l.Depot, l.Item, l.OnHand, l.Reserved); err != nil {
				e.log.Error("refresh stock", "depot", l.Depot, "item", l.Item, "err", err)
				continue
			}
			rows++
			pub = append(pub, &Outcome{Drill: w.drill, Stock: []resources.StockChange{{Depot: l.Depot, Item: l.Item}}})
		}
	}
	for _, r := range ch.Reservations {
		if changed[r.Incident] {
			if err := inv.Restore(reservationOf(r)); err != nil {
				e.log.Error("refresh reservation", "reservation", r.Reservation, "err", err)
			}
		}
	}
	w.seen = max(w.seen, ch.Last)
	w.own = slices.DeleteFunc(w.own, func(r SeqRange) bool { return r.To <= w.seen })
	e.gen++ // whatever Follow read before this is older
	if rows > 0 {
		e.publishLocked(pub)
	}
	if e.cfg.OnRefresh != nil && (rows > 0 || ch.Events > 0) {
		r := Refresh{Drill: w.drill, Cause: cause, Events: ch.Events, Rows: rows}
		if !ch.FirstWritten.IsZero() {
			r.Lag = max(time.Since(ch.FirstWritten), 0)
		}
		e.cfg.OnRefresh(r)
	}
}

// sameUnit reports whether memory has a unit as the store's row says.
func sameUnit(v teams.UnitView, u teams.UnitState) bool {
	return v.Status == u.Status && v.Incident == u.Incident && v.Lat == u.Lat && v.Lng == u.Lng &&
		v.Since.Sub(u.Since).Abs() < time.Microsecond // PostgreSQL keeps microseconds
}

// record returns an incident of w, open or linked (nil: neither).
func (w *world) record(id string) *IncidentRecord {
	if r := w.open[id]; r != nil {
		return r
	}
	return w.linked[id]
}

// published is the record a view gets for id: a copy of the open one, or
// a record naming only the id when it is not open (the view drops it).
func (w *world) published(id string) *IncidentRecord {
	if r := w.open[id]; r != nil {
		return cloneRecord(r)
	}
	return &IncidentRecord{Incident: Incident{ID: id}}
}

// setIncidentLocked makes the store's record of id (nil: not stored) the
// world's, as load does.
func (e *Engine) setIncidentLocked(w *world, id string, rec *IncidentRecord) {
	if old := w.open[id]; old != nil {
		w.links.remove(id, old)
	}
	delete(w.open, id)
	delete(w.linked, id)
	delete(w.awaiting, id)
	delete(w.stored, id)
	w.backlog.set(id, nil)
	if rec == nil || rec.State == StateClosed || rec.State == StateCancelled {
		return
	}
	w.stored[id] = rec.Version
	if rec.State == StateLinked {
		w.linked[id] = rec
		return
	}
	w.open[id] = rec
	w.setAwaiting(rec)
	w.backlog.set(id, rec)
	if rec.HasLocation {
		w.links.add(rec, e.family(rec.Type))
	}
}
