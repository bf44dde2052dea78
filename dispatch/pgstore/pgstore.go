package pgstore

import (
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/wire"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Config configures the store.
type Config struct {
	// URL is the PostgreSQL connection URL. Required.
	URL string
	// MaxConns is the pool size. Default 8.
	MaxConns int32
	// Timeout bounds every call to the database (a transaction, a query,
	// a ping). A call that outlives it fails and its connection is dropped:
	// a hung connection (a path that drops packets, a frozen server) turns
	// into an error the engine retries instead of a stall. Default 15s.
	Timeout time.Duration
	// Logger. Default slog.Default().
	Logger *slog.Logger
}

// Store is the PostgreSQL dispatch.Store.
type Store struct {
	pool    *pgxpool.Pool
	log     *slog.Logger
	timeout time.Duration
	encMu   sync.Mutex   // guards enc
	enc     wire.Encoder // the JSON of events and outbox records, written in Apply
}

// bound applies the store's timeout to a call. When the timeout (not the
// caller) ends the call, every pooled connection is dropped: the path to
// the database is suspect, and an idle connection that went silent with it
// would cost another timeout to find out.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	bctx, cancel := context.WithTimeout(ctx, s.timeout)
	return bctx, func() {
		timedOut := errors.Is(bctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		cancel()
		if timedOut {
			s.log.Warn("database call timed out: dropping pooled connections", "timeout", s.timeout)
			s.pool.Reset()
		}
	}
}

var _ dispatch.Store = (*Store)(nil)

// New connects (failing fast when the database is unreachable) and applies
// the embedded migrations.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.URL == "" {
		return nil, errors.New("pgstore: no database URL")
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = 8
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	pc.MaxConns = cfg.MaxConns
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	s := &Store{pool: pool, log: cfg.Logger.With("component", "pgstore"), timeout: cfg.Timeout}
	if err := s.migrate(); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// migrate applies the embedded migrations (golang-migrate takes an advisory lock).
func (s *Store) migrate() error {
	src, err := iofs.New(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer func() { _ = db.Close() }()
	drv, err := migratepgx.WithInstance(db, &migratepgx.Config{})
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	// Close releases the connection the driver holds (and its advisory
	// lock session): without it the pool never closes.
	defer func() { _, _ = m.Close() }()
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrations: %w", err)
	}
	v, dirty, err := m.Version()
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if dirty {
		return fmt.Errorf("migrations: version %d is dirty: fix the schema by hand", v)
	}
	s.log.Info("schema ready", "version", v)
	return nil
}

// Close implements dispatch.Store.
func (s *Store) Close() { s.pool.Close() }

// Ping implements dispatch.Store.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.pool.Ping(ctx)
}

// conflict turns constraint violations into dispatch.ErrConflict.
func conflict(what string, err error) error {
	if errors.Is(err, dispatch.ErrConflict) {
		return err
	}
	var pe *pgconn.PgError
	// unique_violation, check_violation, serialization_failure, deadlock_detected:
	// the transaction wrote nothing and the engine may decide again.
	if errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "23514" || pe.Code == "40001" || pe.Code == "40P01") {
		return fmt.Errorf("%s: %s: %w", what, pe.Message, dispatch.ErrConflict)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Apply implements dispatch.Store in one transaction.
func (s *Store) Apply(ctx context.Context, outs []*dispatch.Outcome) error {
	s.encMu.Lock()
	s.enc.Fill(outs)
	s.encMu.Unlock()
	ctx, cancel := s.bound(ctx)
	defer cancel()
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after Commit
	if err := s.apply(ctx, tx, outs); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return conflict("apply: commit", err)
	}
	return nil
}

type incRow struct {
	drill string
	rec   *dispatch.IncidentRecord
	isNew bool
	base  int // BaseVersion of the batch's first outcome on the incident
}

type dkey struct{ drill, id string }

func (k dkey) less(o dkey) int {
	if c := cmp.Compare(k.drill, o.drill); c != 0 {
		return c
	}
	return cmp.Compare(k.id, o.id)
}

// unitPlan is what one batch does to one unit: the first change is checked
// against the stored row, the last one is written.
type unitPlan struct {
	first, last teams.UnitChange
}

