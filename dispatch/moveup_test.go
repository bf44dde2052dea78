package dispatch_test

import (
	"context"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

// twoTowns: town A with one patrol car, town B (12 km away) with two;
// each station covers its own town within the P1 target only.
func twoTowns(t *testing.T, now *time.Time, mode string) (*dispatch.Engine, *memstore.Store) {
	t.Helper()
	a, b := geo.Point{Lat: 22.5, Lng: 113.4}, geo.Point{Lat: 22.608, Lng: 113.4}
	patrol := []scenario.Requirement{{Capability: "patrol", Count: 1}}
	sc := &scenario.Scenario{
		Name:     "two towns",
		Towns:    []geo.Town{{Code: "a", Kind: "town", Center: a, Population: 100}, {Code: "b", Kind: "town", Center: b, Population: 100}},
		Teams:    []teams.Team{{ID: "police", Kind: teams.KindProfessional}},
		Stations: []teams.Station{{ID: "SA", Town: "a", Location: a}, {ID: "SB", Town: "b", Location: b}},
		Units: []teams.Unit{{ID: "PA-1", Team: "police", Capabilities: []string{"patrol"}, Station: "SA", Profile: "car"},
			{ID: "PB-1", Team: "police", Capabilities: []string{"patrol"}, Station: "SB", Profile: "car"},
			{ID: "PB-2", Team: "police", Capabilities: []string{"patrol"}, Station: "SB", Profile: "car"}},
		ETA:      geo.ETAConfig{Profiles: map[string]geo.SpeedProfile{"car": {SpeedKmh: 40}, "truck": {SpeedKmh: 30}}},
		Types:    []scenario.IncidentType{{Code: "robbery", Family: "v", Priority: 1, Plan: scenario.Plan{Units: patrol}}},
		Fallback: "robbery",
		Targets:  [4]float64{600, 900, 1800, 3600},
	}
	st := memstore.New(memstore.Config{})
	eng, err := dispatch.NewEngine(dispatch.EngineConfig{Scenario: sc, Store: st, MoveUp: mode, Clock: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return eng, st
}

func moveUps(t *testing.T, st *memstore.Store) []dispatch.Event {
	t.Helper()
	evs, err := st.EventsAfter(context.Background(), 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var out []dispatch.Event
	for _, ev := range evs {
		if ev.Kind == dispatch.EvMoveUp {
			out = append(out, ev)
		}
	}
	return out
}

func unitStatus(eng *dispatch.Engine, id string) teams.Status {
	for _, u := range eng.Units("") {
		if u.ID == id {
			return u.Status
		}
	}
	return ""
}

// TestMoveUpRecommendAndRelocate: live, a dispatch that leaves town A
// without an idle patrol car makes the engine propose one of B's; the
// dispatcher's relocate sends it (relocating, then available at SA).
// Automatic in drills; never with move-up off.
func TestMoveUpRecommendAndRelocate(t *testing.T) {
	ctx := context.Background()
	robbery := func(now time.Time) dispatch.Incident {
		return dispatch.Incident{ID: "R", Type: "robbery", ReportedAt: now, Lat: 22.501, Lng: 113.4, HasLocation: true}
	}
	for _, tc := range []struct {
		mode      string
		proposals int
		moved     teams.Status // PB-1's status after the dispatch
	}{
		{dispatch.MoveUpOff, 0, teams.StatusAvailable},
		{dispatch.MoveUpRecommend, 1, teams.StatusAvailable},
		{dispatch.MoveUpAuto, 1, teams.StatusRelocating},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			now := t0
			eng, st := twoTowns(t, &now, tc.mode)
			if _, err := eng.Process(ctx, []dispatch.Incident{robbery(now)}, nil); err != nil {
				t.Fatal(err)
			}
			evs := moveUps(t, st)
			if len(evs) != tc.proposals {
				t.Fatalf("%d move-up events, want %d", len(evs), tc.proposals)
			}
			if got := unitStatus(eng, "PB-1"); got != tc.moved {
				t.Fatalf("PB-1 is %s, want %s", got, tc.moved)
			}
			if tc.mode != dispatch.MoveUpRecommend {
				return
			}
			if evs[0].Unit != "PB-1" || evs[0].Body.Station != "SA" || len(evs[0].Data) == 0 {
				t.Fatalf("proposal %+v (data %s), want PB-1 to SA", evs[0], evs[0].Data)
			}
			if _, err := eng.Act(ctx, dispatch.Action{Kind: dispatch.ActRelocate, Unit: "PB-1", Station: "SA", Role: dispatch.RoleDispatcher}); err != nil {
				t.Fatal(err)
			}
			if got := unitStatus(eng, "PB-1"); got != teams.StatusRelocating {
				t.Fatalf("after relocate PB-1 is %s", got)
			}
			now = now.Add(20 * time.Minute)
			if rej, err := eng.Process(ctx, nil, []dispatch.UnitEvent{{UnitID: "PB-1", Status: "available", At: now, HasPosition: true, Lat: 22.5, Lng: 113.4}}); err != nil || len(rej) > 0 {
				t.Fatalf("arrival: %v %v", rej, err)
			}
			if got := unitStatus(eng, "PB-1"); got != teams.StatusAvailable {
				t.Fatalf("after arriving PB-1 is %s", got)
			}
			if _, err := eng.Act(ctx, dispatch.Action{Kind: dispatch.ActRelocate, Unit: "PB-1", Station: "NOWHERE", Role: dispatch.RoleDispatcher}); err == nil {
				t.Fatal("relocate to an unknown station accepted")
			}
		})
	}
}
