package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

// Load implements dispatch.Store.
func (s *Store) Load(ctx context.Context, drill string) (*dispatch.Snapshot, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	// One snapshot: another engine writing meanwhile must not leave a unit
	// loaded as free whose incident is loaded as assigned to it.
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only
	snap := &dispatch.Snapshot{}
	rows, err := tx.Query(ctx, `SELECT id, status, lat, lng, coalesce(incident, ''), since FROM units WHERE drill = $1 ORDER BY id`, drill)
	if err != nil {
		return nil, fmt.Errorf("load units: %w", err)
	}
	snap.Units, err = pgx.CollectRows(rows, scanUnit)
	if err != nil {
		return nil, fmt.Errorf("load units: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT depot, item, on_hand, reserved FROM stock WHERE drill = $1 ORDER BY depot, item`, drill)
	if err != nil {
		return nil, fmt.Errorf("load stock: %w", err)
	}
	snap.Stock, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (resources.Level, error) {
		var l resources.Level
		err := r.Scan(&l.Depot, &l.Item, &l.OnHand, &l.Reserved)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("load stock: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT id, incident, depot, item, qty FROM reservations WHERE drill = $1 AND state = 'reserved' ORDER BY id`, drill)
	if err != nil {
		return nil, fmt.Errorf("load reservations: %w", err)
	}
	snap.Reservations, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (resources.StockChange, error) {
		c := resources.StockChange{Op: resources.OpReserve}
		err := r.Scan(&c.Reservation, &c.Incident, &c.Depot, &c.Item, &c.Qty)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("load reservations: %w", err)
	}
	if snap.Travel, err = loadTravel(ctx, tx, drill); err != nil {
		return nil, fmt.Errorf("load travel: %w", err)
	}
	rows, err = tx.Query(ctx, `SELECT doc, has_location FROM incidents WHERE drill = $1 AND state NOT IN ('closed', 'cancelled') ORDER BY id`, drill)
	if err != nil {
		return nil, fmt.Errorf("load incidents: %w", err)
	}
	snap.Open, err = pgx.CollectRows(rows, scanIncident)
	if err != nil {
		return nil, fmt.Errorf("load incidents: %w", err)
	}
	if err := tx.QueryRow(ctx, `SELECT n FROM event_seq`).Scan(&snap.LastSeq); err != nil {
		return nil, fmt.Errorf("load seq: %w", err)
	}
	return snap, nil
}

// Decided implements dispatch.Store.
func (s *Store) Decided(ctx context.Context, drill string, ids []string) (map[string]bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT id FROM incidents WHERE drill = $1 AND id = ANY($2)`, drill, ids)
	if err != nil {
		return nil, fmt.Errorf("decided: %w", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("decided: %w", err)
	}
	out := make(map[string]bool, len(got))
	for _, id := range got {
		out[id] = true
	}
	return out, nil
}

// Incident implements dispatch.Store.
func (s *Store) Incident(ctx context.Context, drill, id string) (*dispatch.IncidentRecord, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var b []byte
	var loc bool
	err := s.pool.QueryRow(ctx, `SELECT doc, has_location FROM incidents WHERE drill = $1 AND id = $2`, drill, id).Scan(&b, &loc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("incident %q: %w", id, dispatch.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("incident %s: %w", id, err)
	}
	var rec dispatch.IncidentRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("incident %s: %w", id, err)
	}
	rec.HasLocation = loc
	return &rec, nil
}

// History implements dispatch.Store.
func (s *Store) History(ctx context.Context, drill, id string) ([]dispatch.HistoryEntry, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT h.doc FROM incidents i LEFT JOIN incident_history h ON h.drill = i.drill AND h.incident = i.id
		WHERE i.drill = $1 AND i.id = $2 ORDER BY h.seq`, drill, id)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", id, err)
	}
	found := false
	out := []dispatch.HistoryEntry{}
	var b []byte
	_, err = pgx.ForEachRow(rows, []any{&b}, func() error {
		found = true
		if b == nil {
			return nil // the incident, with no history (written before 0011)
		}
		var h dispatch.HistoryEntry
		if err := json.Unmarshal(b, &h); err != nil {
			return err
		}
		out = append(out, h)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", id, err)
	}
	if !found {
		return nil, fmt.Errorf("incident %q: %w", id, dispatch.ErrNotFound)
	}
	return out, nil
}

// EventsAfter implements dispatch.Store.
func (s *Store) EventsAfter(ctx context.Context, after int64, limit int) ([]dispatch.Event, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT seq, at, kind, drill, town, teams, incident, unit, data FROM events
		WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	evs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dispatch.Event, error) {
		var ev dispatch.Event
		var data []byte
		err := r.Scan(&ev.Seq, &ev.At, &ev.Kind, &ev.Drill, &ev.Town, &ev.Teams, &ev.Incident, &ev.Unit, &data)
		if len(ev.Teams) == 0 {
			ev.Teams = nil
		}
		if data != nil {
			ev.Data = data
		}
		return ev, err
	})
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	return evs, nil
}

// LastSeq implements dispatch.Store.
func (s *Store) LastSeq(ctx context.Context) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT n FROM event_seq`).Scan(&n); err != nil {
		return 0, fmt.Errorf("last seq: %w", err)
	}
	return n, nil
}

// PendingOutbox implements dispatch.Store.
func (s *Store) PendingOutbox(ctx context.Context, limit int) ([]dispatch.OutboxRecord, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT id, key, value FROM outbox ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	recs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dispatch.OutboxRecord, error) {
		var o dispatch.OutboxRecord
		err := r.Scan(&o.ID, &o.Key, &o.Value)
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return recs, nil
}

// MarkSent implements dispatch.Store.
func (s *Store) MarkSent(ctx context.Context, ids []int64) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `DELETE FROM outbox WHERE id = ANY($1)`, ids); err != nil {
		return fmt.Errorf("mark sent: %w", err)
	}
	return nil
}

// SeedUnits implements dispatch.Store.
func (s *Store) SeedUnits(ctx context.Context, drill string, units []teams.UnitState) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if len(units) == 0 {
		return nil
	}
	for _, u := range units {
		if err := u.Check(); err != nil {
			return fmt.Errorf("seed units: %w: %w", err, dispatch.ErrConflict)
		}
	}
	n := len(units)
	ids, st := make([]string, n), make([]string, n)
	lat, lng := make([]float64, n), make([]float64, n)
	inc := make([]*string, n)
	since := make([]time.Time, n)
	for i, u := range units {
		ids[i], st[i], lat[i], lng[i], inc[i], since[i] = u.ID, string(u.Status), u.Lat, u.Lng, nullIfEmpty(u.Incident), u.Since
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO units (drill, id, status, lat, lng, incident, since)
		SELECT $1, * FROM unnest($2::text[], $3::text[], $4::float8[], $5::float8[], $6::text[], $7::timestamptz[])
		ON CONFLICT (drill, id) DO NOTHING`, drill, ids, st, lat, lng, inc, since)
	if err != nil {
		return conflict("seed units", err)
	}
	return nil
}

