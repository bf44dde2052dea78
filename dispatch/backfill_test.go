package dispatch_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

// oneUnitEngine is a town with one patrol car, a depot of 3 kits, and two
// types (P3 theft, P1 urgent), every priority dispatched at once.
func oneUnitEngine(t *testing.T, now *time.Time) (*dispatch.Engine, *memstore.Store) {
	t.Helper()
	at := geo.Point{Lat: 22.5, Lng: 113.4}
	patrol := []scenario.Requirement{{Capability: "patrol", Count: 1}}
	sc := &scenario.Scenario{
		Name:     "one",
		Towns:    []geo.Town{{Code: "t", Kind: "town", Center: at, Population: 1}},
		Teams:    []teams.Team{{ID: "police", Kind: teams.KindProfessional}},
		Stations: []teams.Station{{ID: "S", Town: "t", Location: at}},
		Units:    []teams.Unit{{ID: "PAT-1", Team: "police", Capabilities: []string{"patrol"}, Station: "S", Profile: "car"}},
		Depots:   []resources.Depot{{ID: "D", Town: "t", Location: at, Stock: map[string]int{"kit": 3}}},
		ETA:      geo.ETAConfig{Profiles: map[string]geo.SpeedProfile{"car": {SpeedKmh: 36}, "truck": {SpeedKmh: 30}}},
		Types: []scenario.IncidentType{{Code: "theft", Family: "a", Priority: 3, Plan: scenario.Plan{Units: patrol}},
			{Code: "urgent", Family: "b", Priority: 1, Plan: scenario.Plan{Units: patrol}}},
		Fallback: "theft",
		Targets:  [4]float64{600, 900, 1800, 3600},
	}
	store := memstore.New(memstore.Config{})
	eng, err := dispatch.NewEngine(dispatch.EngineConfig{Scenario: sc, Store: store, ConfirmFrom: 5, Clock: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return eng, store
}

func TestFillShortfalls(t *testing.T) {
	ctx := context.Background()
	now := t0
	eng, store := oneUnitEngine(t, &now)
	inc := func(id, typ string, lat float64) dispatch.Incident {
		return dispatch.Incident{ID: id, Type: typ, ReportedAt: now, Lat: lat, Lng: 113.4, HasLocation: true}
	}
	if _, err := eng.Process(ctx, []dispatch.Incident{inc("I1", "theft", 22.51)}, nil); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if _, err := eng.Process(ctx, []dispatch.Incident{inc("I2", "theft", 22.52)}, nil); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if _, err := eng.Process(ctx, []dispatch.Incident{inc("I3", "urgent", 22.49)}, nil); err != nil {
		t.Fatal(err)
	}
	i2, _ := eng.Incident(ctx, "", "I2")
	if i2.State != dispatch.StateDispatched || len(i2.Assigned) != 0 || len(i2.Rec.Shortfalls) != 1 || !slices.Contains(i2.Flags, dispatch.FlagShortfall) {
		t.Fatalf("I2 without a unit: %+v", i2)
	}
	// no unit free: nothing changes
	if got, err := eng.FillShortfalls(ctx, "", nil); err != nil || got != nil {
		t.Fatalf("fill with no unit: %v %v", got, err)
	}
	// PAT-1 clears I1: the urgent I3 (P1) goes first, though I2 is older
	for _, st := range []string{"en_route", "on_scene", "available"} {
		now = now.Add(time.Minute)
		if rej, err := eng.Process(ctx, nil, []dispatch.UnitEvent{{UnitID: "PAT-1", Status: st, At: now, Incident: "I1"}}); err != nil || len(rej) > 0 {
			t.Fatalf("%s: %v %v", st, rej, err)
		}
	}
	seq := len(mustEvents(t, store))
	got, err := eng.FillShortfalls(ctx, "", []string{"I2", "I3", "nope"})
	if err != nil || !slices.Equal(got, []string{"I3"}) {
		t.Fatalf("filled %v %v, want [I3]", got, err)
	}
	i3, _ := eng.Incident(ctx, "", "I3")
	if !slices.Equal(i3.Assigned, []string{"PAT-1"}) || len(i3.Rec.Shortfalls) != 0 || slices.Contains(i3.Flags, dispatch.FlagShortfall) || i3.Version != 2 {
		t.Fatalf("I3 after the fill: %+v", i3)
	}
	kinds := map[string]int{}
	for _, e := range mustEvents(t, store)[seq:] {
		kinds[e.Kind]++
	}
	if kinds[dispatch.EvAssignment] != 1 || kinds[dispatch.EvIncidentUpdated] != 1 {
		t.Errorf("events of the fill: %v", kinds)
	}
	if i2, _ = eng.Incident(ctx, "", "I2"); len(i2.Assigned) != 0 {
		t.Errorf("I2 got %v", i2.Assigned)
	}
}

func mustEvents(t *testing.T, s dispatch.Store) []dispatch.Event {
	t.Helper()
	evs, err := s.EventsAfter(context.Background(), 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestRestock(t *testing.T) {
	ctx := context.Background()
	now := t0
	eng, store := oneUnitEngine(t, &now)
	if err := eng.Restock(ctx, "d", "D", "kit", 5); err != nil {
		t.Fatal(err)
	}
	if err := eng.Restock(ctx, "d", "D", "pump", 1); err != nil { // a new item in the depot
		t.Fatal(err)
	}
	if av := eng.Depots("d")[0].Available; av["kit"] != 8 || av["pump"] != 1 {
		t.Errorf("available after restock %v", av)
	}
	snap, err := store.Load(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Stock) != 2 || snap.Stock[0].OnHand != 8 || snap.Stock[1].OnHand != 1 {
		t.Errorf("stored stock %+v", snap.Stock)
	}
	if live := eng.Depots(""); live != nil {
		if live[0].Available["kit"] != 3 {
			t.Errorf("live stock changed: %v", live[0].Available)
		}
	}
	evs := mustEvents(t, store)
	if len(evs) != 2 || evs[0].Kind != dispatch.EvStockRestocked || evs[0].Drill != "d" {
		t.Errorf("events %+v", evs)
	}
	for _, bad := range []struct {
		depot string
		qty   int
	}{{"D", 0}, {"D", -1}, {"nope", 1}} {
		if err := eng.Restock(ctx, "d", bad.depot, "kit", bad.qty); err == nil {
			t.Errorf("restock %v accepted", bad)
		}
	}
}