// checkChange validates a change against the unit's state before it (from
// the store or from an earlier change of the batch): the rules of
// dispatch.Store, identical to memstore's.
func checkChange(u teams.UnitChange, curStatus teams.Status, curIncident string) error {
	if u.NewStatus.Active() && curStatus.Active() && curIncident != u.Incident {
		return fmt.Errorf("unit %s is %s on %s, cannot take %s: %w", u.UnitID, curStatus, curIncident, u.Incident, dispatch.ErrConflict)
	}
	return nil
}

func (s *Store) apply(ctx context.Context, tx pgx.Tx, outs []*dispatch.Outcome) error {
	// Incidents: the last record of each in the batch; new ones are plain
	// INSERTs so that a second decision fails on the primary key.
	incs := map[dkey]*incRow{}
	var order []dkey
	units := map[dkey]*unitPlan{}
	var unitOrder []dkey
	var history, incHistory [][]any
	for _, o := range outs {
		for i := range o.History {
			h := &o.History[i]
			b, err := json.Marshal(h)
			if err != nil {
				return fmt.Errorf("apply: history of %s: %w", h.Incident, err)
			}
			incHistory = append(incHistory, []any{o.Drill, h.Incident, h.At, h.By, h.What, b})
		}
		if o.Incident != nil {
			k := dkey{o.Drill, o.Incident.ID}
			r, ok := incs[k]
			if ok && o.NewIncident {
				return fmt.Errorf("apply: incident %s decided twice in one batch: %w", o.Incident.ID, dispatch.ErrConflict)
			}
			if !ok {
				r = &incRow{drill: o.Drill, isNew: o.NewIncident, base: o.BaseVersion}
				incs[k] = r
				order = append(order, k)
			}
			r.rec = o.Incident
		}
		for _, u := range o.Units {
			if err := validUnit(u); err != nil {
				return err
			}
			k := dkey{o.Drill, u.UnitID}
			p, seen := units[k]
			if !seen {
				p = &unitPlan{first: u}
				units[k] = p
				unitOrder = append(unitOrder, k)
			} else if err := checkChange(u, p.last.NewStatus, p.last.Incident); err != nil {
				return fmt.Errorf("apply: %w", err)
			}
			p.last = u
			if u.OldStatus != u.NewStatus {
				history = append(history, []any{o.Drill, u.UnitID, string(u.OldStatus), string(u.NewStatus), nullIfEmpty(u.Incident), u.At})
			}
		}
	}
	// Rows are written in key order so that concurrent batches lock them in
	// the same order and never deadlock.
	slices.SortFunc(order, dkey.less)
	slices.SortFunc(unitOrder, dkey.less)
	if err := s.writeIncidents(ctx, tx, incs, order); err != nil {
		return err
	}
	if err := s.writeUnits(ctx, tx, units, unitOrder); err != nil {
		return err
	}
	if len(history) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"unit_status_history"},
			[]string{"drill", "unit_id", "old_status", "new_status", "incident", "at"}, pgx.CopyFromRows(history)); err != nil {
			return conflict("apply: history", err)
		}
	}
	if len(incHistory) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"incident_history"},
			[]string{"drill", "incident", "at", "by_name", "what", "doc"}, pgx.CopyFromRows(incHistory)); err != nil {
			return conflict("apply: incident history", err)
		}
	}
	if err := s.writeStock(ctx, tx, outs); err != nil {
		return err
	}
	if err := s.writeOutbox(ctx, tx, outs); err != nil {
		return err
	}
	if err := s.writeTravel(ctx, tx, outs); err != nil {
		return err
	}
	// Last: the event counter row is the one lock every writer takes, so
	// it is held for as short a time as possible.
	return s.writeEvents(ctx, tx, outs)
}

// validUnit refuses what the units table's CHECKs would refuse, with a
// clearer error.
func validUnit(u teams.UnitChange) error {
	if err := u.Check(); err != nil {
		return fmt.Errorf("apply: %w: %w", err, dispatch.ErrConflict)
	}
	return nil
}