// SeedStock implements dispatch.Store.
func (s *Store) SeedStock(ctx context.Context, drill string, levels []resources.Level) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if len(levels) == 0 {
		return nil
	}
	n := len(levels)
	dep, item := make([]string, n), make([]string, n)
	on, res := make([]int32, n), make([]int32, n)
	for i, l := range levels {
		dep[i], item[i], on[i], res[i] = l.Depot, l.Item, int32(l.OnHand), int32(l.Reserved)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO stock (drill, depot, item, on_hand, reserved)
		SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[], $5::int[])
		ON CONFLICT (drill, depot, item) DO NOTHING`, drill, dep, item, on, res)
	if err != nil {
		return conflict("seed stock", err)
	}
	return nil
}

// scanIncident reads a row of (doc, has_location) as an incident record.
func scanIncident(r pgx.CollectableRow) (dispatch.IncidentRecord, error) {
	var b []byte
	var loc bool
	var rec dispatch.IncidentRecord
	if err := r.Scan(&b, &loc); err != nil {
		return rec, err
	}
	err := json.Unmarshal(b, &rec)
	rec.HasLocation = loc
	return rec, err
}

// scanUnit reads a row of (id, status, lat, lng, incident, since) as a unit.
func scanUnit(r pgx.CollectableRow) (teams.UnitState, error) {
	var u teams.UnitState
	var status string
	err := r.Scan(&u.ID, &status, &u.Lat, &u.Lng, &u.Incident, &u.Since)
	u.Status = teams.Status(status)
	return u, err
}
