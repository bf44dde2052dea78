package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/storetest"
	"github.com/zs110/dispatch/resources"
)

// TestConformanceWithRetention: bounded as the drills bound it, the store
// still passes the suite.
func TestConformanceWithRetention(t *testing.T) {
	storetest.Run(t, func(*testing.T) dispatch.Store {
		return memstore.New(memstore.Config{KeepEvents: 32768, KeepOutbox: 32768, KeepClosed: 10000})
	})
}

// closeTen applies ten closed incidents I0..I9, one event and one outbox
// record each.
func closeTen(t *testing.T, s *memstore.Store) {
	t.Helper()
	for i := 0; i < 10; i++ {
		id := fmt.Sprintf("I%d", i)
		o := &dispatch.Outcome{Drill: "d", NewIncident: true, Incident: &dispatch.IncidentRecord{Incident: dispatch.Incident{ID: id}, State: dispatch.StateClosed, Version: 1},
			Events: []dispatch.Event{{Kind: dispatch.EvIncidentClosed, Incident: id}}, Outbox: []dispatch.OutboxRecord{{Key: id}}}
		if err := s.Apply(context.Background(), []*dispatch.Outcome{o}); err != nil {
			t.Fatal(err)
		}
	}
}

func seqs(t *testing.T, s *memstore.Store, after int64, limit int) string {
	t.Helper()
	evs, err := s.EventsAfter(context.Background(), after, limit)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, e := range evs {
		got = append(got, e.Seq)
	}
	return fmt.Sprint(got)
}

// TestRetention: only the newest events, outbox records and closed
// incidents are kept; every decided id stays decided.
func TestRetention(t *testing.T) {
	ctx := context.Background()
	s := memstore.New(memstore.Config{KeepEvents: 4, KeepOutbox: 3, KeepClosed: 2})
	closeTen(t, s)
	cases := []struct {
		after int64
		limit int
		want  string
	}{{0, 10, "[7 8 9 10]"}, {8, 10, "[9 10]"}, {6, 2, "[7 8]"}, {10, 5, "[]"}, {3, 0, "[]"}, {-5, 1, "[7]"}}
	for _, c := range cases {
		if got := seqs(t, s, c.after, c.limit); got != c.want {
			t.Errorf("EventsAfter(%d, %d) = %v, want %v", c.after, c.limit, got, c.want)
		}
	}
	if n, _ := s.LastSeq(ctx); n != 10 {
		t.Errorf("last seq %d", n)
	}
	if recs, _ := s.PendingOutbox(ctx, 10); len(recs) != 3 || recs[0].Key != "I7" || recs[0].ID != 8 || s.DroppedOutbox() != 7 {
		t.Errorf("outbox %+v dropped %d", recs, s.DroppedOutbox())
	}
	if _, err := s.Incident(ctx, "d", "I9"); err != nil {
		t.Errorf("newest closed incident: %v", err)
	}
	if _, err := s.Incident(ctx, "d", "I1"); !errors.Is(err, dispatch.ErrNotFound) {
		t.Errorf("old closed incident: %v, want ErrNotFound", err)
	}
	if d, _ := s.Decided(ctx, "d", []string{"I0", "I9", "X"}); !d["I0"] || !d["I9"] || d["X"] {
		t.Errorf("decided %v", d)
	}
	// A forgotten incident is still decided: deciding it again is refused.
	again := &dispatch.Outcome{Drill: "d", NewIncident: true, Incident: &dispatch.IncidentRecord{Incident: dispatch.Incident{ID: "I0"}}}
	if err := s.Apply(ctx, []*dispatch.Outcome{again}); !errors.Is(err, dispatch.ErrConflict) {
		t.Errorf("second decision of a forgotten incident: %v", err)
	}
}

// TestKeepAll: the zero Config (and a negative bound) keeps every event,
// outbox record and closed incident.
func TestKeepAll(t *testing.T) {
	ctx := context.Background()
	for _, cfg := range []memstore.Config{{}, {KeepEvents: -1, KeepOutbox: -1, KeepClosed: -1}} {
		s := memstore.New(cfg)
		closeTen(t, s)
		if got := seqs(t, s, 0, 100); got != "[1 2 3 4 5 6 7 8 9 10]" {
			t.Errorf("%+v: events %s", cfg, got)
		}
		if got := seqs(t, s, 8, 100); got != "[9 10]" {
			t.Errorf("%+v: events after 8: %s", cfg, got)
		}
		if recs, _ := s.PendingOutbox(ctx, 100); len(recs) != 10 || s.DroppedOutbox() != 0 {
			t.Errorf("%+v: outbox %d dropped %d", cfg, len(recs), s.DroppedOutbox())
		}
		if _, err := s.Incident(ctx, "d", "I0"); err != nil {
			t.Errorf("%+v: oldest closed incident: %v", cfg, err)
		}
	}
}

