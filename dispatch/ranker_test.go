package dispatch

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

var rankNow = time.Date(2013, 5, 31, 20, 14, 0, 0, time.FixedZone("CST", 8*3600))

// randomScenario builds a small random city: units piled on few spots or
// spread, some capabilities held by nobody, reserves with delays.
func randomScenario(r *rand.Rand) *scenario.Scenario {
	sc, _ := scenario.Generate(scenario.GenConfig{Units: 100 + r.IntN(400), Seed: r.Int64N(1000) + 1})
	spots := []geo.Point{{Lat: 22.52, Lng: 113.38}, {Lat: 22.60, Lng: 113.25}}
	for i := range sc.Stations {
		switch r.IntN(6) {
		case 0: // many units at one spot
			sc.Stations[i].Location = spots[r.IntN(len(spots))]
		case 1: // on an H3 vertex: the border of three cells
			c := geo.CellOf(sc.Stations[i].Location, 7+r.IntN(3))
			b := c.Boundary()
			sc.Stations[i].Location = b[r.IntN(len(b))]
		}
	}
	return sc
}

func randomPlan(r *rand.Rand, sc *scenario.Scenario) scenario.Plan {
	caps := []string{"patrol", "fire_engine", "ladder", "ambulance", "boat", "rescue", "hazmat", "labour", "first_aid", "nobody_has_this", "special_police"}
	var p scenario.Plan
	for i := 0; i < 1+r.IntN(4); i++ {
		rq := scenario.Requirement{Capability: caps[r.IntN(len(caps))], Count: 1 + r.IntN(3)}
		for j := 0; j < r.IntN(3); j++ {
			rq.Substitutes = append(rq.Substitutes, caps[r.IntN(len(caps))])
		}
		if r.IntN(2) == 0 { // first responders, some a reserve-only or unheld capability
			rq.First = &scenario.FirstResponse{MarginS: []float64{0, 120, 600}[r.IntN(3)]}
			for j := 0; j < 1+r.IntN(2); j++ {
				rq.First.Capabilities = append(rq.First.Capabilities, caps[r.IntN(len(caps))])
			}
		}
		p.Units = append(p.Units, rq)
	}
	if r.IntN(2) == 0 {
		p.Materials = map[string]int{"sandbag": r.IntN(30000), "pump": r.IntN(20)}
	}
	return p
}

func randomQuery(r *rand.Rand) geo.Point {
	switch r.IntN(8) {
	case 0: // outside the city
		return geo.Point{Lat: 22.52 + r.NormFloat64()*1.5, Lng: 113.38 + r.NormFloat64()*1.5}
	case 1: // a cell vertex
		b := geo.CellOf(geo.Point{Lat: 22.5 + r.Float64()*0.2, Lng: 113.3 + r.Float64()*0.2}, 7).Boundary()
		return b[r.IntN(len(b))]
	default:
		return geo.Point{Lat: 22.27 + r.Float64()*0.45, Lng: 113.19 + r.Float64()*0.35}
	}
}

