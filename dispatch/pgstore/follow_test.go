package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/teams"
)

// TestFollowOnPostgres: two engines on one PostgreSQL decide their own
// incidents and apply reports of each other's units at the same time, each
// following the log (Follow) as instances of one consumer group do. No
// whole reload happens after start, conflicts refresh only their rows, and
// in the end each engine's views are those of an engine freshly loaded
// from the database.
func TestFollowOnPostgres(t *testing.T) {
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pg := newStore(t)
	defer pg.Close()
	var (
		mu        sync.Mutex
		reloads   = map[string]int{}
		refreshes = map[string]int{}
		lags      []time.Duration
		gaveUp    int
	)
	cfg := dispatch.EngineConfig{Scenario: sc, Store: pg, Logger: quiet, ConfirmFrom: 5,
		OnReload: func(cause string) { mu.Lock(); reloads[cause]++; mu.Unlock() },
		OnRefresh: func(r dispatch.Refresh) {
			mu.Lock()
			refreshes[r.Cause]++
			if r.Events > 0 {
				lags = append(lags, r.Lag)
			}
			mu.Unlock()
		}}
	engines := make([]*dispatch.Engine, 2)
	for i := range engines {
		e, err := dispatch.NewEngine(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Start(ctx); err != nil {
			t.Fatal(err)
		}
		engines[i] = e
		go func() { _ = e.Follow(ctx) }()
	}
	var wg sync.WaitGroup
	for i, e := range engines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 9))
			now := time.Now()
			for batch := range 25 {
				var incs []dispatch.Incident
				for k := range 8 {
					town := sc.Towns[rng.IntN(len(sc.Towns))]
					incs = append(incs, dispatch.Incident{ID: fmt.Sprintf("E%d-%d-%d", i, batch, k), ReportedAt: now, Type: sc.Types[rng.IntN(len(sc.Types))].Code,
						HasLocation: true, Lat: town.Center.Lat + (rng.Float64()-0.5)*0.02, Lng: town.Center.Lng + (rng.Float64()-0.5)*0.02})
				}
				// Reports for the units of this engine's partitions (by unit:
				// whoever dispatched them), as the engine's memory has them.
				var evs []dispatch.UnitEvent
				for k, u := range e.Units("") {
					if k%2 != i {
						continue
					}
					next := map[string]string{"dispatched": "en_route", "en_route": "on_scene", "on_scene": "available"}[string(u.Status)]
					if next != "" && rng.IntN(4) == 0 {
						evs = append(evs, dispatch.UnitEvent{UnitID: u.ID, Status: next, Incident: u.Incident, At: time.Now()})
					}
				}
				// As the consumer does, a batch that gave up on conflicts is taken again.
				for try := 0; ; try++ {
					_, err := e.Process(ctx, incs, evs)
					if err == nil {
						break
					}
					if !errors.Is(err, dispatch.ErrConflict) || try == 3 {
						t.Errorf("engine %d batch %d: %v", i, batch, err)
						return
					}
					mu.Lock()
					gaveUp++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	fresh, err := dispatch.NewEngine(dispatch.EngineConfig{Scenario: sc, Store: pg, Logger: quiet, ConfirmFrom: 5})
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for i, e := range engines {
		deadline := time.Now().Add(10 * time.Second)
		for !sameUnits(e.Units(""), fresh.Units("")) || !sameOpen(e.Incidents(""), fresh.Incidents("")) {
			if time.Now().After(deadline) {
				t.Fatalf("engine %d: views differ from the database's 10 s after the last write", i)
			}
			<-time.After(5 * time.Millisecond)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reloads) != 0 {
		t.Fatalf("whole reloads after start: %v", reloads)
	}
	slices.Sort(lags)
	p := func(q float64) time.Duration { return lags[int(q*float64(len(lags)-1))] }
	if len(lags) == 0 {
		t.Fatal("no refresh read the other engine's events")
	}
	t.Logf("batches given up on conflicts and taken again: %d", gaveUp)
	t.Logf("refreshes %v; lag of %d refreshes with events: p50 %v p99 %v max %v", refreshes, len(lags),
		p(0.5).Round(time.Microsecond), p(0.99).Round(time.Microsecond), lags[len(lags)-1].Round(time.Microsecond))
}

func sameOpen(a, b []dispatch.IncidentRecord) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Version != b[i].Version {
			return false
		}
	}
	return true
}

// sameUnits compares units as the database keeps them (times to the
// microsecond).
func sameUnits(a, b []teams.UnitView) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.ID != y.ID || x.Status != y.Status || x.Incident != y.Incident || x.Lat != y.Lat || x.Lng != y.Lng || x.Since.Sub(y.Since).Abs() >= time.Microsecond {
			return false
		}
	}
	return true
}
