package drill

import (
	"context"
	"fmt"
	"sync"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

// GroupCommit wraps a store (PostgreSQL) for a drill: Apply only queues the
// outcomes, and they are written in one transaction once Every have
// queued, or on Flush. A drill is the only writer of its world, so what is
// queued cannot conflict; what it gives up is durability per step: a crash
// loses the queued outcomes (replay the drill again). Reads (Load, Incident,
// EventsAfter, PendingOutbox) flush first; Decided also sees the queue. A
// failed flush makes every later call fail. Safe for concurrent use.
type GroupCommit struct {
	inner   dispatch.Store
	every   int
	mu      sync.Mutex
	queue   []*dispatch.Outcome
	decided map[gkey]bool
	err     error
}

var _ dispatch.Store = (*GroupCommit)(nil)

type gkey struct{ drill, id string }

// NewGroupCommit wraps inner; every <= 0 means 1,000 outcomes.
func NewGroupCommit(inner dispatch.Store, every int) *GroupCommit {
	if every <= 0 {
		every = 1000
	}
	return &GroupCommit{inner: inner, every: every, decided: map[gkey]bool{}}
}

// Flush writes the queued outcomes in one transaction.
func (g *GroupCommit) Flush(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.flushLocked(ctx)
}

func (g *GroupCommit) flushLocked(ctx context.Context) error {
	if g.err != nil {
		return g.err
	}
	if len(g.queue) == 0 {
		return nil
	}
	if err := g.inner.Apply(ctx, g.queue); err != nil {
		g.err = fmt.Errorf("group commit of %d outcomes: %w", len(g.queue), err)
		return g.err
	}
	g.queue = g.queue[:0]
	clear(g.decided)
	return nil
}

// Apply implements dispatch.Store: it queues the outcomes. Their event
// seqs and outbox ids are set when they are written.
func (g *GroupCommit) Apply(ctx context.Context, outs []*dispatch.Outcome) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return g.err
	}
	for _, o := range outs {
		if o.NewIncident && o.Incident != nil {
			k := gkey{o.Drill, o.Incident.ID}
			if g.decided[k] {
				return fmt.Errorf("incident %s already decided: %w", o.Incident.ID, dispatch.ErrConflict)
			}
			g.decided[k] = true
		}
	}
	g.queue = append(g.queue, outs...)
	if len(g.queue) >= g.every {
		return g.flushLocked(ctx)
	}
	return nil
}

// Decided implements dispatch.Store.
func (g *GroupCommit) Decided(ctx context.Context, drill string, ids []string) (map[string]bool, error) {
	g.mu.Lock()
	if g.err != nil {
		g.mu.Unlock()
		return nil, g.err
	}
	var queued []string
	for _, id := range ids {
		if g.decided[gkey{drill, id}] {
			queued = append(queued, id)
		}
	}
	g.mu.Unlock()
	out, err := g.inner.Decided(ctx, drill, ids)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string]bool{}
	}
	for _, id := range queued {
		out[id] = true
	}
	return out, nil
}

// Load implements dispatch.Store (after a flush).
func (g *GroupCommit) Load(ctx context.Context, drill string) (*dispatch.Snapshot, error) {
	if err := g.Flush(ctx); err != nil {
		return nil, err
	}
	return g.inner.Load(ctx, drill)
}

// Incident implements dispatch.Store (after a flush).
func (g *GroupCommit) Incident(ctx context.Context, drill, id string) (*dispatch.IncidentRecord, error) {
	if err := g.Flush(ctx); err != nil {
		return nil, err
	}
	return g.inner.Incident(ctx, drill, id)
}

// History implements dispatch.Store (after a flush).
func (g *GroupCommit) History(ctx context.Context, drill, id string) ([]dispatch.HistoryEntry, error) {
	if err := g.Flush(ctx); err != nil {
		return nil, err
	}
	return g.inner.History(ctx, drill, id)
}

// EventsAfter implements dispatch.Store (after a flush).
func (g *GroupCommit) EventsAfter(ctx context.Context, after int64, limit int) ([]dispatch.Event, error) {
	if err := g.Flush(ctx); err != nil {
		return nil, err
	}
	return g.inner.EventsAfter(ctx, after, limit)
}

// LastSeq implements dispatch.Store (after a flush).
func (g *GroupCommit) LastSeq(ctx context.Context) (int64, error) {
	if err := g.Flush(ctx); err != nil {
		return 0, err
	}
	return g.inner.LastSeq(ctx)
}

// PendingOutbox implements dispatch.Store (after a flush).
func (g *GroupCommit) PendingOutbox(ctx context.Context, limit int) ([]dispatch.OutboxRecord, error) {
	if err := g.Flush(ctx); err != nil {
		return nil, err
	}
	return g.inner.PendingOutbox(ctx, limit)
}

// MarkSent implements dispatch.Store.
func (g *GroupCommit) MarkSent(ctx context.Context, ids []int64) error {
	return g.inner.MarkSent(ctx, ids)
}

// SeedUnits implements dispatch.Store (after a flush).
func (g *GroupCommit) SeedUnits(ctx context.Context, drill string, units []teams.UnitState) error {
	if err := g.Flush(ctx); err != nil {
		return err
	}
	return g.inner.SeedUnits(ctx, drill, units)
}

// SeedStock implements dispatch.Store (after a flush).
func (g *GroupCommit) SeedStock(ctx context.Context, drill string, levels []resources.Level) error {
	if err := g.Flush(ctx); err != nil {
		return err
	}
	return g.inner.SeedStock(ctx, drill, levels)
}

// Ping implements dispatch.Store.
func (g *GroupCommit) Ping(ctx context.Context) error { return g.inner.Ping(ctx) }

// Close flushes what is queued and closes the wrapped store.
func (g *GroupCommit) Close() {
	_ = g.Flush(context.Background())
	g.inner.Close()
}
