package dispatch

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

// benchPolicy is the ranking policy of the benchmarks' states:
// go test -bench BenchmarkRank ./dispatch/ -args -rank.policy=closest.
var benchPolicy = flag.String("rank.policy", "", "ranking policy of the ranker benchmarks (default: DefaultPolicy)")

// benchState builds a state of n units with 70 % busy, those expected free
// within the next two hours (the responders' reserve rule reads it).
func benchState(b *testing.B, sc *scenario.Scenario, index string) *State {
	b.Helper()
	st, err := NewState(sc, RankConfig{Index: index, Policy: *benchPolicy})
	if err != nil {
		b.Fatal(err)
	}
	return benchStateOf(b, st, sc)
}

// benchStateOf makes 70 % of st's units busy, as benchState.
func benchStateOf(b *testing.B, st *State, sc *scenario.Scenario) *State {
	b.Helper()
	r := rand.New(rand.NewPCG(9, 9))
	f := rand.New(rand.NewPCG(9, 10)) // its own source: the same units busy as before estimates
	for _, u := range sc.Units {
		if r.Float64() < 0.7 {
			if _, err := st.setStatus(u.ID, teams.StatusDispatched, "busy", rankNow); err != nil {
				b.Fatal(err)
			}
			st.expectFree(u.ID, rankNow, f.Float64()*7200, geo.Point{Lat: 22.28 + f.Float64()*0.43, Lng: 113.20 + f.Float64()*0.33})
		}
	}
	return st
}

// benchRequests is a 110 mix of incidents at random points of the city.
func benchRequests(sc *scenario.Scenario) []RankRequest {
	mix := []string{"theft", "theft", "dispute", "theft", "traffic.injury", "medical", "medical", "fire.building", "flooding", "robbery"}
	types := map[string]scenario.IncidentType{}
	for _, t := range sc.Types {
		types[t.Code] = t
	}
	r := rand.New(rand.NewPCG(5, 5))
	reqs := make([]RankRequest, 1024)
	for i := range reqs {
		t := types[mix[r.IntN(len(mix))]]
		reqs[i] = RankRequest{At: geo.Point{Lat: 22.28 + r.Float64()*0.43, Lng: 113.20 + r.Float64()*0.33},
			Plan: t.Plan, Priority: t.Priority, Now: rankNow.Add(time.Duration(r.IntN(24)) * time.Hour)}
	}
	return reqs
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkRank measures one decision (units + depots) per op, on the
// generated Zhongshan scenario of n units (every unit at its station) with
// 70 % busy. Before timing, the first requests are checked against the
// brute-force oracle on the same state: the three indices answer alike.
// Two sizes per unit (of all units, busy or not): state-B/unit is the heap
// of the whole state (units, indices, caches), index-B/unit the part held by
// the capability indices alone (with their ring and cell caches).
func BenchmarkRank(b *testing.B) {
	benchRank(b, []int{1000, 10000, 100000}, false)
}

// BenchmarkRankSpread is BenchmarkRank with every unit moved to a random
// point of the city first (patrols on the move rather than waiting at their
// stations): as many distinct positions as units.
func BenchmarkRankSpread(b *testing.B) {
	benchRank(b, []int{10000, 100000}, true)
}

func benchRank(b *testing.B, sizes []int, spread bool) {
	for _, n := range sizes {
		sc, err := scenario.Generate(scenario.GenConfig{Units: n, Seed: 3})
		if err != nil {
			b.Fatal(err)
		}
		reqs := benchRequests(sc)
		for _, index := range []string{"h3", "brute", "rtree"} {
			b.Run(fmt.Sprintf("index=%s/units=%d", index, n), func(b *testing.B) {
				before := heapInUse()
				st := benchState(b, sc, index)
				if spread {
					r := rand.New(rand.NewPCG(3, 4))
					for _, u := range sc.Units {
						p := geo.Point{Lat: 22.28 + r.Float64()*0.43, Lng: 113.20 + r.Float64()*0.33}
						if _, err := st.setPosition(u.ID, p, rankNow); err != nil {
							b.Fatal(err)
						}
					}
				}
				for i, rq := range reqs { // warm the ring caches once
					got := st.Rank(rq)
					if i < 64 && index != "brute" {
						if want := st.rankBrute(rq); !reflect.DeepEqual(got, want) {
							b.Fatalf("request %d: %s differs from the oracle\n got %+v\nwant %+v", i, index, got, want)
						}
					}
				}
				after := heapInUse()
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					st.Rank(reqs[i%len(reqs)])
				}
				b.StopTimer()
				b.ReportMetric(float64(after-before)/float64(n), "state-B/unit")
				withIndex := heapInUse()
				st.Fleet().DropIndices() // the indices alone: what dropping them frees
				b.ReportMetric(float64(int64(withIndex)-int64(heapInUse()))/float64(n), "index-B/unit")
				runtime.KeepAlive(st)
			})
		}
	}
}