// writeUnits locks the stored rows of the batch's units (FOR UPDATE, in key
// order: a concurrent claim waits and then sees the winner's row), checks
// each unit's first change against them, then upserts the last states.
func (s *Store) writeUnits(ctx context.Context, tx pgx.Tx, units map[dkey]*unitPlan, order []dkey) error {
	if len(order) == 0 {
		return nil
	}
	n := len(order)
	d, id := make([]string, n), make([]string, n)
	for i, k := range order {
		d[i], id[i] = k.drill, k.id
	}
	rows, err := tx.Query(ctx, `SELECT u.drill, u.id, u.status, coalesce(u.incident, '') FROM units u
		JOIN unnest($1::text[], $2::text[]) AS x(drill, id) ON u.drill = x.drill AND u.id = x.id
		ORDER BY u.drill, u.id FOR UPDATE OF u`, d, id)
	if err != nil {
		return conflict("apply: lock units", err)
	}
	var k dkey
	var status, inc string
	_, err = pgx.ForEachRow(rows, []any{&k.drill, &k.id, &status, &inc}, func() error {
		f := units[k].first
		// Optimistic concurrency: the unit is in the status the engine saw.
		if teams.Status(status) != f.OldStatus {
			return fmt.Errorf("apply: unit %s is %s, not %s (changed by another writer): %w", k.id, status, f.OldStatus, dispatch.ErrConflict)
		}
		if err := checkChange(f, teams.Status(status), inc); err != nil {
			return fmt.Errorf("apply: %w", err)
		}
		return nil
	})
	if err != nil {
		return conflict("apply: lock units", err)
	}
	st, incs := make([]string, n), make([]*string, n)
	lat, lng, since := make([]float64, n), make([]float64, n), make([]time.Time, n)
	for i, k := range order {
		u := units[k].last
		st[i], incs[i], lat[i], lng[i], since[i] = string(u.NewStatus), nullIfEmpty(u.Incident), u.Lat, u.Lng, u.At
	}
	_, err = tx.Exec(ctx, `INSERT INTO units (drill, id, status, lat, lng, incident, since)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::text[], $7::timestamptz[])
		ON CONFLICT (drill, id) DO UPDATE SET status = EXCLUDED.status, lat = EXCLUDED.lat, lng = EXCLUDED.lng,
			incident = EXCLUDED.incident, since = EXCLUDED.since`, d, id, st, lat, lng, incs, since)
	if err != nil {
		return conflict("apply: units", err)
	}
	return nil
}

