package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/changelog"
	"github.com/zs110/dispatch/resources"
)

// Changes implements dispatch.Store: one read of the event counter when
// nothing new was written by others (the common case of a lone instance),
// otherwise the drill's events after after and the rows they name, in one
// repeatable-read snapshot.
func (s *Store) Changes(ctx context.Context, drill string, after int64, want dispatch.Want) (*dispatch.Changes, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	n := changelog.New(want)
	var last int64
	if err := s.pool.QueryRow(ctx, `SELECT n FROM event_seq`).Scan(&last); err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	if last < after {
		return nil, fmt.Errorf("changes after %d, last %d: %w", after, last, dispatch.ErrGap)
	}
	if n.Empty() && n.Covered(after, last) {
		return &dispatch.Changes{Last: last}, nil
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only
	if err := tx.QueryRow(ctx, `SELECT n FROM event_seq`).Scan(&last); err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	ch := &dispatch.Changes{Last: last}
	if !n.Covered(after, last) {
		rows, err := tx.Query(ctx, `SELECT seq, written, kind, incident, unit FROM events
			WHERE seq > $1 AND seq <= $2 AND drill = $3 ORDER BY seq LIMIT $4`, after, last, drill, n.Limit()+1)
		if err != nil {
			return nil, fmt.Errorf("changes: events: %w", err)
		}
		var (
			seq            int64
			written        *time.Time
			kind, inc, uid string
			read           int
		)
		_, err = pgx.ForEachRow(rows, []any{&seq, &written, &kind, &inc, &uid}, func() error {
			read++
			if read > n.Limit() {
				ch.More = true
				return nil
			}
			ch.Last = seq
			var at time.Time
			if written != nil {
				at = *written
			}
			n.Add(seq, at, kind, inc, uid)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("changes: events: %w", err)
		}
		if !ch.More {
			ch.Last = last
		}
	}
	ch.Events, ch.FirstWritten = n.Events, n.FirstWritten
	if err := s.changedRows(ctx, tx, drill, n, ch); err != nil {
		return nil, err
	}
	return ch, nil
}

// changedRows reads the rows n names into ch.
func (s *Store) changedRows(ctx context.Context, tx pgx.Tx, drill string, n *changelog.Named, ch *dispatch.Changes) error {
	if len(n.Units) > 0 {
		rows, err := tx.Query(ctx, `SELECT id, status, lat, lng, coalesce(incident, ''), since FROM units WHERE drill = $1 AND id = ANY($2)`, drill, n.Units)
		if err != nil {
			return fmt.Errorf("changes: units: %w", err)
		}
		ch.Units, err = pgx.CollectRows(rows, scanUnit)
		if err != nil {
			return fmt.Errorf("changes: units: %w", err)
		}
	}
	stock := n.Stock
	var withStock []string
	if len(n.Incidents) > 0 {
		rows, err := tx.Query(ctx, `SELECT doc, has_location FROM incidents WHERE drill = $1 AND id = ANY($2)`, drill, n.Incidents)
		if err != nil {
			return fmt.Errorf("changes: incidents: %w", err)
		}
		ch.Incidents, err = pgx.CollectRows(rows, scanIncident)
		if err != nil {
			return fmt.Errorf("changes: incidents: %w", err)
		}
		for i := range ch.Incidents {
			if changelog.HasMaterials(&ch.Incidents[i]) {
				stock = true
				withStock = append(withStock, ch.Incidents[i].ID)
			}
		}
	}
	if !stock {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT depot, item, on_hand, reserved FROM stock WHERE drill = $1 ORDER BY depot, item`, drill)
	if err != nil {
		return fmt.Errorf("changes: stock: %w", err)
	}
	ch.Stock, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (resources.Level, error) {
		var l resources.Level
		err := r.Scan(&l.Depot, &l.Item, &l.OnHand, &l.Reserved)
		return l, err
	})
	if err != nil {
		return fmt.Errorf("changes: stock: %w", err)
	}
	if ch.Stock == nil {
		ch.Stock = []resources.Level{}
	}
	if len(withStock) == 0 {
		return nil
	}
	rows, err = tx.Query(ctx, `SELECT id, incident, depot, item, qty FROM reservations
		WHERE drill = $1 AND incident = ANY($2) AND state = 'reserved' ORDER BY id`, drill, withStock)
	if err != nil {
		return fmt.Errorf("changes: reservations: %w", err)
	}
	ch.Reservations, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (resources.StockChange, error) {
		c := resources.StockChange{Op: resources.OpReserve}
		err := r.Scan(&c.Reservation, &c.Incident, &c.Depot, &c.Item, &c.Qty)
		return c, err
	})
	if err != nil {
		return fmt.Errorf("changes: reservations: %w", err)
	}
	return nil
}
