package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/zs110/dispatch/teams"
)

// EvAssignmentEscalated is the event dispatchers receive when a unit has not
// accepted its assignment in time.
const EvAssignmentEscalated = "assignment.escalated"

// EscalatorConfig configures an Escalator.
type EscalatorConfig struct {
	// Engine whose live assignments are watched. Required.
	Engine *Engine
	// After is how long a dispatched unit may go without its team leader
	// accepting before dispatchers are alerted. Default 2 minutes.
	After time.Duration
	// Every is how often assignments are checked. Default 5 seconds.
	Every time.Duration
	// Logger. Default slog.Default().
	Logger *slog.Logger
}

// Escalator alerts dispatchers to assignments nobody accepted in time.
type Escalator struct {
	cfg EscalatorConfig
	log *slog.Logger
}

// NewEscalator validates cfg and fills defaults.
func NewEscalator(cfg EscalatorConfig) (*Escalator, error) {
	if cfg.Engine == nil {
		return nil, errors.New("escalator: no engine")
	}
	if cfg.After == 0 {
		cfg.After = 2 * time.Minute
	}
	if cfg.Every == 0 {
		cfg.Every = 5 * time.Second
	}
	if cfg.After < 0 || cfg.Every < 0 {
		return nil, errors.New("escalator: negative duration")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Escalator{cfg: cfg, log: cfg.Logger.With("component", "escalator")}, nil
}

// Run checks live assignments until ctx is cancelled.
func (x *Escalator) Run(ctx context.Context) error {
	t := time.NewTicker(x.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			n, err := x.cfg.Engine.EscalateOverdue(ctx, "", x.cfg.After)
			if err != nil {
				x.log.Warn("escalate", "err", err)
			} else if n > 0 {
				x.log.Info("assignments escalated", "count", n)
			}
		}
	}
}

// EscalateOverdue marks every unit of a drill's world that has been
// dispatched for longer than after without being accepted, once, and tells
// dispatchers (an assignment.escalated event). It returns how many it marked.
func (e *Engine) EscalateOverdue(ctx context.Context, drill string, after time.Duration) (int, error) {
	outs, err := e.step(ctx, "escalate", func(t *txn) ([]*Outcome, error) {
		// Only a world in memory has assignments to watch; after a conflict
		// in this step it was dropped and is loaded again.
		w := t.loaded(drill)
		if w == nil && t.fresh {
			var err error
			if w, err = t.world(drill); err != nil {
				return nil, err
			}
		}
		if w == nil {
			return nil, nil
		}
		return e.escalateOverdue(w, after), nil
	})
	n := 0
	for _, o := range outs {
		n += len(o.Events) - 1
	}
	return n, err
}

// escalateOverdue is the change of EscalateOverdue.
func (e *Engine) escalateOverdue(w *world, after time.Duration) []*Outcome {
	now := e.cfg.Clock()
	var outs []*Outcome
	ids := make([]string, 0, len(w.open))
	for id := range w.open {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		rec := w.open[id]
		var late []string
		for _, uid := range rec.Assigned {
			u, ok := w.state.unit(uid)
			if !ok || u.Status != teams.StatusDispatched || slices.Contains(rec.Accepted, uid) || slices.Contains(rec.Escalated, uid) {
				continue
			}
			if now.Sub(u.Since) >= after {
				late = append(late, uid)
			}
		}
		if len(late) == 0 {
			continue
		}
		e.touch(rec, now)
		rec.Escalated = append(rec.Escalated, late...)
		out := &Outcome{Drill: w.drill, Incident: rec}
		for _, uid := range late {
			out.Events = append(out.Events, Event{At: now, Kind: EvAssignmentEscalated, Drill: w.drill, Town: rec.Town,
				Incident: rec.ID, Unit: uid, Body: EventBody{WaitedS: int(after.Seconds()),
					Message: fmt.Sprintf("unit %s has not accepted incident %s", uid, rec.ID)}})
		}
		e.addEvent(out, EvIncidentUpdated, rec, nil)
		outs = append(outs, out)
	}
	return outs
}
