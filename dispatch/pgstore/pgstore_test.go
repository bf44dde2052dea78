package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/pgstore"
	"github.com/zs110/dispatch/dispatch/storetest"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

// testDB creates a fresh database and drops it at cleanup (storetest.NewDatabase).
func testDB(t testing.TB) string {
	t.Helper()
	return storetest.NewDatabase(t, "dispatch_test")
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newStore(t testing.TB) *pgstore.Store {
	t.Helper()
	s, err := pgstore.New(context.Background(), pgstore.Config{URL: testDB(t), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) dispatch.Store { return newStore(t) })
}

func TestMigrationsTwiceAndConcurrently(t *testing.T) {
	url := testDB(t)
	errs := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() {
			s, err := pgstore.New(context.Background(), pgstore.Config{URL: url, Logger: quiet})
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	s, err := pgstore.New(context.Background(), pgstore.Config{URL: url, Logger: quiet})
	if err != nil {
		t.Fatalf("third start: %v", err)
	}
	s.Close()
}

func TestUnreachableFailsFast(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := pgstore.New(ctx, pgstore.Config{URL: "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", Logger: quiet})
	if err == nil {
		t.Fatal("connected to nothing")
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("took %v to fail", time.Since(start))
	}
}

// BenchmarkApply writes batches of 200 decisions (incident, 2 unit
// changes, a reservation, 3 events, an outbox record each).
func BenchmarkApply(b *testing.B) {
	s := newStore(b)
	defer s.Close()
	ctx := context.Background()
	const batch = 200
	var units []teams.UnitState
	for i := 0; i < 2*batch*(b.N+1); i++ {
		units = append(units, teams.UnitState{ID: fmt.Sprintf("U%07d", i), Status: "available", Lat: 22.5, Lng: 113.4, Since: time.Unix(0, 0)})
	}
	if err := s.SeedUnits(ctx, "", units); err != nil {
		b.Fatal(err)
	}
	if err := s.SeedStock(ctx, "", []resources.Level{{Depot: "D", Item: "sandbag", OnHand: 1 << 30}}); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ResetTimer()
	u := 0
	for i := 0; i < b.N; i++ {
		outs := make([]*dispatch.Outcome, batch)
		for j := range outs {
			id := fmt.Sprintf("B%d-%d", i, j)
			o := &dispatch.Outcome{NewIncident: true, Incident: &dispatch.IncidentRecord{Incident: dispatch.Incident{ID: id, ReportedAt: now, Type: "fire.building", Priority: 1},
				State: dispatch.StateDispatched, Version: 1, DecidedAt: now, UpdatedAt: now}}
			for k := 0; k < 2; k++ {
				o.Units = append(o.Units, teams.UnitChange{UnitID: units[u].ID, OldStatus: "available", NewStatus: "dispatched", Lat: 22.5, Lng: 113.4, Incident: id, At: now})
				u++
			}
			o.Stock = []resources.StockChange{{Reservation: id + "|sandbag", Incident: id, Depot: "D", Item: "sandbag", Qty: 5, Op: resources.OpReserve}}
			for k := 0; k < 3; k++ {
				o.Events = append(o.Events, dispatch.Event{At: now, Kind: "incident.dispatched", Incident: id, Teams: []string{"fire"}, Data: []byte(`{"id":"` + id + `"}`)})
			}
			o.Outbox = []dispatch.OutboxRecord{{Key: id, Value: []byte(`{}`)}}
			outs[j] = o
		}
		if err := s.Apply(ctx, outs); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "outcomes/s")
}

// TestConstraints checks that the invariants hold in the database itself,
// for any writer, not only for the checks Apply makes first.
func TestConstraints(t *testing.T) {
	url := testDB(t)
	s, err := pgstore.New(context.Background(), pgstore.Config{URL: url, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	setup := `INSERT INTO incidents (drill, id, type, priority, state, reported_at, decided_at, updated_at, version, has_location, doc)
		VALUES ('', 'A', 'theft', 3, 'dispatched', now(), now(), now(), 1, true, '{}');
		INSERT INTO stock (drill, depot, item, on_hand, reserved) VALUES ('', 'D1', 'sandbag', 10, 0);
		INSERT INTO units (drill, id, status, lat, lng, incident, since) VALUES ('', 'U1', 'dispatched', 22.5, 113.4, 'A', now());
		INSERT INTO reservations (drill, id, incident, depot, item, qty, state) VALUES ('', 'r1', 'A', 'D1', 'sandbag', 1, 'reserved')`
	if _, err := conn.Exec(ctx, setup); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, sql, code string }{
		{"incident decided twice", `INSERT INTO incidents (drill, id, type, priority, state, reported_at, decided_at, updated_at, version, has_location, doc)
			VALUES ('', 'A', 'theft', 3, 'dispatched', now(), now(), now(), 1, true, '{}')`, "23505"},
		{"same id in a drill is another incident", `INSERT INTO incidents (drill, id, type, priority, state, reported_at, decided_at, updated_at, version, has_location, doc)
			VALUES ('typhoon', 'A', 'theft', 3, 'dispatched', now(), now(), now(), 1, true, '{}')`, ""},
		{"overdraw", `UPDATE stock SET reserved = 11 WHERE depot = 'D1'`, "23514"},
		{"negative stock", `UPDATE stock SET on_hand = -1, reserved = -1 WHERE depot = 'D1'`, "23514"},
		{"active unit without incident", `UPDATE units SET incident = NULL WHERE id = 'U1'`, "23514"},
		{"available unit with an incident", `UPDATE units SET status = 'available' WHERE id = 'U1'`, "23514"},
		{"second unit row (second assignment)", `INSERT INTO units (drill, id, status, lat, lng, incident, since) VALUES ('', 'U1', 'dispatched', 22.5, 113.4, 'B', now())`, "23505"},
		{"reservation id reused", `INSERT INTO reservations (drill, id, incident, depot, item, qty, state) VALUES ('', 'r1', 'B', 'D1', 'sandbag', 1, 'reserved')`, "23505"},
		{"empty reservation", `INSERT INTO reservations (drill, id, incident, depot, item, qty, state) VALUES ('', 'r2', 'B', 'D1', 'sandbag', 0, 'reserved')`, "23514"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx) //nolint:errcheck // the case only probes
			_, err = tx.Exec(ctx, c.sql)
			var pe *pgconn.PgError
			switch {
			case c.code == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.code != "" && (!errors.As(err, &pe) || pe.Code != c.code):
				t.Fatalf("got %v, want SQLSTATE %s", err, c.code)
			}
		})
	}
}

// TestHistory checks that status changes, and only they, are kept.
func TestHistory(t *testing.T) {
	url := testDB(t)
	s, err := pgstore.New(context.Background(), pgstore.Config{URL: url, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	at := time.Date(2024, 6, 1, 8, 0, 0, 0, time.UTC)
	if err := s.SeedUnits(ctx, "", []teams.UnitState{{ID: "U1", Status: "available", Lat: 22.5, Lng: 113.4, Since: at}}); err != nil {
		t.Fatal(err)
	}
	ch := func(old, new teams.Status, inc string, min int) teams.UnitChange {
		return teams.UnitChange{UnitID: "U1", OldStatus: old, NewStatus: new, Incident: inc, Lat: 22.5, Lng: 113.4, At: at.Add(time.Duration(min) * time.Minute)}
	}
	for _, u := range [][]teams.UnitChange{
		{ch("available", "dispatched", "A", 1)},
		{ch("dispatched", "dispatched", "A", 2), ch("dispatched", "en_route", "A", 2)}, // a position report, then a status
		{ch("en_route", "on_scene", "A", 9)},
	} {
		if err := s.Apply(ctx, []*dispatch.Outcome{{Units: u}}); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT old_status || '>' || new_status || '@' || coalesce(incident, '') FROM unit_status_history WHERE unit_id = 'U1' ORDER BY at`)
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"available>dispatched@A", "dispatched>en_route@A", "en_route>on_scene@A"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("history %v, want %v", got, want)
	}
}