// BenchmarkRankLearned is BenchmarkRank's h3 decision at 10,000 units with
// learned travel-time corrections against today's (mode=model: no
// learning, the model's bound), in the same process. mode=learned has a
// table learned from 200,000 trips from the stations to random points of
// the city (about every pair of coarse cells and many fine ones, in every
// hour band); mode=empty learns but has learned nothing yet (the floor of
// the bound is already 0.5). Before timing, the first 64 decisions of each
// are checked against the brute-force oracle on the same state.
func BenchmarkRankLearned(b *testing.B) {
	const n = 10000
	sc, err := scenario.Generate(scenario.GenConfig{Units: n, Seed: 3})
	if err != nil {
		b.Fatal(err)
	}
	reqs := benchRequests(sc)
	var rows []geo.TravelRow
	for _, mode := range []string{"model", "empty", "learned"} {
		b.Run(fmt.Sprintf("mode=%s/units=%d", mode, n), func(b *testing.B) {
			st := benchState(b, sc, "h3")
			if mode == "model" {
				st2, err := NewState(sc, RankConfig{Policy: *benchPolicy, NoLearn: true})
				if err != nil {
					b.Fatal(err)
				}
				st = benchStateOf(b, st2, sc)
			}
			if mode == "learned" {
				if rows == nil {
					rows = benchLearned(b, st, sc)
				}
				st.Travel().Restore(rows)
			}
			for i, rq := range reqs {
				got := st.Rank(rq)
				if i < 64 {
					if want := st.rankBrute(rq); !reflect.DeepEqual(got, want) {
						b.Fatalf("request %d: differs from the oracle\n got %+v\nwant %+v", i, got, want)
					}
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				st.Rank(reqs[i%len(reqs)])
			}
			b.StopTimer()
			b.ReportMetric(float64(st.Travel().Learned()), "keys")
		})
	}
}

// benchLearned learns from 200,000 trips from the stations to random points
// at random hours, each slower or faster than the model by a smooth
// function of where it goes (0.6-2.5).
func benchLearned(b *testing.B, st *State, sc *scenario.Scenario) []geo.TravelRow {
	b.Helper()
	tr, err := geo.NewTravel(geo.TravelConfig{ETA: st.eta})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(14, 14))
	for range 200000 {
		from := sc.Stations[r.IntN(len(sc.Stations))].Location
		to := geo.Point{Lat: 22.28 + r.Float64()*0.43, Lng: 113.20 + r.Float64()*0.33}
		dep := rankNow.Add(time.Duration(r.IntN(24*60)) * time.Minute)
		f := 1.5 + 0.9*math.Sin(to.Lat*300)*math.Cos(to.Lng*200)
		s := st.eta.Seconds(geo.DistanceM(from, to), 0, st.eta.Hour(dep)) * f
		o, err := tr.Observe(geo.Trip{From: from, To: to, Depart: dep, Arrive: dep.Add(time.Duration(s * float64(time.Second)))})
		if err == nil {
			tr.Learn(o)
		}
	}
	return tr.Rows()
}

// BenchmarkSetPosition measures one position report of an available unit
// (indices, town and cell of the new point): about constant in the number
// of units. The points come from a set of 4096, so some reports land on a
// point seen before and some start a new spot in the indices.
func BenchmarkSetPosition(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		sc, err := scenario.Generate(scenario.GenConfig{Units: n, Seed: 3})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("index=h3/units=%d", n), func(b *testing.B) {
			st := benchState(b, sc, "h3")
			var ids []string
			for _, u := range st.unitViews() {
				if u.Status == teams.StatusAvailable {
					ids = append(ids, u.ID)
				}
			}
			r := rand.New(rand.NewPCG(1, 2))
			pts := make([]geo.Point, 4096)
			for i := range pts {
				pts[i] = geo.Point{Lat: 22.28 + r.Float64()*0.43, Lng: 113.20 + r.Float64()*0.33}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := st.setPosition(ids[(i*7919)%len(ids)], pts[(i*31)%len(pts)], rankNow); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
