package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/storetest"
	"github.com/zs110/dispatch/teams"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) dispatch.Store { return memstore.New(memstore.Config{}) })
}

// TestLargeBatch: a batch beyond what check scans in a slice still sees
// its own earlier outcomes.
func TestLargeBatch(t *testing.T) {
	ctx := context.Background()
	decide := func(id, unit string) *dispatch.Outcome {
		return &dispatch.Outcome{Drill: "d", NewIncident: true, Incident: &dispatch.IncidentRecord{Incident: dispatch.Incident{ID: id}, State: dispatch.StateDispatched},
			Units: []teams.UnitChange{{UnitID: unit, OldStatus: "available", NewStatus: "dispatched", Incident: id}}}
	}
	batch := func(last *dispatch.Outcome) []*dispatch.Outcome {
		var outs []*dispatch.Outcome
		for i := 0; i < 40; i++ {
			outs = append(outs, decide(fmt.Sprintf("I%d", i), fmt.Sprintf("U%d", i)))
		}
		return append(outs, last)
	}
	for name, last := range map[string]*dispatch.Outcome{"incident decided twice": decide("I3", "U99"), "unit taken twice": decide("I99", "U3")} {
		s := memstore.New(memstore.Config{})
		if err := s.Apply(ctx, batch(last)); !errors.Is(err, dispatch.ErrConflict) {
			t.Errorf("%s in a batch of 41: %v", name, err)
		}
		if d, _ := s.Decided(ctx, "d", []string{"I0"}); d["I0"] {
			t.Errorf("%s: the refused batch wrote", name)
		}
	}
	s := memstore.New(memstore.Config{})
	if err := s.Apply(ctx, batch(decide("I99", "U99"))); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Decided(ctx, "d", []string{"I0", "I39", "I99"}); len(d) != 3 {
		t.Errorf("decided %v", d)
	}
}