// TestRankMatchesOracle: over random scenarios, states and incidents, the
// H3 ranker and the R-tree ranker return exactly the brute-force oracle's
// recommendation, under both policies. The cases include units stacked at
// one spot and on H3 cell vertices (randomScenario), units spread away from
// their stations, incidents on vertices and outside the city
// (randomQuery), every unit busy, capabilities nobody has and first
// responders (randomPlan), and busy units with expected free times in the
// past and the future, returning units, and units that came back (the
// responders' reserve rule reads them through the list of busy units; the
// oracle walks the fleet).
func TestRankMatchesOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 7))
	scenarios := 60
	if testing.Short() {
		scenarios = 15
	}
	firsts, reserves, busyBeat := 0, 0, 0
	for n := 0; n < scenarios; n++ {
		sc := randomScenario(r)
		weight := []float64{0, 0, 120, 600}[r.IntN(4)]
		type keyed struct{ policy, kind string }
		states := map[keyed]*State{}
		// h3 chooses its resolutions and search level; h3-fixed keeps one
		// fine resolution, so its searches walk many rings.
		res := 6 + r.IntN(4)
		for _, policy := range Policies() {
			for _, kind := range []string{"h3", "h3-fixed", "rtree"} {
				cfg := RankConfig{CoverageWeightS: weight, Index: kind, Policy: policy}
				if kind == "h3-fixed" {
					cfg.Index, cfg.Resolution = "h3", res
				}
				st, err := NewState(sc, cfg)
				if err != nil {
					t.Fatal(err)
				}
				states[keyed{policy, kind}] = st
			}
		}
		busy := r.Float64() // 0-100 % busy
		if r.IntN(8) == 0 {
			busy = 1 // all units busy
		}
		spread := []float64{0, 0.25, 0.9}[r.IntN(3)] // share of units away from their station
		for _, u := range sc.Units {
			moved := r.Float64() < spread
			p := randomQuery(r)
			busyNow := r.Float64() < busy
			fate := r.IntN(6) // 0-2: an expected free time, 3: returning, 4: back available, 5: none known
			from := rankNow.Add(time.Duration(r.IntN(300)-120) * time.Minute)
			afterS := float64(r.IntN(7200))
			where := randomQuery(r)
			for _, st := range states {
				if moved {
					if _, err := st.setPosition(u.ID, p, rankNow); err != nil {
						t.Fatal(err)
					}
				}
				if !busyNow {
					continue
				}
				if _, err := st.setStatus(u.ID, teams.StatusDispatched, "X", rankNow); err != nil {
					t.Fatal(err)
				}
				if fate != 5 {
					st.expectFree(u.ID, from, afterS, where)
				}
				if fate >= 3 {
					for _, to := range []teams.Status{teams.StatusEnRoute, teams.StatusOnScene, teams.StatusReturning} {
						if _, err := st.setStatus(u.ID, to, "X", from); err != nil {
							t.Fatal(err)
						}
					}
				}
				if fate == 4 {
					if _, err := st.setStatus(u.ID, teams.StatusAvailable, "", from); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		// Some busy units come back, in random order: the list of busy units
		// loses them from anywhere.
		for _, i := range r.Perm(len(sc.Units)) {
			id := sc.Units[i].ID
			if u, _ := states[keyed{PolicyClosest, "h3"}].unit(id); u.Status.Assignable() || r.IntN(4) != 0 {
				continue
			}
			for _, st := range states {
				if _, err := st.setStatus(id, teams.StatusAvailable, "", rankNow); err != nil {
					t.Fatal(err)
				}
			}
		}
		for q := 0; q < 40; q++ {
			req := RankRequest{At: randomQuery(r), Plan: randomPlan(r, sc), Priority: 1 + r.IntN(4),
				Now: rankNow.Add(time.Duration(r.IntN(24)) * time.Hour)}
			if r.IntN(5) == 0 {
				req.Exclude = map[string]bool{sc.Units[r.IntN(len(sc.Units))].ID: true}
			}
			if r.IntN(3) == 0 { // a queue waiting for some capabilities
				queued := map[string]int{}
				for _, rq := range req.Plan.Units {
					if r.IntN(2) == 0 {
						queued[rq.Capability] = 1 + r.IntN(3)
					}
				}
				req.Backlog = func(c string) int { return queued[c] }
			}
			// The reserve rule's busy units: their index against the fleet.
			st := states[keyed{PolicyResponders, "h3"}]
			var caps []int32
			for range 1 + r.IntN(3) {
				caps = append(caps, int32(r.IntN(st.ncap)))
			}
			k := 1 + r.IntN(4)
			cost := func(i int32, d float64) (float64, bool) {
				return max(0, float64(st.free[i].at-req.Now.UnixNano())/1e9) + d/10, i%7 != 0
			}
			lb := func(int32) float64 { return 0.1 }
			bound := []float64{600, 2400, math.Inf(1)}[r.IntN(3)]
			if got, want := st.indexBusy(caps, k, req.At, bound, lb, cost, nil), st.bruteBusy(caps, k, req.At, bound, lb, cost, nil); !reflect.DeepEqual(got, want) {
				t.Fatalf("scenario %d query %d: busy units differ from the oracle\n got %+v\nwant %+v", n, q, got, want)
			}
			for _, policy := range Policies() {
				want := states[keyed{policy, "h3"}].rankBrute(req)
				for _, kind := range []string{"h3", "h3-fixed", "rtree"} {
					got := states[keyed{policy, kind}].Rank(req)
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("scenario %d query %d (%s, %s, weight %v): ranker differs from oracle\n got %+v\nwant %+v", n, q, policy, kind, weight, got, want)
					}
				}
				if policy == PolicyResponders {
					cl := states[keyed{PolicyClosest, "h3"}].Rank(req)
					for _, p := range want.Units {
						if p.FirstResponder {
							firsts++
						}
						if p.Reserve {
							reserves++
						}
					}
					if slices.ContainsFunc(cl.Units, func(p UnitPick) bool { return p.Reserve }) &&
						!slices.ContainsFunc(want.Units, func(p UnitPick) bool { return p.Reserve }) {
						busyBeat++
					}
				}
			}
		}
	}
	// The random cases reach the new rules: first responders sent, reserves
	// called under responders, and reserves that closest calls and
	// responders does not.
	if firsts == 0 || reserves == 0 || busyBeat == 0 {
		t.Fatalf("first responders %d, reserves %d, reserves avoided %d: the cases miss a rule", firsts, reserves, busyBeat)
	}
	t.Logf("responders: %d first responders, %d reserves, %d reserve calls avoided", firsts, reserves, busyBeat)
}

func TestRankRules(t *testing.T) {
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	shiqi := geo.Point{Lat: 22.522, Lng: 113.379}
	t.Run("all units busy: shortfall, not silence", func(t *testing.T) {
		st, _ := NewState(sc, RankConfig{})
		for _, u := range st.unitViews() {
			if u.Has("boat") || u.Has("rescue") {
				if _, err := st.setStatus(u.ID, teams.StatusOutOfService, "", rankNow); err != nil {
					t.Fatal(err)
				}
			}
		}
		rec := st.Rank(RankRequest{At: shiqi, Priority: 1, Now: rankNow, Plan: scenario.Plan{Units: []scenario.Requirement{{Capability: "boat", Count: 2, Substitutes: []string{"rescue"}}}}})
		if len(rec.Units) != 0 || len(rec.Shortfalls) != 1 || rec.Shortfalls[0].Missing != 2 || rec.Shortfalls[0].What != "boat" {
			t.Fatalf("got %+v", rec)
		}
	})
	t.Run("substitutes fill when primaries run out", func(t *testing.T) {
		st, _ := NewState(sc, RankConfig{})
		for _, u := range st.unitViews() {
			if u.Has("ladder") {
				if _, err := st.setStatus(u.ID, teams.StatusOutOfService, "", rankNow); err != nil {
					t.Fatal(err)
				}
			}
		}
		rec := st.Rank(RankRequest{At: shiqi, Priority: 1, Now: rankNow, Plan: scenario.Plan{Units: []scenario.Requirement{{Capability: "ladder", Count: 1, Substitutes: []string{"rescue"}}}}})
		if len(rec.Units) != 1 || !rec.Units[0].Substitute || rec.Units[0].Capability != "rescue" || rec.Units[0].Requirement != "ladder" {
			t.Fatalf("got %+v", rec.Units)
		}
	})
	t.Run("reserves only when professionals cannot cover", func(t *testing.T) {
		st, _ := NewState(sc, RankConfig{})
		rec := st.Rank(RankRequest{At: shiqi, Priority: 1, Now: rankNow, Plan: scenario.Plan{Units: []scenario.Requirement{{Capability: "labour", Count: 1}}}})
		if len(rec.Units) != 1 || !rec.Units[0].Reserve || rec.Units[0].EtaS < 1800 {
			t.Fatalf("labour is reserve-only: %+v", rec.Units)
		}
		rec = st.Rank(RankRequest{At: shiqi, Priority: 1, Now: rankNow, Plan: scenario.Plan{Units: []scenario.Requirement{{Capability: "patrol", Count: 2}}}})
		for _, p := range rec.Units {
			if p.Reserve {
				t.Fatalf("a reserve unit was called while police patrols are close: %+v", p)
			}
		}
	})
	t.Run("no unit used twice in one plan", func(t *testing.T) {
		st, _ := NewState(sc, RankConfig{})
		rec := st.Rank(RankRequest{At: shiqi, Priority: 1, Now: rankNow, Plan: scenario.Plan{Units: []scenario.Requirement{{Capability: "fire_engine", Count: 3}, {Capability: "rescue", Count: 3}}}})
		var ids []string
		for _, p := range rec.Units {
			if slices.Contains(ids, p.UnitID) {
				t.Fatalf("unit %s twice", p.UnitID)
			}
			ids = append(ids, p.UnitID)
		}
	})
	t.Run("closest first, reasons given", func(t *testing.T) {
		st, _ := NewState(sc, RankConfig{})
		rec := st.Rank(RankRequest{At: shiqi, Priority: 3, Now: rankNow, Plan: scenario.Plan{Units: []scenario.Requirement{{Capability: "patrol", Count: 1}}}})
		alts := rec.Alternates["patrol"]
		if len(rec.Units) != 1 || len(alts) != 3 || rec.Units[0].EtaS > alts[0].EtaS || len(rec.Units[0].Reasons) == 0 {
			t.Fatalf("got %+v alternates %+v", rec.Units, alts)
		}
	})
}

func TestCoverageAwareAvoidsStrippingATown(t *testing.T) {
	// Two towns; town A has one fire engine right next to the incident at
	// the border, town B two engines slightly farther. Closest-ETA takes
	// A's only engine; coverage-aware takes one of B's.
	sc := &scenario.Scenario{
		Towns:    []geo.Town{{Code: "a", Center: geo.Point{Lat: 22.50, Lng: 113.30}}, {Code: "b", Center: geo.Point{Lat: 22.50, Lng: 113.40}}},
		Teams:    []teams.Team{{ID: "fire", Kind: teams.KindProfessional}},
		Stations: []teams.Station{{ID: "SA", Town: "a", Location: geo.Point{Lat: 22.50, Lng: 113.348}}, {ID: "SB", Town: "b", Location: geo.Point{Lat: 22.50, Lng: 113.353}}},
		Units: []teams.Unit{{ID: "A1", Team: "fire", Capabilities: []string{"fire_engine"}, Station: "SA", Profile: "truck"},
			{ID: "B1", Team: "fire", Capabilities: []string{"fire_engine"}, Station: "SB", Profile: "truck"},
			{ID: "B2", Team: "fire", Capabilities: []string{"fire_engine"}, Station: "SB", Profile: "truck"}},
		ETA:     geo.ETAConfig{Profiles: map[string]geo.SpeedProfile{"truck": {SpeedKmh: 36}}},
		Targets: [4]float64{600, 900, 1800, 3600},
	}
	at := geo.Point{Lat: 22.50, Lng: 113.3495}
	plan := scenario.Plan{Units: []scenario.Requirement{{Capability: "fire_engine", Count: 1}}}
	for _, c := range []struct {
		weight float64
		want   string
	}{{0, "A1"}, {300, "B1"}} {
		st, err := NewState(sc, RankConfig{CoverageWeightS: c.weight})
		if err != nil {
			t.Fatal(err)
		}
		rec := st.Rank(RankRequest{At: at, Plan: plan, Priority: 1, Now: rankNow})
		if len(rec.Units) != 1 || rec.Units[0].UnitID != c.want {
			t.Fatalf("weight %v: got %+v, want %s", c.weight, rec.Units, c.want)
		}
	}
}

func ExampleState_Rank() {
	sc, _ := scenario.Default()
	st, _ := NewState(sc, RankConfig{})
	rec := st.Rank(RankRequest{At: geo.Point{Lat: 22.5211, Lng: 113.3925}, Priority: 1, Now: rankNow,
		Plan: scenario.Plan{Units: []scenario.Requirement{{Capability: "fire_engine", Count: 2}}, Materials: map[string]int{"foam": 4}}})
	for _, p := range rec.Units {
		fmt.Println(p.Requirement, p.Team, p.EtaS > 0)
	}
	fmt.Println(len(rec.Materials) > 0, len(rec.Shortfalls))
	// Output:
	// fire_engine fire true
	// fire_engine fire true
	// true 0
}
