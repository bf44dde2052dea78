package dispatch_test

import (
	"context"
	"io"
	"log/slog"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

// lineAt is where the calls of the line city come from.
var lineAt = geo.Point{Lat: 22.5, Lng: 113.3}

// lineEngine is an engine on a one-town city whose units each have a
// station distM metres east of lineAt (cars at 10 m/s, no detour), a
// militia reserve with a 30-minute activation, an "urgent" P1 type (one
// patrol, 30 minutes on scene) and a traffic accident (a traffic unit,
// patrol first responder).
func lineEngine(t *testing.T, policy string, now *time.Time, units map[string]float64) *dispatch.Engine {
	t.Helper()
	sc := &scenario.Scenario{
		Name:  "line",
		Towns: []geo.Town{{Code: "t", Center: lineAt, Kind: "urban district"}},
		Teams: []teams.Team{{ID: "police", Kind: teams.KindProfessional}, {ID: "traffic", Kind: teams.KindProfessional},
			{ID: "militia", Kind: teams.KindReserve, ActivationDelayS: 1800}},
		ETA: geo.ETAConfig{DetourFactor: 1, Profiles: map[string]geo.SpeedProfile{"car": {SpeedKmh: 36}}},
		Types: []scenario.IncidentType{
			{Code: "urgent", Family: "urgent", Priority: 1, ServiceS: 1800, Plan: scenario.Plan{Units: []scenario.Requirement{{Capability: "patrol", Count: 1}}}},
			{Code: "traffic.accident", Family: "traffic", Priority: 1, ServiceS: 1800, Plan: scenario.Plan{Units: []scenario.Requirement{{
				Capability: "traffic_control", Count: 1, First: &scenario.FirstResponse{Capabilities: []string{"patrol"}, MarginS: 60}}}}},
		},
		Fallback: "urgent",
		Targets:  [4]float64{600, 900, 1800, 3600},
	}
	for _, id := range slices.Sorted(func(yield func(string) bool) {
		for id := range units {
			if !yield(id) {
				return
			}
		}
	}) {
		team, caps := "police", []string{"patrol"}
		switch id[:3] {
		case "TRF":
			team, caps = "traffic", []string{"traffic_control"}
		case "MIL":
			team, caps = "militia", []string{"labour", "patrol"}
		}
		p := geo.Point{Lat: lineAt.Lat, Lng: lineAt.Lng + units[id]/(111320*math.Cos(lineAt.Lat*math.Pi/180))}
		sc.Stations = append(sc.Stations, teams.Station{ID: "S-" + id, Town: "t", Location: p})
		sc.Units = append(sc.Units, teams.Unit{ID: id, Team: team, Capabilities: caps, Station: "S-" + id, Profile: "car"})
	}
	eng, err := dispatch.NewEngine(dispatch.EngineConfig{Scenario: sc, Store: memstore.New(memstore.Config{}), Rank: dispatch.RankConfig{Policy: policy},
		Clock: func() time.Time { return *now }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return eng
}

func lineCall(id, typ string, at time.Time) dispatch.Incident {
	return dispatch.Incident{ID: id, Type: typ, ReportedAt: at, Lat: lineAt.Lat, Lng: lineAt.Lng, HasLocation: true}
}

// TestEngineExpectedFree: the engine tells the ranker when a busy unit is
// expected free: assigned at t0 with a 50 s ETA and 30 minutes on scene,
// PAT-1 is expected at t0+1850 s; reported on scene at t0+1700 s, at
// t0+3500 s. A second urgent call at t0+1600 s has the far PAT-2 (2,500 s)
// and the militia (1,810 s). Under responders the militia is called only
// when PAT-1 cannot beat it: not with the assignment's estimate (free in
// 250 s: within the target), but with the on-scene one (free in 1,900 s).
// Closest calls the militia either way.
func TestEngineExpectedFree(t *testing.T) {
	tests := []struct {
		name    string
		policy  string
		onScene bool
		want    string
	}{
		{"responders, assignment estimate", dispatch.PolicyResponders, false, "PAT-2"},
		{"responders, on-scene estimate", dispatch.PolicyResponders, true, "MIL-1"},
		{"closest", dispatch.PolicyClosest, false, "MIL-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			now := t0
			eng := lineEngine(t, tt.policy, &now, map[string]float64{"PAT-1": 500, "PAT-2": 25000, "MIL-1": 100})
			if _, err := eng.Process(ctx, []dispatch.Incident{lineCall("C1", "urgent", now)}, nil); err != nil {
				t.Fatal(err)
			}
			if tt.onScene {
				now = t0.Add(1700 * time.Second)
				evs := []dispatch.UnitEvent{{UnitID: "PAT-1", Status: "en_route", At: now, Incident: "C1"},
					{UnitID: "PAT-1", Status: "on_scene", At: now, Incident: "C1"}}
				if rej, err := eng.Process(ctx, nil, evs); err != nil || len(rej) > 0 {
					t.Fatalf("%v %v", rej, err)
				}
			}
			now = t0.Add(1600 * time.Second)
			if _, err := eng.Process(ctx, []dispatch.Incident{lineCall("C2", "urgent", now)}, nil); err != nil {
				t.Fatal(err)
			}
			rec, err := eng.Incident(ctx, "", "C2")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rec.Assigned, []string{tt.want}) {
				t.Fatalf("assigned %v, want %s (%+v)", rec.Assigned, tt.want, rec.Rec.Units)
			}
		})
	}
}

// TestEngineFirstResponder: a declined first responder is not replaced
// (the traffic unit still comes), and FillShortfalls does not count a first
// responder as the unit its requirement is missing.
func TestEngineFirstResponder(t *testing.T) {
	ctx := context.Background()
	now := t0
	eng := lineEngine(t, dispatch.PolicyResponders, &now, map[string]float64{"PAT-1": 500, "PAT-2": 600, "TRF-1": 9000, "TRF-2": 100})
	// TRF-2 is out of service: the accident gets TRF-1 and PAT-1 ahead.
	if rej, err := eng.Process(ctx, nil, []dispatch.UnitEvent{{UnitID: "TRF-2", Status: "out_of_service", At: now}}); err != nil || len(rej) > 0 {
		t.Fatalf("%v %v", rej, err)
	}
	if _, err := eng.Process(ctx, []dispatch.Incident{lineCall("A1", "traffic.accident", now)}, nil); err != nil {
		t.Fatal(err)
	}
	rec, err := eng.Incident(ctx, "", "A1")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rec.Assigned, []string{"TRF-1", "PAT-1"}) || !rec.Rec.Units[1].FirstResponder {
		t.Fatalf("assigned %v: %+v", rec.Assigned, rec.Rec.Units)
	}
	// PAT-1 cannot go: nobody replaces it.
	if rej, err := eng.Process(ctx, nil, []dispatch.UnitEvent{{UnitID: "PAT-1", Status: "available", At: now}}); err != nil || len(rej) > 0 {
		t.Fatalf("%v %v", rej, err)
	}
	rec, _ = eng.Incident(ctx, "", "A1")
	if !slices.Equal(rec.Assigned, []string{"TRF-1"}) || len(rec.Rec.Units) != 1 || len(rec.Rec.Shortfalls) != 0 {
		t.Fatalf("after the decline: assigned %v, units %+v, shortfalls %+v", rec.Assigned, rec.Rec.Units, rec.Rec.Shortfalls)
	}
	// A second accident: TRF-1 is taken, so a first responder goes and the
	// traffic unit is a shortfall; the first responder does not fill it.
	a2 := lineCall("A2", "traffic.accident", now)
	a2.Lat += 0.01 // 1.1 km north: not a duplicate call of A1
	if _, err := eng.Process(ctx, []dispatch.Incident{a2}, nil); err != nil {
		t.Fatal(err)
	}
	if rec, err = eng.Incident(ctx, "", "A2"); err != nil {
		t.Fatal(err)
	}
	if len(rec.Assigned) != 1 || !rec.Rec.Units[0].FirstResponder || len(rec.Rec.Shortfalls) != 1 || rec.Rec.Shortfalls[0].What != "traffic_control" {
		t.Fatalf("A2: assigned %v, units %+v, shortfalls %+v", rec.Assigned, rec.Rec.Units, rec.Rec.Shortfalls)
	}
	if rej, err := eng.Process(ctx, nil, []dispatch.UnitEvent{{UnitID: "TRF-2", Status: "available", At: now}}); err != nil || len(rej) > 0 {
		t.Fatalf("%v %v", rej, err)
	}
	if _, err := eng.FillShortfalls(ctx, "", []string{"A2"}); err != nil {
		t.Fatal(err)
	}
	rec, _ = eng.Incident(ctx, "", "A2")
	if !slices.Contains(rec.Assigned, "TRF-2") || len(rec.Rec.Shortfalls) != 0 {
		t.Fatalf("A2 after the fill: assigned %v, shortfalls %+v", rec.Assigned, rec.Rec.Shortfalls)
	}
}
