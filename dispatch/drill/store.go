package drill

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/wire"
	"github.com/zs110/dispatch/teams"
)

// StoreConfig configures a Store.
type StoreConfig struct {
	// KeepEvents is how many of the newest console events EventsAfter can
	// return; older ones are dropped (a console that fell further behind
	// resumes at the oldest kept). Default 32,768.
	KeepEvents int
	// KeepOutbox is how many unsent outbox records are kept; older ones are
	// dropped and counted (an in-memory drill has no relay). Default 32,768.
	KeepOutbox int
	// KeepClosed is how many of the most recently closed or cancelled
	// incidents Incident can still return; every decided id stays known to
	// Decided. Default 10,000.
	KeepClosed int
}

type skey struct{ drill, id string }

type stockKey struct{ drill, depot, item string }

// Store is an in-memory dispatch.Store for long drills: the same rules as
// dispatch/memstore (it passes dispatch/storetest), but it keeps incident
// records as the engine hands them over instead of JSON copies, and only a
// window of history, so that a year of calls fits in memory: the whole
// state (units, stock, reservations, open incidents, every decided id),
// the newest KeepEvents console events and KeepOutbox outbox records, and
// the KeepClosed most recently closed incidents. Apply keeps the records
// of the outcomes it is given: callers must not change them afterwards (the
// engine hands over frozen copies). Safe for concurrent use.
type Store struct {
	cfg StoreConfig
	mu  sync.Mutex
	// incidents holds open incidents and the KeepClosed newest closed ones.
	incidents map[skey]*dispatch.IncidentRecord
	decided   map[skey]struct{}
	closed    []skey // ring of closed incidents still held
	closedAt  int
	units     map[skey]teams.UnitState
	stock     map[stockKey]*stockRow
	res       map[skey]dispatch.StockChange
	resDone   map[skey]struct{}
	events    []dispatch.Event // ring: events[(seq-1) % KeepEvents]
	seq       int64
	outbox    *memstore.Outbox // unsent records, at most KeepOutbox
	enc       wire.Encoder     // event and outbox JSON, written when read
}

var _ dispatch.Store = (*Store)(nil)

// NewStore returns an empty store.
func NewStore(cfg StoreConfig) *Store {
	if cfg.KeepEvents <= 0 {
		cfg.KeepEvents = 32768
	}
	if cfg.KeepOutbox <= 0 {
		cfg.KeepOutbox = 32768
	}
	if cfg.KeepClosed <= 0 {
		cfg.KeepClosed = 10000
	}
	return &Store{cfg: cfg, incidents: map[skey]*dispatch.IncidentRecord{}, decided: map[skey]struct{}{},
		units: map[skey]teams.UnitState{}, stock: map[stockKey]*stockRow{}, res: map[skey]dispatch.StockChange{},
		resDone: map[skey]struct{}{}, events: make([]dispatch.Event, 0, min(cfg.KeepEvents, 4096)),
		outbox: memstore.NewOutbox(cfg.KeepOutbox, false)}
}

// DroppedOutbox returns how many unsent outbox records were dropped.
func (s *Store) DroppedOutbox() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outbox.Dropped()
}

// Load implements dispatch.Store.
func (s *Store) Load(_ context.Context, drill string) (*dispatch.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := &dispatch.Snapshot{LastSeq: s.seq}
	for k, u := range s.units {
		if k.drill == drill {
			snap.Units = append(snap.Units, u)
		}
	}
	slices.SortFunc(snap.Units, func(a, b teams.UnitState) int { return cmp.Compare(a.ID, b.ID) })
	for k, r := range s.stock {
		if k.drill == drill {
			snap.Stock = append(snap.Stock, dispatch.StockLevel{Depot: k.depot, Item: k.item, OnHand: r.onHand, Reserved: r.reserved})
		}
	}
	slices.SortFunc(snap.Stock, func(a, b dispatch.StockLevel) int {
		if c := cmp.Compare(a.Depot, b.Depot); c != 0 {
			return c
		}
		return cmp.Compare(a.Item, b.Item)
	})
	for k, r := range s.res {
		if k.drill == drill {
			snap.Reservations = append(snap.Reservations, r)
		}
	}
	slices.SortFunc(snap.Reservations, func(a, b dispatch.StockChange) int { return cmp.Compare(a.Reservation, b.Reservation) })
	for k, r := range s.incidents {
		if k.drill == drill && !finished(r.State) {
			snap.Open = append(snap.Open, *r.Clone())
		}
	}
	slices.SortFunc(snap.Open, func(a, b dispatch.IncidentRecord) int { return cmp.Compare(a.ID, b.ID) })
	return snap, nil
}

