package dispatch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
)

// The write step: every change of the engine — deciding incidents,
// applying unit reports, a console's action, filling the queue,
// escalating, restocking — is one function given to Engine.step, which
//
//  1. takes the engine lock (Engine.mu);
//  2. runs the change against the in-memory worlds (loading a world from
//     the store on first use, else bringing it up to date with what other
//     writers committed: follow.go); the change validates before it
//     mutates;
//  3. writes the outcomes through Store.Apply in one transaction (commit);
//  4. on ErrConflict (another engine on the same store got there first) or
//     errStale (an input refused against memory that another engine had
//     changed) sets the rows the change touched back to the store's and
//     runs the change again, up to EngineConfig.MaxRetries conflicts;
//  5. publishes the read views of the worlds it changed (reads never take
//     Engine.mu, see view.go) and, outside the lock, calls
//     EngineConfig.OnCommit.
//
// Lock order: Engine.mu, then Engine.vmu (view.go). Readers take only vmu,
// which is never held across a store call.

// change is what one step does to the worlds: it returns the outcomes to
// write. An error leaves memory as it was (a change validates before it
// mutates), except errStale, returned with the outcomes made so far: the
// step sets their rows back from the store.
type change func(t *txn) ([]*Outcome, error)

// txn is a change's access to the engine inside the lock.
type txn struct {
	e     *Engine
	ctx   context.Context
	fresh bool // the step is taken again after a conflict or a refusal: a refusal is final
	used  []*world
	// answer, when set, is the step's error once its outcomes are written
	// (a confirm refused because the recommendation had to change).
	answer error
	// actor is the person's action of the step (Act), for the history.
	actor *Action
	// reports: the change's first reports outcomes come from vehicle
	// terminals' unit reports (Process), for the history.
	reports int
}

// world returns the world of a drill ("" = live), loading it on first use;
// a world already in memory is brought up to date with the store's log
// the first time the step uses it.
func (t *txn) world(drill string) (*world, error) {
	w, loaded := t.e.worlds[drill]
	if !loaded {
		var err error
		if w, err = t.e.worldLocked(t.ctx, drill); err != nil {
			return nil, err
		}
	}
	if !slices.Contains(t.used, w) {
		if loaded {
			if _, err := t.e.refreshLocked(t.ctx, w, Want{}, RefreshStep); err != nil {
				return nil, err
			}
			w = t.e.worlds[drill] // reloaded on a gap
		}
		t.used = append(t.used, w)
	}
	return w, nil
}

// loaded returns a drill's world if it is in memory, without loading it.
func (t *txn) loaded(drill string) *world {
	w := t.e.worlds[drill]
	if w != nil && !slices.Contains(t.used, w) {
		t.used = append(t.used, w)
	}
	return w
}

// refused turns an input refused against memory into errStale when
// another writer changed the store since w was brought up to date (the
// refresh finds events of theirs, and applies them): the step is then
// taken again, once, and may find it legal. Otherwise (an engine alone on
// its store, or the second time) it returns err.
func (t *txn) refused(w *world, err error) error {
	if t.fresh {
		return err
	}
	n, rerr := t.e.refreshLocked(t.ctx, w, Want{}, RefreshStale)
	if rerr == nil && n == 0 {
		return err
	}
	return fmt.Errorf("%w: %w", errStale, err)
}

// step runs fn as one write step (see the comment at the top of this file)
// and returns the outcomes it wrote, once they are durable.
func (e *Engine) step(ctx context.Context, what string, fn change) ([]*Outcome, error) {
	fresh := false
	conflicts := 0
	for {
		outs, err := e.stepOnce(ctx, fn, fresh)
		if len(outs) > 0 && e.cfg.OnCommit != nil {
			e.cfg.OnCommit(outs) // written, even when the step answers an error
		}
		switch {
		case len(outs) > 0 || err == nil:
			return outs, err
		case errors.Is(err, errStale) && !fresh:
			fresh = true
		case errors.Is(err, ErrConflict) && conflicts < e.cfg.MaxRetries:
			conflicts++
			fresh = true
			e.log.Info("conflict, taking the step again from the store", "step", what, "err", err, "attempt", conflicts)
		case errors.Is(err, ErrConflict):
			return nil, fmt.Errorf("%s: gave up after %d conflicts: %w", what, conflicts, err)
		default:
			return nil, err
		}
	}
}

func (e *Engine) stepOnce(ctx context.Context, fn change, fresh bool) ([]*Outcome, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := &txn{e: e, ctx: ctx, fresh: fresh}
	outs, err := fn(t)
	if err != nil {
		if errors.Is(err, errStale) {
			for _, w := range t.used {
				outs = append(outs, w.takeExtra()...)
			}
			if rerr := e.revertLocked(ctx, outs, RefreshStale); rerr != nil {
				e.reloadLocked(ReloadStale)
			}
		}
		return nil, err
	}
	for _, w := range t.used {
		outs = append(outs, w.takeExtra()...)
	}
	// The queue rules (queue.go) react to what the change did, and to what
	// they did themselves, a few rounds at most.
	for round, more := 0, outs; round < 3 && len(more) > 0; round++ {
		more = e.settleLocked(t, more)
		outs = append(outs, more...)
	}
	if len(outs) == 0 {
		return nil, t.answer
	}
	if !e.cfg.NoHistory {
		e.addHistory(t, outs)
	}
	if err := e.commitLocked(ctx, outs); err != nil {
		return nil, err
	}
	e.publishLocked(outs)
	return outs, t.answer
}

// commitLocked writes outs durably. Every outcome on an existing incident
// carries the version the engine read it at, so that a change made
// meanwhile by another engine on the same store fails with ErrConflict
// instead of being overwritten. On a conflict the rows outs name are set
// back to the store's (memory is ahead of it on them: follow.go); on
// another error the worlds are reloaded (the write may have committed); on
// success the stored versions move on.
func (e *Engine) commitLocked(ctx context.Context, outs []*Outcome) error {
	for _, o := range outs {
		if o.Incident != nil && !o.NewIncident {
			if w := e.worlds[o.Drill]; w != nil {
				o.BaseVersion = w.stored[o.Incident.ID]
			}
		}
	}
	freeze(outs)
	if err := e.store.Apply(ctx, outs); err != nil {
		switch {
		case !errors.Is(err, ErrConflict):
			e.reloadLocked(ReloadError)
		case e.revertLocked(ctx, outs, RefreshConflict) != nil:
			e.reloadLocked(ReloadConflict)
		}
		return fmt.Errorf("store: %w", err)
	}
	e.learnCommitted(outs)
	e.gen++
	var lo, hi int64 // the Seqs this write took (one block: the store numbers a write's events together)
	for _, o := range outs {
		for i := range o.Events {
			if sq := o.Events[i].Seq; sq > 0 {
				lo, hi = min(cmp.Or(lo, sq), sq), max(hi, sq)
			}
		}
		if o.Incident == nil {
			continue
		}
		w := e.worlds[o.Drill]
		if w == nil {
			continue
		}
		w.backlog.set(o.Incident.ID, w.open[o.Incident.ID])
		if w.open[o.Incident.ID] != nil || w.linked[o.Incident.ID] != nil {
			w.stored[o.Incident.ID] = o.Incident.Version
		} else {
			delete(w.stored, o.Incident.ID)
		}
	}
	if hi > 0 {
		for _, w := range e.worlds {
			if lo == w.seen+1 && len(w.own) == 0 {
				w.seen = hi // nobody else wrote in between
			} else {
				w.own = append(w.own, SeqRange{lo, hi}) // others did: a refresh reads theirs, skips these
			}
		}
	}
	return nil
}
