package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/scenario"
)

// stallingStore is a memstore whose Apply, once armed, waits until it is
// released: a database that hangs in the middle of a write.
type stallingStore struct {
	*memstore.Store
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (s *stallingStore) Apply(ctx context.Context, outs []*dispatch.Outcome) error {
	if s.armed.CompareAndSwap(true, false) {
		close(s.entered)
		<-s.release
	}
	return s.Store.Apply(ctx, outs)
}

// TestReadsDoNotWaitOnTheStore: while a write step hangs in the store
// (holding the engine lock), every read answers from the views published
// after the last commit.
func TestReadsDoNotWaitOnTheStore(t *testing.T) {
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	st := &stallingStore{Store: memstore.New(memstore.Config{}), entered: make(chan struct{}), release: make(chan struct{})}
	eng, err := dispatch.NewEngine(dispatch.EngineConfig{Scenario: sc, Store: st, Clock: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := eng.Process(ctx, []dispatch.Incident{{ID: "A", Type: "fire.building", ReportedAt: t0, Lat: shiqiLat, Lng: shiqiLng, HasLocation: true}}, nil); err != nil {
		t.Fatal(err)
	}
	st.armed.Store(true)
	written := make(chan error, 1)
	go func() {
		_, err := eng.Process(ctx, []dispatch.Incident{{ID: "B", Type: "theft", ReportedAt: t0, Lat: shiqiLat, Lng: shiqiLng, HasLocation: true}}, nil)
		written <- err
	}()
	<-st.entered // the step is inside Apply, under the engine lock
	reads := []struct {
		name  string
		check func() error
	}{
		{"Incidents", func() error {
			if got := eng.Incidents(""); len(got) != 1 || got[0].ID != "A" {
				return fmt.Errorf("got %d incidents, want A alone (B is not committed)", len(got))
			}
			return nil
		}},
		{"Incident", func() error {
			r, err := eng.Incident(ctx, "", "A")
			if err != nil || r.State != dispatch.StateDispatched {
				return fmt.Errorf("A: %v %v", r, err)
			}
			return nil
		}},
		{"Units", func() error {
			busy := 0
			for _, u := range eng.Units("") {
				if u.Incident == "A" {
					busy++
				}
			}
			if busy == 0 {
				return errors.New("no unit on A in the view")
			}
			return nil
		}},
		{"Depots", func() error {
			if len(eng.Depots("")) != len(sc.Depots) {
				return errors.New("depots missing from the view")
			}
			return nil
		}},
	}
	for _, r := range reads {
		t.Run(r.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { done <- r.check() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second): // a read that waits on the store never returns here
				t.Fatal("the read waited on the hanging store")
			}
		})
	}
	close(st.release)
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	if got := eng.Incidents(""); len(got) != 2 {
		t.Fatalf("after the commit: %d incidents in the view, want 2", len(got))
	}
}

// conflictOnce refuses the first armed Apply with ErrConflict, as a store
// shared with another engine that got there first.
type conflictOnce struct {
	*memstore.Store
	armed atomic.Bool
	calls atomic.Int32
}

func (s *conflictOnce) Apply(ctx context.Context, outs []*dispatch.Outcome) error {
	s.calls.Add(1)
	if s.armed.CompareAndSwap(true, false) {
		return fmt.Errorf("injected: %w", dispatch.ErrConflict)
	}
	return s.Store.Apply(ctx, outs)
}

// TestEveryStepRetriesConflicts: each kind of change (decide, act, fill,
// escalate, restock) goes through the one write step, which takes it again
// from the store after a conflict instead of failing.
func TestEveryStepRetriesConflicts(t *testing.T) {
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	st := &conflictOnce{Store: memstore.New(memstore.Config{})}
	eng, err := dispatch.NewEngine(dispatch.EngineConfig{Scenario: sc, Store: st, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	at := func(id, typ string) dispatch.Incident {
		return dispatch.Incident{ID: id, Type: typ, ReportedAt: now, Lat: shiqiLat, Lng: shiqiLng, HasLocation: true}
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"process", func() error {
			_, err := eng.Process(ctx, []dispatch.Incident{at("P1", "fire.building")}, nil)
			return err
		}},
		{"act", func() error {
			if _, err := eng.Process(ctx, []dispatch.Incident{at("P3", "theft")}, nil); err != nil {
				return err
			}
			_, err := eng.Act(ctx, dispatch.Action{Kind: dispatch.ActConfirm, Incident: "P3"})
			return err
		}},
		{"escalate", func() error {
			now = now.Add(time.Hour)
			n, err := eng.EscalateOverdue(ctx, "", time.Minute)
			if err == nil && n == 0 {
				return errors.New("nothing escalated")
			}
			return err
		}},
		{"fill", func() error {
			// Every command unit out of service: a public disorder lacks its command unit.
			var cmd []dispatch.UnitEvent
			for _, u := range sc.Units {
				if u.Team == "command" {
					cmd = append(cmd, dispatch.UnitEvent{UnitID: u.ID, Status: "out_of_service", At: now})
				}
			}
			if _, err := eng.Process(ctx, []dispatch.Incident{at("Q", "public.disorder")}, cmd); err != nil {
				return err
			}
			back := cmd[0]
			back.Status = "available"
			if _, err := eng.Process(ctx, nil, []dispatch.UnitEvent{back}); err != nil {
				return err
			}
			st.armed.Store(true)
			filled, err := eng.FillShortfalls(ctx, "", nil)
			if err == nil && len(filled) != 1 {
				return fmt.Errorf("filled %v, want Q", filled)
			}
			return err
		}},
		{"restock", func() error { return eng.Restock(ctx, "", sc.Depots[0].ID, "sandbag", 10) }},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			st.armed.Store(true)
			before := st.calls.Load()
			if err := s.do(); err != nil {
				t.Fatalf("%s after one conflict: %v", s.name, err)
			}
			if st.armed.Load() {
				t.Skipf("%s wrote nothing", s.name)
			}
			if n := st.calls.Load() - before; n < 2 {
				t.Fatalf("%s: %d store writes, want the refused one and its retry", s.name, n)
			}
		})
	}
}