func finished(state string) bool {
	return state == dispatch.StateClosed || state == dispatch.StateCancelled
}

// Apply implements dispatch.Store: the batch is checked first, then
// written, so a refused batch writes nothing.
func (s *Store) Apply(_ context.Context, outs []*dispatch.Outcome) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(outs); err != nil {
		return err
	}
	for _, o := range outs {
		if r := o.Incident; r != nil {
			k := skey{o.Drill, r.ID}
			s.incidents[k] = r
			s.decided[k] = struct{}{}
			if finished(r.State) {
				s.retire(k)
			}
		}
		for _, u := range o.Units {
			s.units[skey{o.Drill, u.UnitID}] = teams.UnitState{ID: u.UnitID, Status: u.NewStatus, Lat: u.Lat, Lng: u.Lng, Incident: u.Incident, Since: u.At}
		}
		for _, c := range o.Stock {
			row := s.row(stockKey{o.Drill, c.Depot, c.Item})
			rk := skey{o.Drill, c.Reservation}
			switch c.Op {
			case "reserve":
				row.reserved += c.Qty
				s.res[rk] = c
			case "consume", "release":
				row.reserved -= c.Qty
				if c.Op == "consume" {
					row.onHand -= c.Qty
				}
				delete(s.res, rk)
				s.resDone[rk] = struct{}{}
			case "restock":
				row.onHand += c.Qty
			}
		}
		for i := range o.Events {
			s.seq++
			o.Events[i].Seq = s.seq
			ev := o.Events[i]
			if len(ev.Teams) == 0 {
				ev.Teams = nil // empty reads back as nil, as from pgstore
			}
			if len(ev.Data) == 0 {
				ev.Data = nil
			}
			if len(s.events) < s.cfg.KeepEvents {
				s.events = append(s.events, ev)
			} else {
				s.events[(s.seq-1)%int64(s.cfg.KeepEvents)] = ev
			}
		}
		for i := range o.Outbox {
			s.outbox.Add(&o.Outbox[i])
		}
	}
	return nil
}

// retire remembers a closed incident, forgetting the oldest beyond KeepClosed.
func (s *Store) retire(k skey) {
	if len(s.closed) < s.cfg.KeepClosed {
		s.closed = append(s.closed, k)
		return
	}
	old := s.closed[s.closedAt]
	if r, ok := s.incidents[old]; ok && finished(r.State) && old != k {
		delete(s.incidents, old)
	}
	s.closed[s.closedAt] = k
	s.closedAt = (s.closedAt + 1) % s.cfg.KeepClosed
}

func (s *Store) row(k stockKey) *stockRow {
	r, ok := s.stock[k]
	if !ok {
		r = &stockRow{}
		s.stock[k] = r
	}
	return r
}

type unitBrief struct {
	status   teams.Status
	incident string
}