// writeIncidents inserts the batch's new incidents (a second decision fails
// on the primary key) and updates the others, each only if the stored row
// is still at the version the engine read it at (BaseVersion; 0: not
// checked): another engine sharing the database may have changed it
// meanwhile, and writing this copy would undo that. Rows are in key order.
func (s *Store) writeIncidents(ctx context.Context, tx pgx.Tx, incs map[dkey]*incRow, order []dkey) error {
	var ins, ups []*incRow
	for _, k := range order {
		if incs[k].isNew {
			ins = append(ins, incs[k])
		} else {
			ups = append(ups, incs[k])
		}
	}
	for _, part := range []struct {
		rows []*incRow
		sql  string
	}{
		{ins, `INSERT INTO incidents (drill, id, type, priority, state, town, reported_at, decided_at, updated_at, version, doc, has_location)
			SELECT drill, id, type, priority, state, town, reported_at, decided_at, updated_at, version, doc, has_location
			FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::timestamptz[],
				$8::timestamptz[], $9::timestamptz[], $10::int[], $11::jsonb[], $12::bool[], $13::int[])
				AS x(drill, id, type, priority, state, town, reported_at, decided_at, updated_at, version, doc, has_location, base)`},
		{ups, `UPDATE incidents AS i SET type = x.type, priority = x.priority, state = x.state, town = x.town,
				updated_at = x.updated_at, version = x.version, doc = x.doc, has_location = x.has_location
			FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::timestamptz[],
				$8::timestamptz[], $9::timestamptz[], $10::int[], $11::jsonb[], $12::bool[], $13::int[])
				AS x(drill, id, type, priority, state, town, reported_at, decided_at, updated_at, version, doc, has_location, base)
			WHERE i.drill = x.drill AND i.id = x.id AND (x.base = 0 OR i.version = x.base)`},
	} {
		if len(part.rows) == 0 {
			continue
		}
		n := len(part.rows)
		drill, id, typ, state, town := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		prio, ver, base := make([]int32, n), make([]int32, n), make([]int32, n)
		rep, dec, upd := make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
		doc, loc := make([][]byte, n), make([]bool, n)
		for i, r := range part.rows {
			b, err := json.Marshal(r.rec)
			if err != nil {
				return fmt.Errorf("apply: incident %s: %w", r.rec.ID, err)
			}
			drill[i], id[i], typ[i], state[i], town[i] = r.drill, r.rec.ID, r.rec.Type, r.rec.State, r.rec.Town
			prio[i], ver[i], base[i] = int32(r.rec.Priority), int32(r.rec.Version), int32(r.base)
			rep[i], dec[i], upd[i], doc[i], loc[i] = r.rec.ReportedAt, r.rec.DecidedAt, r.rec.UpdatedAt, b, r.rec.HasLocation
		}
		tag, err := tx.Exec(ctx, part.sql, drill, id, typ, prio, state, town, rep, dec, upd, ver, doc, loc, base)
		if err != nil {
			return conflict("apply: incidents", err)
		}
		if got := tag.RowsAffected(); got != int64(n) {
			// Only updates can fall short: a row not stored, or not at its base version.
			return fmt.Errorf("apply: %d of %d incidents changed by another writer since they were read: %w", int64(n)-got, n, dispatch.ErrConflict)
		}
	}
	return nil
}

type stockOp struct {
	drill string
	resources.StockChange
}

// writeStock queues every stock movement in one batch. The movements are
// stably sorted by stock row: movements of one row keep their order (their
// meaning depends on it), rows are locked in key order (no deadlocks).
func (s *Store) writeStock(ctx context.Context, tx pgx.Tx, outs []*dispatch.Outcome) error {
	var ops []stockOp
	for _, o := range outs {
		for _, c := range o.Stock {
			ops = append(ops, stockOp{o.Drill, c})
		}
	}
	if len(ops) == 0 {
		return nil
	}
	slices.SortStableFunc(ops, func(a, b stockOp) int {
		return cmp.Or(cmp.Compare(a.drill, b.drill), cmp.Compare(a.Depot, b.Depot), cmp.Compare(a.Item, b.Item))
	})
	b := &pgx.Batch{}
	var want []string // what each queued statement does; each must change one row
	for _, c := range ops {
		switch c.Op {
		case resources.OpReserve:
			// The primary key refuses a reservation id used before; CHECK (qty > 0).
			b.Queue(`INSERT INTO reservations (drill, id, incident, depot, item, qty, state) VALUES ($1, $2, $3, $4, $5, $6, 'reserved')`,
				c.drill, c.Reservation, c.Incident, c.Depot, c.Item, c.Qty)
			want = append(want, "reserve "+c.Reservation)
			// CHECK (reserved <= on_hand) refuses an overdraw; no row: stock never seeded.
			b.Queue(`UPDATE stock SET reserved = reserved + $4 WHERE drill = $1 AND depot = $2 AND item = $3`, c.drill, c.Depot, c.Item, c.Qty)
			want = append(want, "reserve "+c.Reservation+": stock "+c.Depot+"/"+c.Item)
		case resources.OpConsume, resources.OpRelease:
			state := map[resources.Op]string{resources.OpConsume: "consumed", resources.OpRelease: "released"}[c.Op]
			// Only an active reservation of the same depot, item and quantity moves.
			b.Queue(`UPDATE reservations SET state = $3 WHERE drill = $1 AND id = $2 AND state = 'reserved'
				AND depot = $4 AND item = $5 AND qty = $6`, c.drill, c.Reservation, state, c.Depot, c.Item, c.Qty)
			want = append(want, string(c.Op)+" "+c.Reservation+": no such active reservation")
			onHand := 0
			if c.Op == resources.OpConsume {
				onHand = c.Qty
			}
			b.Queue(`UPDATE stock SET reserved = reserved - $4, on_hand = on_hand - $5 WHERE drill = $1 AND depot = $2 AND item = $3`,
				c.drill, c.Depot, c.Item, c.Qty, onHand)
			want = append(want, string(c.Op)+" "+c.Reservation+": stock "+c.Depot+"/"+c.Item)
		case resources.OpRestock:
			if c.Qty <= 0 {
				return fmt.Errorf("apply: restock %d: %w", c.Qty, dispatch.ErrConflict)
			}
			b.Queue(`INSERT INTO stock (drill, depot, item, on_hand, reserved) VALUES ($1, $2, $3, $4, 0)
				ON CONFLICT (drill, depot, item) DO UPDATE SET on_hand = stock.on_hand + EXCLUDED.on_hand`, c.drill, c.Depot, c.Item, c.Qty)
			want = append(want, "restock "+c.Depot+"/"+c.Item)
		default:
			return fmt.Errorf("apply: unknown stock op %q: %w", c.Op, dispatch.ErrConflict)
		}
	}
	br := tx.SendBatch(ctx, b)
	for _, w := range want {
		tag, err := br.Exec()
		if err != nil {
			_ = br.Close()
			return conflict("apply: "+w, err)
		}
		if tag.RowsAffected() != 1 {
			_ = br.Close()
			return fmt.Errorf("apply: %s: nothing to change: %w", w, dispatch.ErrConflict)
		}
	}
	if err := br.Close(); err != nil {
		return conflict("apply: stock", err)
	}
	return nil
}

