package memstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/wire"
	"github.com/zs110/dispatch/teams"
)

type key struct{ drill, id string }

type stockKey struct{ drill, depot, item string }

type stockRow struct{ onHand, reserved int }

// Store is an in-memory dispatch.Store, safe for concurrent use (one mutex).
type Store struct {
	mu        sync.Mutex
	incidents map[key][]byte // JSON of the IncidentRecord: a deep copy by construction
	located   map[key]bool   // Incident.HasLocation, which the JSON leaves out
	states    map[key]string
	versions  map[key]int // IncidentRecord.Version as stored
	units     map[key]teams.UnitState
	history   int
	stock     map[stockKey]*stockRow
	res       map[key]dispatch.StockChange // active reservations
	resDone   map[key]bool                 // consumed or released ids: never reused
	events    []dispatch.Event             // Data written on first read (EventsAfter)
	seq       int64
	outbox    *Outbox
	enc       wire.Encoder
}

var _ dispatch.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{incidents: map[key][]byte{}, located: map[key]bool{}, states: map[key]string{}, versions: map[key]int{}, units: map[key]teams.UnitState{},
		stock: map[stockKey]*stockRow{}, res: map[key]dispatch.StockChange{}, resDone: map[key]bool{}, outbox: NewOutbox(0, true)}
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
	sort.Slice(snap.Stock, func(i, j int) bool {
		a, b := snap.Stock[i], snap.Stock[j]
		return a.Depot < b.Depot || (a.Depot == b.Depot && a.Item < b.Item)
	})
	for k, r := range s.res {
		if k.drill == drill {
			snap.Reservations = append(snap.Reservations, r)
		}
	}
	slices.SortFunc(snap.Reservations, func(a, b dispatch.StockChange) int { return cmp.Compare(a.Reservation, b.Reservation) })
	for k, st := range s.states {
		if k.drill != drill || st == dispatch.StateClosed || st == dispatch.StateCancelled {
			continue
		}
		var rec dispatch.IncidentRecord
		if err := json.Unmarshal(s.incidents[k], &rec); err != nil {
			return nil, fmt.Errorf("load incident %s: %w", k.id, err)
		}
		rec.HasLocation = s.located[k]
		snap.Open = append(snap.Open, rec)
	}
	slices.SortFunc(snap.Open, func(a, b dispatch.IncidentRecord) int { return cmp.Compare(a.ID, b.ID) })
	return snap, nil
}

// Apply implements dispatch.Store: everything is checked first, then
// written, so a refused batch writes nothing.
func (s *Store) Apply(_ context.Context, outs []*dispatch.Outcome) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(outs); err != nil {
		return err
	}
	for _, o := range outs {
		if o.Incident != nil {
			b, err := json.Marshal(o.Incident)
			if err != nil {
				return fmt.Errorf("apply: %w", err)
			}
			k := key{o.Drill, o.Incident.ID}
			s.incidents[k] = b
			s.located[k] = o.Incident.HasLocation
			s.states[k] = o.Incident.State
			s.versions[k] = o.Incident.Version
		}
		for _, u := range o.Units {
			k := key{o.Drill, u.UnitID}
			s.units[k] = teams.UnitState{ID: u.UnitID, Status: u.NewStatus, Lat: u.Lat, Lng: u.Lng, Incident: u.Incident, Since: u.At}
			if u.OldStatus != u.NewStatus {
				s.history++
			}
		}
		for _, c := range o.Stock {
			sk := stockKey{o.Drill, c.Depot, c.Item}
			row := s.row(sk)
			rk := key{o.Drill, c.Reservation}
			switch c.Op {
			case "reserve":
				row.reserved += c.Qty
				s.res[rk] = c
			case "consume":
				row.reserved -= c.Qty
				row.onHand -= c.Qty
				delete(s.res, rk)
				s.resDone[rk] = true
			case "release":
				row.reserved -= c.Qty
				delete(s.res, rk)
				s.resDone[rk] = true
			case "restock":
				row.onHand += c.Qty
			}
		}
		for i := range o.Events {
			s.seq++
			o.Events[i].Seq = s.seq
			ev := o.Events[i]
			ev.Teams, ev.Data = nil, nil // empty reads back as nil, as from pgstore
			if len(o.Events[i].Teams) > 0 {
				ev.Teams = slices.Clone(o.Events[i].Teams)
			}
			if len(o.Events[i].Data) > 0 {
				ev.Data = slices.Clone(o.Events[i].Data)
			}
			s.events = append(s.events, ev)
		}
		for i := range o.Outbox {
			s.outbox.Add(&o.Outbox[i])
		}
	}
	return nil
}