// check validates a batch against the state and the batch's own earlier
// outcomes, without writing: memstore's (and pgstore's) rules.
func (s *Store) check(outs []*dispatch.Outcome) error {
	type unitNow struct {
		k skey
		unitBrief
	}
	var (
		written []skey    // incidents written by earlier outcomes of the batch
		units   []unitNow // unit state after the batch's earlier changes (batches are small)
		stock   map[stockKey]stockRow
		resv    map[skey]dispatch.StockChange
		resGone map[skey]bool
	)
	for _, o := range outs {
		if o.Incident != nil {
			k := skey{o.Drill, o.Incident.ID}
			if o.NewIncident {
				if _, exists := s.decided[k]; exists || slices.Contains(written, k) {
					return fmt.Errorf("incident %s already decided: %w", o.Incident.ID, dispatch.ErrConflict)
				}
			} else if o.BaseVersion != 0 && !slices.Contains(written, k) {
				// A retired (finished) incident keeps no record to compare with.
				r, kept := s.incidents[k]
				_, decided := s.decided[k]
				if !decided || kept && r.Version != o.BaseVersion {
					return fmt.Errorf("incident %s is not at version %d (changed by another writer): %w", o.Incident.ID, o.BaseVersion, dispatch.ErrConflict)
				}
			}
			written = append(written, k)
		}
		for _, u := range o.Units {
			if err := u.Check(); err != nil {
				return fmt.Errorf("%w: %w", err, dispatch.ErrConflict)
			}
			k := skey{o.Drill, u.UnitID}
			i := slices.IndexFunc(units, func(x unitNow) bool { return x.k == k })
			var cur unitBrief
			if i >= 0 {
				cur = units[i].unitBrief
			} else if st, ok := s.units[k]; ok {
				if st.Status != u.OldStatus {
					return fmt.Errorf("unit %s is %s, not %s (changed by another writer): %w", u.UnitID, st.Status, u.OldStatus, dispatch.ErrConflict)
				}
				cur = unitBrief{st.Status, st.Incident}
			}
			if u.NewStatus.Active() && cur.status.Active() && cur.incident != u.Incident {
				return fmt.Errorf("unit %s is %s on %s, cannot take %s: %w", u.UnitID, cur.status, cur.incident, u.Incident, dispatch.ErrConflict)
			}
			if i >= 0 {
				units[i].unitBrief = unitBrief{u.NewStatus, u.Incident}
			} else {
				units = append(units, unitNow{k, unitBrief{u.NewStatus, u.Incident}})
			}
		}
		for _, c := range o.Stock {
			if stock == nil {
				stock, resv, resGone = map[stockKey]stockRow{}, map[skey]dispatch.StockChange{}, map[skey]bool{}
			}
			if err := s.checkStock(o.Drill, c, stock, resv, resGone); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) checkStock(drill string, c dispatch.StockChange, stock map[stockKey]stockRow, resv map[skey]dispatch.StockChange, resGone map[skey]bool) error {
	sk := stockKey{drill, c.Depot, c.Item}
	row, exists := stock[sk]
	if !exists {
		if r, ok := s.stock[sk]; ok {
			row, exists = *r, true
		}
	}
	rk := skey{drill, c.Reservation}
	r, isActive := s.res[rk]
	if br, ok := resv[rk]; ok {
		r, isActive = br, true
	}
	if resGone[rk] {
		isActive = false
	}
	switch c.Op {
	case "reserve":
		_, done := s.resDone[rk]
		if isActive || done || resGone[rk] {
			return fmt.Errorf("reservation %s already used: %w", c.Reservation, dispatch.ErrConflict)
		}
		if !exists {
			return fmt.Errorf("reserve %s at %s: no stock row: %w", c.Item, c.Depot, dispatch.ErrConflict)
		}
		if c.Qty <= 0 || row.reserved+c.Qty > row.onHand {
			return fmt.Errorf("reserve %d %s at %s: only %d available: %w", c.Qty, c.Item, c.Depot, row.onHand-row.reserved, dispatch.ErrConflict)
		}
		row.reserved += c.Qty
		resv[rk] = c
	case "consume", "release":
		if !isActive || r.Depot != c.Depot || r.Item != c.Item || r.Qty != c.Qty {
			return fmt.Errorf("%s reservation %s: no such active reservation: %w", c.Op, c.Reservation, dispatch.ErrConflict)
		}
		row.reserved -= c.Qty
		if c.Op == "consume" {
			row.onHand -= c.Qty
		}
		if row.reserved < 0 || row.onHand < 0 {
			return fmt.Errorf("%s reservation %s: stock would go negative: %w", c.Op, c.Reservation, dispatch.ErrConflict)
		}
		delete(resv, rk)
		resGone[rk] = true
	case "restock":
		if c.Qty <= 0 {
			return fmt.Errorf("restock %d: %w", c.Qty, dispatch.ErrConflict)
		}
		row.onHand += c.Qty
	default:
		return fmt.Errorf("unknown stock op %q: %w", c.Op, dispatch.ErrConflict)
	}
	stock[sk] = row
	return nil
}

// Decided implements dispatch.Store.
func (s *Store) Decided(_ context.Context, drill string, ids []string) (map[string]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]bool{}
	for _, id := range ids {
		if _, ok := s.decided[skey{drill, id}]; ok {
			out[id] = true
		}
	}
	return out, nil
}

// Incident implements dispatch.Store. A closed incident older than the
// KeepClosed newest is not found.
func (s *Store) Incident(_ context.Context, drill, id string) (*dispatch.IncidentRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.incidents[skey{drill, id}]
	if !ok {
		return nil, fmt.Errorf("incident %q: %w", id, dispatch.ErrNotFound)
	}
	return r.Clone(), nil
}

// EventsAfter implements dispatch.Store. Events older than the KeepEvents
// newest are gone: a reader behind them resumes at the oldest kept.
func (s *Store) EventsAfter(_ context.Context, after int64, limit int) ([]dispatch.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if limit <= 0 || after >= s.seq {
		return nil, nil
	}
	first := max(after+1, s.seq-int64(len(s.events))+1, 1)
	n := min(int64(limit), s.seq-first+1)
	out := make([]dispatch.Event, 0, n)
	for q := first; q < first+n; q++ {
		ev := &s.events[(q-1)%int64(s.cfg.KeepEvents)]
		if ev.Data == nil {
			ev.Data = s.enc.EventData(ev)
		}
		out = append(out, *ev)
	}
	return out, nil
}

// LastSeq implements dispatch.Store.
func (s *Store) LastSeq(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq, nil
}

// PendingOutbox implements dispatch.Store.
func (s *Store) PendingOutbox(_ context.Context, limit int) ([]dispatch.OutboxRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outbox.Pending(limit, &s.enc), nil
}

// MarkSent implements dispatch.Store.
func (s *Store) MarkSent(_ context.Context, ids []int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outbox.MarkSent(ids)
	return nil
}

// SeedUnits implements dispatch.Store.
func (s *Store) SeedUnits(_ context.Context, drill string, units []teams.UnitState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range units {
		if err := u.Check(); err != nil {
			return fmt.Errorf("seed units: %w: %w", err, dispatch.ErrConflict)
		}
	}
	for _, u := range units {
		k := skey{drill, u.ID}
		if _, ok := s.units[k]; !ok {
			s.units[k] = u
		}
	}
	return nil
}

// SeedStock implements dispatch.Store.
func (s *Store) SeedStock(_ context.Context, drill string, levels []dispatch.StockLevel) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range levels {
		if err := dispatch.CheckStockLevel(l); err != nil {
			return fmt.Errorf("seed %w", err)
		}
	}
	for _, l := range levels {
		k := stockKey{drill, l.Depot, l.Item}
		if _, ok := s.stock[k]; !ok {
			s.stock[k] = &stockRow{onHand: l.OnHand, reserved: l.Reserved}
		}
	}
	return nil
}

// Ping implements dispatch.Store.
func (s *Store) Ping(context.Context) error { return nil }

// Close implements dispatch.Store.
func (s *Store) Close() {}
