package dispatch

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

// benchState builds a state of n units with 70 % busy.
func benchState(b *testing.B, sc *Scenario, index string) *State {
	b.Helper()
	st, err := NewState(sc, RankConfig{Index: index})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 9))
	for _, u := range sc.Units {
		if r.Float64() < 0.7 {
			if _, err := st.SetStatus(u.ID, teams.StatusDispatched, "busy", rankNow); err != nil {
				b.Fatal(err)
			}
		}
	}
	return st
}

// benchRequests is a 110 mix of incidents at random points of the city.
func benchRequests(sc *Scenario) []RankRequest {
	mix := []string{"theft", "theft", "dispute", "theft", "traffic.injury", "medical", "medical", "fire.building", "flooding", "robbery"}
	types := map[string]IncidentType{}
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

// BenchmarkRank measures one decision (units + depots) per op.
func BenchmarkRank(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		sc, err := GenerateScenario(ScenarioGenConfig{Units: n, Seed: 3})
		if err != nil {
			b.Fatal(err)
		}
		reqs := benchRequests(sc)
		for _, index := range []string{"h3", "brute", "rtree"} {
			b.Run(fmt.Sprintf("index=%s/units=%d", index, n), func(b *testing.B) {
				before := heapInUse()
				st := benchState(b, sc, index)
				for _, rq := range reqs { // warm the ring caches once
					st.Rank(rq)
				}
				after := heapInUse()
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					st.Rank(reqs[i%len(reqs)])
				}
				b.StopTimer()
				b.ReportMetric(float64(after-before)/float64(n), "state-B/unit")
				runtime.KeepAlive(st)
			})
		}
	}
}
