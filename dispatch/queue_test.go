package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

// twoPatrolEngine is a town with two patrol cars, PAT-1 nearer the calls
// than PAT-2; thefts (P3) wait for a dispatcher, robberies (P1) go at once.
func twoPatrolEngine(t *testing.T, now *time.Time, fillOnClear bool) *dispatch.Engine {
	t.Helper()
	eng, err := dispatch.NewEngine(twoPatrolConfig(now, fillOnClear))
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// twoPatrolConfig is twoPatrolEngine's configuration, on a new memstore.
func twoPatrolConfig(now *time.Time, fillOnClear bool) dispatch.EngineConfig {
	at, far := geo.Point{Lat: 22.5, Lng: 113.4}, geo.Point{Lat: 22.56, Lng: 113.4}
	patrol := []scenario.Requirement{{Capability: "patrol", Count: 1}}
	sc := &scenario.Scenario{
		Name:     "two",
		Towns:    []geo.Town{{Code: "t", Kind: "town", Center: at, Population: 1}},
		Teams:    []teams.Team{{ID: "police", Kind: teams.KindProfessional}},
		Stations: []teams.Station{{ID: "S1", Town: "t", Location: at}, {ID: "S2", Town: "t", Location: far}},
		Units: []teams.Unit{{ID: "PAT-1", Team: "police", Capabilities: []string{"patrol"}, Station: "S1", Profile: "car"},
			{ID: "PAT-2", Team: "police", Capabilities: []string{"patrol"}, Station: "S2", Profile: "car"}},
		ETA: geo.ETAConfig{Profiles: map[string]geo.SpeedProfile{"car": {SpeedKmh: 36}, "truck": {SpeedKmh: 30}}},
		Types: []scenario.IncidentType{{Code: "theft", Family: "a", Priority: 3, Plan: scenario.Plan{Units: patrol}},
			{Code: "robbery", Family: "b", Priority: 1, Plan: scenario.Plan{Units: patrol}}},
		Fallback: "theft",
		Targets:  [4]float64{600, 900, 1800, 3600},
	}
	return dispatch.EngineConfig{Scenario: sc, Store: memstore.New(memstore.Config{}), Clock: func() time.Time { return *now }, FillOnClear: fillOnClear}
}

// call is a call near PAT-1's station, each id at its own place (400 m
// apart: never linked as duplicates).
func call(id, typ string, at time.Time) dispatch.Incident {
	return dispatch.Incident{ID: id, Type: typ, ReportedAt: at, Lat: 22.501 + 0.004*float64(id[0]-'A'), Lng: 113.4, HasLocation: true}
}

func mustIncident(t *testing.T, eng *dispatch.Engine, id string) *dispatch.IncidentRecord {
	t.Helper()
	r, err := eng.Incident(context.Background(), "", id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func picks(r *dispatch.IncidentRecord) []string {
	var out []string
	if r.Rec != nil {
		for _, p := range r.Rec.Units {
			out = append(out, p.UnitID)
		}
	}
	return out
}

// TestWaitingRecommendationFollowsTheUnit: a P3 (A) waits with PAT-1; a P1
// (B) takes PAT-1: the P3 is ranked again at once (PAT-2), with a new version;
// a confirm naming the version the dispatcher saw before is refused with
// ErrChanged, one naming the new version sends PAT-2.
func TestWaitingRecommendationFollowsTheUnit(t *testing.T) {
	ctx := context.Background()
	now := t0
	eng := twoPatrolEngine(t, &now, false)
	if _, err := eng.Process(ctx, []dispatch.Incident{call("A", "theft", now)}, nil); err != nil {
		t.Fatal(err)
	}
	seen := mustIncident(t, eng, "A")
	if seen.State != dispatch.StateAwaiting || !slices.Equal(picks(seen), []string{"PAT-1"}) || seen.RecVersion != seen.Version {
		t.Fatalf("A: %s %v rec_version %d version %d", seen.State, picks(seen), seen.RecVersion, seen.Version)
	}
	now = now.Add(time.Minute)
	if _, err := eng.Process(ctx, []dispatch.Incident{call("B", "robbery", now)}, nil); err != nil {
		t.Fatal(err)
	}
	if r := mustIncident(t, eng, "B"); !slices.Equal(r.Assigned, []string{"PAT-1"}) {
		t.Fatalf("B assigned %v, want PAT-1", r.Assigned)
	}
	now2 := mustIncident(t, eng, "A")
	if !slices.Equal(picks(now2), []string{"PAT-2"}) || now2.Version <= seen.Version || now2.RecVersion != now2.Version {
		t.Fatalf("A after B took PAT-1: %v version %d rec_version %d (was %d)", picks(now2), now2.Version, now2.RecVersion, seen.Version)
	}
	_, err := eng.Act(ctx, dispatch.Action{Kind: dispatch.ActConfirm, Incident: "A", Version: seen.Version, Role: dispatch.RoleDispatcher})
	if !errors.Is(err, dispatch.ErrChanged) || !errors.Is(err, dispatch.ErrBadAction) {
		t.Fatalf("confirm of the old recommendation: %v, want ErrChanged", err)
	}
	got, err := eng.Act(ctx, dispatch.Action{Kind: dispatch.ActConfirm, Incident: "A", Version: now2.Version, Role: dispatch.RoleDispatcher})
	if err != nil || !slices.Equal(got.Assigned, []string{"PAT-2"}) {
		t.Fatalf("confirm of the new one: %v %v", got, err)
	}
}

// TestSwappedOutNeverComesBack: a dispatcher swaps PAT-1 out for PAT-2,
// PAT-2 declines: the incident is not offered PAT-1 again.
func TestSwappedOutNeverComesBack(t *testing.T) {
	ctx := context.Background()
	now := t0
	eng := twoPatrolEngine(t, &now, false)
	if _, err := eng.Process(ctx, []dispatch.Incident{call("A", "robbery", now)}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Act(ctx, dispatch.Action{Kind: dispatch.ActSwap, Incident: "A", Unit: "PAT-1", NewUnit: "PAT-2", By: "d1"}); err != nil {
		t.Fatal(err)
	}
	r, err := eng.Act(ctx, dispatch.Action{Kind: dispatch.ActDecline, Incident: "A", Unit: "PAT-2", Reason: "flat tyre", Team: "police"})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(r.Assigned, "PAT-1") || !slices.Contains(r.SwappedOut, "PAT-1") || !slices.Contains(r.Declined, "PAT-2") {
		t.Fatalf("after the decline: assigned %v, swapped out %v, declined %v", r.Assigned, r.SwappedOut, r.Declined)
	}
	if len(r.Rec.Shortfalls) == 0 {
		t.Fatalf("no shortfall recorded: %+v", r.Rec)
	}
}

// TestFillOnClear: with the live queue on, a unit that clears goes to the
// most urgent incident still missing a unit; off, it stays available.
func TestFillOnClear(t *testing.T) {
	for _, tc := range []struct {
		name string
		on   bool
	}{{"on", true}, {"off", false}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			now := t0
			eng := twoPatrolEngine(t, &now, tc.on)
			if _, err := eng.Process(ctx, []dispatch.Incident{call("A", "robbery", now), call("B", "robbery", now.Add(time.Second))}, nil); err != nil {
				t.Fatal(err)
			}
			now = now.Add(time.Minute)
			if _, err := eng.Process(ctx, []dispatch.Incident{call("C", "robbery", now)}, nil); err != nil {
				t.Fatal(err)
			}
			if c := mustIncident(t, eng, "C"); len(c.Assigned) != 0 {
				t.Fatalf("C got %v with both cars busy", c.Assigned)
			}
			for _, st := range []string{"en_route", "on_scene", "available"} {
				now = now.Add(time.Minute)
				if rej, err := eng.Process(ctx, nil, []dispatch.UnitEvent{{UnitID: "PAT-1", Status: st, At: now}}); err != nil || len(rej) > 0 {
					t.Fatalf("PAT-1 %s: %v %v", st, rej, err)
				}
			}
			c := mustIncident(t, eng, "C")
			if got := slices.Contains(c.Assigned, "PAT-1"); got != tc.on {
				t.Fatalf("fill on clear %v: C assigned %v", tc.on, c.Assigned)
			}
		})
	}
}

// TestDiversion: a P1 that only a far unit could reach takes the near car
// on its way to a P3, which goes back to the queue with the reason; with
// diversion off the P1 gets the far car, late.
func TestDiversion(t *testing.T) {
	for _, tc := range []struct {
		divert bool
		want   string
	}{{false, "PAT-2"}, {true, "PAT-1"}} {
		ctx := context.Background()
		now := t0
		eng := twoPatrolEngine(t, &now, false)
		if tc.divert {
			var err error
			eng, err = dispatch.NewEngine(dispatch.EngineConfig{Scenario: eng.Scenario(), Store: memstore.New(memstore.Config{}), Clock: func() time.Time { return now }, Divert: true})
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := eng.Process(ctx, []dispatch.Incident{call("A", "theft", now)}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := eng.Act(ctx, dispatch.Action{Kind: dispatch.ActConfirm, Incident: "A", Role: dispatch.RoleDispatcher}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Minute)
		if rej, err := eng.Process(ctx, []dispatch.Incident{call("B", "robbery", now)}, []dispatch.UnitEvent{{UnitID: "PAT-1", Status: "en_route", At: now}}); err != nil || len(rej) > 0 {
			t.Fatal(rej, err)
		}
		b, a := mustIncident(t, eng, "B"), mustIncident(t, eng, "A")
		if !slices.Equal(b.Assigned, []string{tc.want}) {
			t.Fatalf("divert %v: B assigned %v, want %s", tc.divert, b.Assigned, tc.want)
		}
		if !tc.divert {
			continue
		}
		if b.Rec.Units[0].DivertedFrom != "A" || len(a.Assigned) != 0 || !slices.Contains(a.Flags, dispatch.FlagShortfall) {
			t.Fatalf("after the diversion: B pick %+v, A assigned %v flags %v", b.Rec.Units[0], a.Assigned, a.Flags)
		}
		if len(a.Rec.Shortfalls) != 1 || a.Rec.Shortfalls[0].What != "patrol" {
			t.Fatalf("A shortfalls %+v", a.Rec.Shortfalls)
		}
	}
}

// TestBacklogCountMatchesRecount: the count of units the queue waits for is
// kept up to date with each commit and with each change another engine on
// the store commits (Follow); after every step of a random stream (calls,
// units clearing, cancels, confirms), taken by either of two engines, it
// equals a recount over the open incidents on both.
func TestBacklogCountMatchesRecount(t *testing.T) {
	for seed := range uint64(20) {
		ctx := context.Background()
		now := t0
		cfg := twoPatrolConfig(&now, seed%2 == 0)
		var engs [2]*dispatch.Engine
		for k := range engs {
			var err error
			if engs[k], err = dispatch.NewEngine(cfg); err != nil {
				t.Fatal(err)
			}
		}
		rng := rand.New(rand.NewPCG(seed, 7))
		var ids []string
		for i := range 60 {
			now = now.Add(time.Duration(rng.IntN(90)) * time.Second)
			k := rng.IntN(2)
			eng := engs[k]
			var err error
			switch r := rng.IntN(10); {
			case r < 4:
				typ := []string{"theft", "robbery"}[rng.IntN(2)]
				id := fmt.Sprintf("%c%d", 'A'+rng.IntN(20), i)
				ids = append(ids, id)
				_, err = eng.Process(ctx, []dispatch.Incident{call(id, typ, now)}, nil)
			case r < 7:
				u := []string{"PAT-1", "PAT-2"}[rng.IntN(2)]
				st := []string{"en_route", "on_scene", "available"}[rng.IntN(3)]
				_, err = eng.Process(ctx, nil, []dispatch.UnitEvent{{UnitID: u, Status: st, At: now}})
			case len(ids) > 0:
				id := ids[rng.IntN(len(ids))]
				kind := []string{dispatch.ActCancel, dispatch.ActConfirm}[rng.IntN(2)]
				_, err = eng.Act(ctx, dispatch.Action{Kind: kind, Incident: id, Reason: "test"})
				if errors.Is(err, dispatch.ErrBadAction) || errors.Is(err, dispatch.ErrNotFound) {
					err = nil // not in a state for it: refused, nothing changed
				}
			}
			if err != nil {
				t.Fatalf("seed %d step %d: %v", seed, i, err)
			}
			if err := engs[1-k].FollowOnce(ctx); err != nil {
				t.Fatalf("seed %d step %d: follow: %v", seed, i, err)
			}
			for k, e := range engs {
				if err := e.CheckBacklog(""); err != nil {
					t.Fatalf("seed %d step %d engine %d: %v", seed, i, k, err)
				}
			}
		}
	}
}
