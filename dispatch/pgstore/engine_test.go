package pgstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
)

// TestEngineSameAsMemstore runs the real engine on the Zhongshan scenario
// over pgstore and over memstore with the same stream (incidents, then
// terminal reports for the units they got), restarting the PostgreSQL
// engine between batches so that it rebuilds from the store each time. The
// durable state and the event log must be the same.
func TestEngineSameAsMemstore(t *testing.T) {
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pg := newStore(t)
	defer pg.Close()
	mem := memstore.New(memstore.Config{})
	now := time.Date(2024, 6, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))
	clock := func() time.Time { return now }
	engine := func(s dispatch.Store) *dispatch.Engine {
		e, err := dispatch.NewEngine(dispatch.EngineConfig{Scenario: sc, Store: s, Clock: clock, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return e
	}
	memEng := engine(mem)
	rng := rand.New(rand.NewPCG(1, 2))
	n := 0
	var incs0 []dispatch.Incident
	for batch := 0; batch < 6; batch++ {
		pgEng := engine(pg) // a restart: rebuilt from PostgreSQL
		var incs []dispatch.Incident
		for i := 0; i < 40; i++ {
			town := sc.Towns[rng.IntN(len(sc.Towns))]
			typ := sc.Types[rng.IntN(len(sc.Types))]
			n++
			in := dispatch.Incident{ID: fmt.Sprintf("I%04d", n), ReportedAt: now, Type: typ.Code, HasLocation: true,
				Lat: town.Center.Lat + (rng.Float64()-0.5)*0.02, Lng: town.Center.Lng + (rng.Float64()-0.5)*0.02}
			if batch > 0 && i == 0 {
				in = incs0[0] // a redelivery: skipped, not decided twice
			}
			incs = append(incs, in)
		}
		if batch == 0 {
			incs0 = incs
		}
		// Terminal reports for units assigned by the previous batches.
		var evs []dispatch.UnitEvent
		for _, u := range memEng.Units("") {
			if u.Incident == "" {
				continue
			}
			next := map[string]string{"dispatched": "en_route", "en_route": "on_scene", "on_scene": "available"}[string(u.Status)]
			if next != "" && rng.IntN(3) > 0 {
				evs = append(evs, dispatch.UnitEvent{UnitID: u.ID, At: now, Status: next, Incident: u.Incident})
			}
		}
		for name, e := range map[string]*dispatch.Engine{"memstore": memEng, "pgstore": pgEng} {
			if _, err := e.Process(ctx, incs, evs); err != nil {
				t.Fatalf("batch %d on %s: %v", batch, name, err)
			}
		}
		now = now.Add(3 * time.Minute)
	}
	a, b := dump(t, mem), dump(t, pg)
	if a != b {
		t.Fatalf("memstore and pgstore differ:\n%s\n---\n%s", a, b)
	}
}

// dump is the durable state and the event log of a store, times in UTC and
// event data compacted (JSONB reformats it).
func dump(t *testing.T, s dispatch.Store) string {
	t.Helper()
	ctx := context.Background()
	snap, err := s.Load(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range snap.Units {
		snap.Units[i].Since = snap.Units[i].Since.UTC()
	}
	evs, err := s.EventsAfter(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		evs[i].At = evs[i].At.UTC()
		if len(evs[i].Data) > 0 {
			var v any
			if err := json.Unmarshal(evs[i].Data, &v); err != nil {
				t.Fatal(err)
			}
			evs[i].Data, _ = json.Marshal(v)
		}
	}
	out, err := s.PendingOutbox(ctx, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out {
		keys = append(keys, o.Key)
	}
	if len(snap.Open) == 0 || len(evs) == 0 {
		t.Fatal("the stream decided nothing")
	}
	b, err := json.MarshalIndent(struct {
		Snap   *dispatch.Snapshot
		Events []dispatch.Event
		Outbox []string
	}{snap, evs, keys}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLearnedTravelSurvivesRestart: an engine on PostgreSQL learns from its
// units' reports (trips twice as long as the model says), the ETAs it then
// gives are learned ones, and a new engine on the same database (a
// restart) gives the same; an engine that does not learn keeps the model.
func TestLearnedTravelSurvivesRestart(t *testing.T) {
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pg := newStore(t)
	defer pg.Close()
	now := time.Date(2024, 6, 1, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	engine := func(noLearn bool) *dispatch.Engine {
		e, err := dispatch.NewEngine(dispatch.EngineConfig{Scenario: sc, Store: pg, Clock: func() time.Time { return now }, Logger: quiet,
			ConfirmFrom: 5, Rank: dispatch.RankConfig{NoLearn: noLearn}})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return e
	}
	eng := engine(false)
	scene := geo.Point{Lat: 22.6605, Lng: 113.2452} // Xiaolan
	type probe struct {
		from    geo.Point
		profile string
	}
	var first *probe
	for i := range 12 {
		id := fmt.Sprintf("T%02d", i)
		if _, err := eng.Process(ctx, []dispatch.Incident{{ID: id, ReportedAt: now, Type: "dispute", HasLocation: true, Lat: scene.Lat, Lng: scene.Lng}}, nil); err != nil {
			t.Fatal(err)
		}
		var evs []dispatch.UnitEvent
		for _, u := range eng.Units("") {
			if u.Incident != id {
				continue
			}
			from := geo.Point{Lat: u.Lat, Lng: u.Lng}
			if first == nil {
				first = &probe{from, u.Profile}
			}
			est, err := eng.ETA("", from, scene, u.Profile, now)
			if err != nil {
				t.Fatal(err)
			}
			dep := now.Add(time.Minute)
			arr := dep.Add(time.Duration(2 * est.ModelS * float64(time.Second)))
			evs = append(evs, dispatch.UnitEvent{UnitID: u.ID, At: dep, Status: "en_route", Incident: id},
				dispatch.UnitEvent{UnitID: u.ID, At: arr, Status: "on_scene", Incident: id},
				dispatch.UnitEvent{UnitID: u.ID, At: arr.Add(time.Minute), Status: "available", HasPosition: true, Lat: from.Lat, Lng: from.Lng})
		}
		if len(evs) == 0 {
			t.Fatalf("incident %s got no unit", id)
		}
		now = now.Add(10 * time.Minute)
		if rej, err := eng.Process(ctx, nil, evs); err != nil || len(rej) > 0 {
			t.Fatalf("reports: %v %+v", err, rej)
		}
	}
	learned, err := eng.ETA("", first.from, scene, first.profile, now)
	if err != nil {
		t.Fatal(err)
	}
	if learned.Source != geo.SourceLearned || learned.Trips == 0 || !(learned.Factor > 1.2) {
		t.Fatalf("after the trips: %+v, want a learned factor above 1", learned)
	}
	again, err := engine(false).ETA("", first.from, scene, first.profile, now)
	if err != nil || again != learned {
		t.Fatalf("after a restart: %+v %v, want %+v", again, err, learned)
	}
	if model, err := engine(true).ETA("", first.from, scene, first.profile, now); err != nil || model.Source != geo.SourceModel || model.Seconds != learned.ModelS {
		t.Fatalf("an engine that does not learn: %+v %v", model, err)
	}
}