func (s *Store) row(k stockKey) *stockRow {
	r, ok := s.stock[k]
	if !ok {
		r = &stockRow{}
		s.stock[k] = r
	}
	return r
}

// check validates a batch against the current state and the batch's own
// earlier outcomes, without writing. The rules are pgstore's constraints.
func (s *Store) check(outs []*dispatch.Outcome) error {
	written := map[key]bool{}              // incidents written by earlier outcomes of the batch
	unitNow := map[key]unitBrief{}         // unit state after the batch's earlier changes
	stock := map[stockKey]stockRow{}       // stock rows after the batch's earlier movements
	resv := map[key]dispatch.StockChange{} // reservations made by the batch
	resGone := map[key]bool{}              // reservations the batch consumed or released
	getStock := func(k stockKey) (stockRow, bool) {
		if r, ok := stock[k]; ok {
			return r, true
		}
		if r, ok := s.stock[k]; ok {
			return *r, true
		}
		return stockRow{}, false
	}
	for _, o := range outs {
		if o.Incident != nil {
			k := key{o.Drill, o.Incident.ID}
			if o.NewIncident {
				if _, exists := s.incidents[k]; exists || written[k] {
					return fmt.Errorf("incident %s already decided: %w", o.Incident.ID, dispatch.ErrConflict)
				}
			} else if o.BaseVersion != 0 && !written[k] {
				if v, ok := s.versions[k]; !ok || v != o.BaseVersion {
					return fmt.Errorf("incident %s is at version %d, not %d (changed by another writer): %w", o.Incident.ID, v, o.BaseVersion, dispatch.ErrConflict)
				}
			}
			written[k] = true
		}
		for _, u := range o.Units {
			if err := u.Check(); err != nil {
				return fmt.Errorf("%w: %w", err, dispatch.ErrConflict)
			}
			k := key{o.Drill, u.UnitID}
			cur, seen := unitNow[k]
			if !seen {
				if st, ok := s.units[k]; ok {
					// Optimistic concurrency: the unit is in the status the
					// engine saw when it made its first change of the batch.
					if st.Status != u.OldStatus {
						return fmt.Errorf("unit %s is %s, not %s (changed by another writer): %w", u.UnitID, st.Status, u.OldStatus, dispatch.ErrConflict)
					}
					cur = unitBrief{st.Status, st.Incident}
				}
			}
			if u.NewStatus.Active() && cur.status.Active() && cur.incident != u.Incident {
				return fmt.Errorf("unit %s is %s on %s, cannot take %s: %w", u.UnitID, cur.status, cur.incident, u.Incident, dispatch.ErrConflict)
			}
			unitNow[k] = unitBrief{u.NewStatus, u.Incident}
		}
		for _, c := range o.Stock {
			sk := stockKey{o.Drill, c.Depot, c.Item}
			row, exists := getStock(sk)
			rk := key{o.Drill, c.Reservation}
			r, isActive := s.res[rk]
			if br, ok := resv[rk]; ok {
				r, isActive = br, true
			}
			if resGone[rk] {
				isActive = false
			}
			switch c.Op {
			case "reserve":
				if isActive || s.resDone[rk] || resGone[rk] {
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
		}
	}
	return nil
}

type unitBrief struct {
	status   teams.Status
	incident string
}

// Decided implements dispatch.Store.
func (s *Store) Decided(_ context.Context, drill string, ids []string) (map[string]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]bool{}
	for _, id := range ids {
		if _, ok := s.incidents[key{drill, id}]; ok {
			out[id] = true
		}
	}
	return out, nil
}

// Incident implements dispatch.Store.
func (s *Store) Incident(_ context.Context, drill, id string) (*dispatch.IncidentRecord, error) {
	s.mu.Lock()
	b, ok := s.incidents[key{drill, id}]
	loc := s.located[key{drill, id}]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("incident %q: %w", id, dispatch.ErrNotFound)
	}
	var rec dispatch.IncidentRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("incident %s: %w", id, err)
	}
	rec.HasLocation = loc
	return &rec, nil
}

// EventsAfter implements dispatch.Store.
func (s *Store) EventsAfter(_ context.Context, after int64, limit int) ([]dispatch.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if limit <= 0 {
		return nil, nil
	}
	// Seqs are 1..len(events) in order: index directly.
	start := max(after, 0)
	if start >= int64(len(s.events)) {
		return nil, nil
	}
	end := min(int64(len(s.events)), start+int64(limit))
	evs := s.events[start:end]
	for i := range evs {
		if evs[i].Data == nil {
			evs[i].Data = s.enc.EventData(&evs[i])
		}
	}
	return slices.Clone(evs), nil
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
		k := key{drill, u.ID}
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
	for _, l := range levels { // validate all first: all or nothing, like the INSERT
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