func (s *Store) writeEvents(ctx context.Context, tx pgx.Tx, outs []*dispatch.Outcome) error {
	n := 0
	for _, o := range outs {
		n += len(o.Events)
	}
	if n == 0 {
		return nil
	}
	var last int64
	if err := tx.QueryRow(ctx, `UPDATE event_seq SET n = n + $1 RETURNING n`, n).Scan(&last); err != nil {
		return fmt.Errorf("apply: event seq: %w", err)
	}
	seq := last - int64(n)
	rows := make([][]any, 0, n)
	for _, o := range outs {
		for i := range o.Events {
			seq++
			ev := &o.Events[i]
			teams := ev.Teams
			if teams == nil {
				teams = []string{}
			}
			var data any
			if len(ev.Data) > 0 {
				data = []byte(ev.Data)
			}
			rows = append(rows, []any{seq, ev.At, ev.Kind, ev.Drill, ev.Town, teams, ev.Incident, ev.Unit, data})
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"seq", "at", "kind", "drill", "town", "teams", "incident", "unit", "data"},
		pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("apply: events: %w", err)
	}
	// Only now, with everything written, hand the seqs to the caller.
	seq = last - int64(n)
	for _, o := range outs {
		for i := range o.Events {
			seq++
			o.Events[i].Seq = seq
		}
	}
	return nil
}

func (s *Store) writeOutbox(ctx context.Context, tx pgx.Tx, outs []*dispatch.Outcome) error {
	n := 0
	for _, o := range outs {
		n += len(o.Outbox)
	}
	if n == 0 {
		return nil
	}
	ids := make([]int64, 0, n)
	rows, err := tx.Query(ctx, `SELECT nextval('outbox_id_seq') FROM generate_series(1, $1)`, n)
	if err != nil {
		return fmt.Errorf("apply: outbox ids: %w", err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("apply: outbox ids: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("apply: outbox ids: %w", err)
	}
	slices.Sort(ids)
	copyRows := make([][]any, 0, n)
	i := 0
	for _, o := range outs {
		for j := range o.Outbox {
			copyRows = append(copyRows, []any{ids[i], o.Outbox[j].Key, o.Outbox[j].Value})
			i++
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"outbox"}, []string{"id", "key", "value"}, pgx.CopyFromRows(copyRows)); err != nil {
		return fmt.Errorf("apply: outbox: %w", err)
	}
	i = 0
	for _, o := range outs {
		for j := range o.Outbox {
			o.Outbox[j].ID = ids[i]
			i++
		}
	}
	return nil
}
