package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

func testInPlace(t *testing.T, s Store) {
	defer s.Close()
	ctx := context.Background()
	seed(t, s, "")
	o := decision("", "A", "U1")
	o.Events = append(o.Events, dispatch.Event{At: t0, Kind: dispatch.EvAssignment, Unit: "U1", Incident: "A"})
	if err := s.Apply(ctx, []*dispatch.Outcome{o}); err != nil {
		t.Fatal(err)
	}
	if o.Events[0].Seq <= 0 || o.Events[1].Seq != o.Events[0].Seq+1 || o.Outbox[0].ID <= 0 {
		t.Fatalf("seqs %d %d outbox id %d", o.Events[0].Seq, o.Events[1].Seq, o.Outbox[0].ID)
	}
	got := events(t, s)
	if len(got) != 2 || got[0].Seq != o.Events[0].Seq || got[1].Seq != o.Events[1].Seq {
		t.Fatalf("events %+v", got)
	}
	e := got[0]
	if e.Kind != dispatch.EvIncidentDispatched || !e.At.Equal(t0) || e.Town != "shiqi" || e.Incident != "A" || len(e.Teams) != 1 || e.Teams[0] != "police" ||
		(string(e.Data) != `{"x": 1}` && string(e.Data) != `{"x":1}`) {
		t.Fatalf("event %+v", e)
	}
	if e := got[1]; e.Unit != "U1" || e.Teams != nil || e.Data != nil {
		t.Fatalf("event without teams or data read back as %+v", e)
	}
	if after, _ := s.EventsAfter(ctx, o.Events[0].Seq, 10); len(after) != 1 || after[0].Seq != o.Events[1].Seq {
		t.Fatalf("events after the first: %+v", after)
	}
	if none, _ := s.EventsAfter(ctx, o.Events[1].Seq, 10); len(none) != 0 {
		t.Fatalf("events after the last: %+v", none)
	}
	if snap := load(t, s, ""); snap.LastSeq != o.Events[1].Seq {
		t.Fatalf("last seq %d, want %d", snap.LastSeq, o.Events[1].Seq)
	}
	if n, err := s.LastSeq(context.Background()); err != nil || n != o.Events[1].Seq {
		t.Fatalf("LastSeq %d %v, want %d", n, err, o.Events[1].Seq)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func testLookups(t *testing.T, s Store) {
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Incident(ctx, "", "nope"); !errors.Is(err, dispatch.ErrNotFound) {
		t.Fatalf("empty store: %v, want ErrNotFound", err)
	}
	if snap := load(t, s, ""); snap.LastSeq != 0 || len(snap.Units)+len(snap.Stock)+len(snap.Open)+len(snap.Reservations) != 0 {
		t.Fatalf("empty store loads %+v", snap)
	}
	seed(t, s, "")
	if err := s.Apply(ctx, []*dispatch.Outcome{decision("", "A", "U1"), decision("", "B")}); err != nil {
		t.Fatal(err)
	}
	d, err := s.Decided(ctx, "", []string{"A", "B", "Z"})
	if err != nil || len(d) != 2 || !d["A"] || !d["B"] {
		t.Fatalf("decided %v %v", d, err)
	}
	if d, err := s.Decided(ctx, "", nil); err != nil || len(d) != 0 {
		t.Fatalf("decided of nothing %v %v", d, err)
	}
	if _, err := s.Incident(ctx, "", "Z"); !errors.Is(err, dispatch.ErrNotFound) {
		t.Fatalf("Z: %v, want ErrNotFound", err)
	}
	r, err := s.Incident(ctx, "", "A")
	if err != nil || r.ID != "A" || r.State != dispatch.StateDispatched || !slices.Equal(r.Assigned, []string{"U1"}) || !r.ReportedAt.Equal(t0) {
		t.Fatalf("A: %+v %v", r, err)
	}
}

func testSeed(t *testing.T, s Store) {
	defer s.Close()
	ctx := context.Background()
	seed(t, s, "")
	if err := s.Apply(ctx, []*dispatch.Outcome{decision("", "A", "U1"), reserve("", "r1", "A", 10)}); err != nil {
		t.Fatal(err)
	}
	// A restart seeds again with the scenario's defaults: nothing changes,
	// and units and stock the store has never seen are added.
	if err := s.SeedUnits(ctx, "", []teams.UnitState{{ID: "U1", Status: "available", Lat: 1, Lng: 1, Since: t0}, {ID: "U9", Status: "out_of_service", Lat: 2, Lng: 2, Since: t0}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SeedStock(ctx, "", []resources.Level{{Depot: "D1", Item: "sandbag", OnHand: 5}, {Depot: "D2", Item: "pump", OnHand: 3}}); err != nil {
		t.Fatal(err)
	}
	wantUnit(t, s, "", "U1", "dispatched", "A")
	if u := unit(t, s, "", "U9"); u.Status != "out_of_service" || u.Lat != 2 || !u.Since.Equal(t0) {
		t.Fatalf("U9 %+v", u)
	}
	snap := load(t, s, "")
	if len(snap.Units) != 4 || len(snap.Stock) != 2 || snap.Stock[0] != (resources.Level{Depot: "D1", Item: "sandbag", OnHand: 100, Reserved: 10}) ||
		snap.Stock[1] != (resources.Level{Depot: "D2", Item: "pump", OnHand: 3}) {
		t.Fatalf("after reseeding: units %d stock %+v", len(snap.Units), snap.Stock)
	}
	if err := s.SeedStock(ctx, "", []resources.Level{{Depot: "D3", Item: "pump", OnHand: 1, Reserved: 2}}); !errors.Is(err, dispatch.ErrConflict) {
		t.Fatalf("seeding more reserved than on hand: %v, want ErrConflict", err)
	}
}

// testTail runs writers in parallel with a reader tailing EventsAfter, as
// the console hub does: the reader must see every event exactly once, in
// seq order, and exactly the seqs Apply handed to the writers.
func testTail(t *testing.T, s Store) {
	defer s.Close()
	ctx := context.Background()
	seed(t, s, "")
	const writers, per = 6, 25
	assigned := make([][]int64, writers)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	tailDone := make(chan struct{})
	var tailed []int64
	var tailErr error
	deadline := time.Now().Add(time.Minute)
	go func() {
		defer close(tailDone)
		var last int64
		for time.Now().Before(deadline) {
			evs, err := s.EventsAfter(ctx, last, 7)
			if err != nil {
				tailErr = err
				return
			}
			for _, ev := range evs {
				tailed = append(tailed, ev.Seq)
				last = ev.Seq
			}
			if len(evs) == 0 {
				select {
				case <-stop:
					if len(tailed) >= writers*per*2 {
						return
					}
				case <-time.After(time.Millisecond): // poll interval
				}
			}
		}
	}()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			drill := []string{"", "typhoon"}[w%2]
			for i := 0; i < per; i++ {
				id := fmt.Sprintf("W%d-%d", w, i)
				o := &dispatch.Outcome{Drill: drill, Incident: rec(id, dispatch.StateAwaiting), NewIncident: true,
					Events: []dispatch.Event{{At: t0, Kind: dispatch.EvIncidentRecommended, Incident: id}, {At: t0, Kind: dispatch.EvIncidentUpdated, Incident: id}}}
				if err := s.Apply(ctx, []*dispatch.Outcome{o}); err != nil {
					t.Error(err)
					return
				}
				assigned[w] = append(assigned[w], o.Events[0].Seq, o.Events[1].Seq)
			}
		}(w)
	}
	wg.Wait()
	close(stop)
	<-tailDone // all seen, or the deadline passed
	if tailErr != nil {
		t.Fatal(tailErr)
	}
	for i := 1; i < len(tailed); i++ {
		if tailed[i] <= tailed[i-1] {
			t.Fatalf("seq %d after %d", tailed[i], tailed[i-1])
		}
	}
	var all []int64
	for _, a := range assigned {
		all = append(all, a...)
	}
	slices.Sort(all)
	if !slices.Equal(all, tailed) {
		t.Fatalf("tailed %d seqs, Apply assigned %d; they differ", len(tailed), len(all))
	}
}

// race runs n concurrent Applies built by mk and returns how many succeeded;
// every failure must be ErrConflict.
func race(t *testing.T, s Store, n int, mk func(i int) []*dispatch.Outcome) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		outs := mk(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := s.Apply(context.Background(), outs)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case !errors.Is(err, dispatch.ErrConflict):
				t.Errorf("apply: %v, want nil or ErrConflict", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	return won
}

func testRaceUnit(t *testing.T, s Store) {
	defer s.Close()
	seed(t, s, "")
	won := race(t, s, 8, func(i int) []*dispatch.Outcome {
		return []*dispatch.Outcome{decision("", fmt.Sprintf("I%d", i), "U1", "U2")}
	})
	if won != 1 {
		t.Fatalf("%d writers claimed U1 and U2, want 1", won)
	}
	u1, u2 := unit(t, s, "", "U1"), unit(t, s, "", "U2")
	if u1.Incident == "" || u1.Incident != u2.Incident {
		t.Fatalf("U1 on %q, U2 on %q: want the same winner", u1.Incident, u2.Incident)
	}
	if snap := load(t, s, ""); len(snap.Open) != 1 || snap.Open[0].ID != u1.Incident {
		t.Fatalf("open %+v, want the winner only", snap.Open)
	}
}

func testRaceIncident(t *testing.T, s Store) {
	defer s.Close()
	seed(t, s, "")
	won := race(t, s, 8, func(i int) []*dispatch.Outcome {
		o := decision("", "A")
		o.Incident.Version = i + 1
		return []*dispatch.Outcome{o}
	})
	if won != 1 {
		t.Fatalf("A decided %d times, want once", won)
	}
	if n := len(events(t, s)); n != 1 {
		t.Fatalf("%d events, want the winner's 1", n)
	}
}

func testRaceVersion(t *testing.T, s Store) {
	defer s.Close()
	seed(t, s, "")
	if err := s.Apply(context.Background(), []*dispatch.Outcome{decision("", "A", "U1")}); err != nil {
		t.Fatal(err)
	}
	won := race(t, s, 8, func(i int) []*dispatch.Outcome {
		o := update("", "A", 1, 2)
		o.Incident.Accepted = []string{fmt.Sprintf("writer%d", i)}
		return []*dispatch.Outcome{o}
	})
	if won != 1 {
		t.Fatalf("%d writers updated A from version 1, want 1", won)
	}
	if r, err := s.Incident(context.Background(), "", "A"); err != nil || r.Version != 2 || len(r.Accepted) != 1 {
		t.Fatalf("incident %+v %v", r, err)
	}
}

func testRaceStock(t *testing.T, s Store) {
	defer s.Close()
	seed(t, s, "")
	won := race(t, s, 10, func(i int) []*dispatch.Outcome {
		return []*dispatch.Outcome{reserve("", fmt.Sprintf("r%d", i), "A", 15)}
	})
	if won != 6 {
		t.Fatalf("%d reservations of 15 out of 100 succeeded, want 6", won)
	}
	snap := load(t, s, "")
	if snap.Stock[0].Reserved != 90 || len(snap.Reservations) != 6 {
		t.Fatalf("stock %+v reservations %d", snap.Stock, len(snap.Reservations))
	}
}
