package dispatch

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

// TestRankMatchesOracleLearned: with learned corrections, an agency's
// matrix or a known truth, the H3 and R-tree rankers still return exactly
// the brute-force oracle's recommendation. The corrections make far units
// fast (down to the floor, with more trips than the shrinkage weight) and
// near ones slow (some far ones fast only as a fine pair), the matrix has
// entries far below the model (clamped to the floor) and the override is
// below the floor everywhere: a ring walk whose lower bound ignored the
// floor (Travel.FloorTo) would stop too early and miss the far units
// (checked: the test fails with the model's bound, and with a FloorTo that
// forgets the fine pairs).
func TestRankMatchesOracleLearned(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 3))
	scenarios := 24
	if testing.Short() {
		scenarios = 8
	}
	fastFar := 0
	for n := 0; n < scenarios; n++ {
		sc := randomScenario(r)
		variant := []string{"learned", "learned-fine", "matrix", "override"}[n%4]
		if variant == "matrix" {
			m := &geo.MatrixConfig{}
			for range 200 {
				a, b := sc.Towns[r.IntN(len(sc.Towns))].Code, sc.Towns[r.IntN(len(sc.Towns))].Code
				band := []string{"", "night", "day", "evening_rush"}[r.IntN(4)]
				m.Entries = append(m.Entries, geo.MatrixEntry{From: a, To: b, Band: band, Seconds: 1 + r.Float64()*3000})
			}
			sc.TravelMatrix = m
		}
		var truth func(a, b geo.Point, p, h int) float64
		if variant == "override" {
			truth = func(a, b geo.Point, p, h int) float64 {
				return geo.DistanceM(a, b) / 50 * (0.2 + 0.1*float64(h%5)) // faster than any profile: clamped to the floor
			}
		}
		weight := []float64{0, 120}[r.IntN(2)]
		kinds := []string{"h3", "h3-fixed", "rtree"}
		states := map[string]*State{}
		policy := Policies()[r.IntN(2)]
		for _, kind := range kinds {
			cfg := RankConfig{CoverageWeightS: weight, Index: kind, Policy: policy, TruthETA: truth}
			if kind == "h3-fixed" {
				cfg.Index, cfg.Resolution = "h3", 9
			}
			st, err := NewState(sc, cfg)
			if err != nil {
				t.Fatal(err)
			}
			states[kind] = st
		}
		queries := make([]RankRequest, 30)
		for q := range queries {
			queries[q] = RankRequest{At: randomQuery(r), Plan: randomPlan(r, sc), Priority: 1 + r.IntN(4),
				Now: rankNow.Add(time.Duration(r.IntN(24)) * time.Hour)}
		}
		// Units spread out, some busy.
		for _, u := range sc.Units {
			p, moved, busy := randomQuery(r), r.IntN(2) == 0, r.IntN(5) == 0
			afterS, where := float64(r.IntN(3600)), randomQuery(r)
			for _, st := range states {
				if moved {
					if _, err := st.setPosition(u.ID, p, rankNow); err != nil {
						t.Fatal(err)
					}
				}
				if busy {
					if _, err := st.setStatus(u.ID, teams.StatusDispatched, "X", rankNow); err != nil {
						t.Fatal(err)
					}
					st.expectFree(u.ID, rankNow, afterS, where)
				}
			}
		}
		if strings.HasPrefix(variant, "learned") {
			st := states["h3"]
			var rows []geo.TravelRow
			add := func(k geo.TravelKey, logF float64, trips int) {
				rows = append(rows, geo.TravelRow{Key: k, Stat: geo.TravelStat{N: trips, SumLog: logF * float64(trips)}})
			}
			for _, q := range queries {
				qp := st.Travel().PlaceOf(q.At)
				band := uint8(geo.Band(st.eta.Hour(q.Now)))
				for i := range int32(st.fleet.Len()) {
					if r.IntN(3) == 0 {
						continue
					}
					up := st.placeOf(i)
					d := geo.DistanceM(st.fleet.Record(i).Position(), q.At)
					logF := r.NormFloat64()
					fineF, fine := logF*1.5, r.IntN(2) == 0
					switch far := d > 8000; {
					case variant == "learned-fine": // no coarse pair faster than the model
						logF, fineF = math.Abs(logF), math.Abs(fineF)
						if far && r.IntN(2) == 0 {
							fineF, fine = math.Log(0.2), true
							fastFar++
						}
					case far && r.IntN(3) == 0:
						logF, fineF = math.Log(0.2), math.Log(0.2) // below the floor: clamped to it
						fastFar++
					case far && r.IntN(2) == 0:
						// slow as a coarse pair, fast as a fine one
						logF, fineF, fine = math.Log(1.5), math.Log(0.3), true
						fastFar++
					case d < 3000:
						logF = math.Log(3 + r.Float64()*3)
					}
					add(geo.TravelKey{From: up.Coarse, To: qp.Coarse, Band: band}, logF, 1+r.IntN(60))
					if fine {
						add(geo.TravelKey{From: up.Fine, To: qp.Fine, Band: band}, fineF, 20+r.IntN(60))
					}
				}
			}
			for _, s := range states {
				s.Travel().Restore(rows)
			}
		}
		for q, req := range queries {
			want := states["h3"].rankBrute(req)
			for _, kind := range kinds {
				if got := states[kind].Rank(req); !reflect.DeepEqual(got, want) {
					t.Fatalf("scenario %d (%s, %s) query %d: %s ranker differs from the oracle\n got %+v\nwant %+v", n, variant, policy, q, kind, got, want)
				}
			}
		}
	}
	if fastFar == 0 {
		t.Fatal("no far unit made fast: the cases miss the bound")
	}
}

// TestMatrixInPicks: a scenario's matrix is used in place of the model
// where it has entries, and the picks say so (eta_source and the reason).
func TestMatrixInPicks(t *testing.T) {
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	sc.TravelMatrix = &geo.MatrixConfig{Entries: []geo.MatrixEntry{{From: "xiaolan", To: "shiqi", Seconds: 1500}}}
	st, err := NewState(sc, RankConfig{})
	if err != nil {
		t.Fatal(err)
	}
	plan := scenario.Plan{Units: []scenario.Requirement{{Capability: "patrol", Count: 1000}}}
	rec := st.Rank(RankRequest{At: geo.Point{Lat: 22.522, Lng: 113.379}, Plan: plan, Priority: 3, Now: rankNow})
	matrix, model := 0, 0
	for _, p := range rec.Units {
		switch {
		case p.Town == "xiaolan":
			matrix++
			if p.EtaSource != "matrix" || !strings.HasSuffix(p.Reasons[0], "(agency matrix)") || p.EtaS != 1500 {
				t.Fatalf("a Xiaolan unit: %+v", p)
			}
		case p.EtaSource == "":
			model++
		default:
			t.Fatalf("a unit with no matrix entry: %+v", p)
		}
	}
	if matrix == 0 || model == 0 {
		t.Fatalf("%d picks from the matrix, %d from the model", matrix, model)
	}
}