// TestCopies: Load and Incident return copies the caller may change, with
// HasLocation (which the JSON leaves out) as applied.
func TestCopies(t *testing.T) {
	ctx := context.Background()
	s := memstore.New(memstore.Config{})
	rec := &dispatch.IncidentRecord{Incident: dispatch.Incident{ID: "A", Lat: 22.5, Lng: 113.4, HasLocation: true}, State: dispatch.StateDispatched,
		Assigned: []string{"U1"}, Rec: &dispatch.Recommendation{Units: []dispatch.UnitPick{{UnitID: "U1", Reasons: []string{"nearest"}}},
			Alternates: map[string][]dispatch.UnitPick{"patrol": {{UnitID: "U2"}}}}, Version: 1}
	if err := s.Apply(ctx, []*dispatch.Outcome{{Drill: "d", NewIncident: true, Incident: rec}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Incident(ctx, "d", "A")
	if err != nil || !got.HasLocation {
		t.Fatalf("incident %+v %v: location lost", got, err)
	}
	got.Assigned[0], got.Rec.Units[0].Reasons[0], got.Rec.Alternates["patrol"][0].UnitID = "X", "X", "X"
	snap, err := s.Load(ctx, "d")
	if err != nil || len(snap.Open) != 1 || !snap.Open[0].HasLocation {
		t.Fatalf("load %+v %v", snap, err)
	}
	o := snap.Open[0]
	if o.Assigned[0] != "U1" || o.Rec.Units[0].Reasons[0] != "nearest" || o.Rec.Alternates["patrol"][0].UnitID != "U2" {
		t.Fatalf("a change to a returned incident reached the store: %+v", o)
	}
	o.Assigned[0] = "Y"
	if again, _ := s.Incident(ctx, "d", "A"); again.Assigned[0] != "U1" || rec.Assigned[0] != "U1" {
		t.Fatalf("a change to a loaded incident reached the store: %v", again.Assigned)
	}
}

// TestStockErrors: a refused stock change is a conflict and says which
// rule refused it.
func TestStockErrors(t *testing.T) {
	ctx := context.Background()
	s := memstore.New(memstore.Config{})
	if err := s.SeedStock(ctx, "d", []resources.Level{{Depot: "D1", Item: "sandbag", OnHand: 10}}); err != nil {
		t.Fatal(err)
	}
	change := func(op resources.Op, id string, qty int) *dispatch.Outcome {
		return &dispatch.Outcome{Drill: "d", Stock: []resources.StockChange{{Reservation: id, Incident: "A", Depot: "D1", Item: "sandbag", Qty: qty, Op: op}}}
	}
	cases := []struct {
		outs []*dispatch.Outcome
		want error
	}{
		{[]*dispatch.Outcome{change(resources.OpReserve, "r1", 11)}, resources.ErrInsufficient},
		{[]*dispatch.Outcome{change(resources.OpReserve, "r1", 6), change(resources.OpReserve, "r2", 5)}, resources.ErrInsufficient},
		{[]*dispatch.Outcome{change(resources.OpReserve, "r1", 1), change(resources.OpReserve, "r1", 1)}, resources.ErrDuplicateReservation},
		{[]*dispatch.Outcome{change(resources.OpRelease, "r1", 1)}, resources.ErrUnknownReservation},
		{[]*dispatch.Outcome{change(resources.OpRestock, "", 0)}, resources.ErrBadQuantity},
		{[]*dispatch.Outcome{change("steal", "r1", 1)}, resources.ErrUnknownOp},
		{[]*dispatch.Outcome{{Drill: "never seeded", Stock: change(resources.OpReserve, "r1", 1).Stock}}, resources.ErrUnknownDepot},
	}
	for i, c := range cases {
		err := s.Apply(ctx, c.outs)
		if !errors.Is(err, dispatch.ErrConflict) || !errors.Is(err, c.want) {
			t.Errorf("case %d: %v, want ErrConflict and %v", i, err, c.want)
		}
	}
	// Batches mixing drills check each drill's changes against its own stock.
	if err := s.SeedStock(ctx, "e", []resources.Level{{Depot: "D1", Item: "sandbag", OnHand: 5}}); err != nil {
		t.Fatal(err)
	}
	e := func(o *dispatch.Outcome) *dispatch.Outcome { o.Drill = "e"; return o }
	if err := s.Apply(ctx, []*dispatch.Outcome{change(resources.OpReserve, "r1", 8), e(change(resources.OpReserve, "r1", 5)), change(resources.OpReserve, "r2", 2)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, []*dispatch.Outcome{change(resources.OpRelease, "r1", 8), e(change(resources.OpReserve, "r3", 1))}); !errors.Is(err, resources.ErrInsufficient) {
		t.Fatalf("overdraw of drill e beside a release in drill d: %v", err)
	}
	for drill, want := range map[string]string{"d": "[{D1 sandbag 10 10}]", "e": "[{D1 sandbag 5 5}]"} {
		if snap, _ := s.Load(ctx, drill); fmt.Sprint(snap.Stock) != want {
			t.Errorf("drill %s: stock %v, want %s", drill, snap.Stock, want)
		}
	}
}
