package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/changelog"
	"github.com/zs110/dispatch/dispatch/wire"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

// Config sets how much history a Store keeps besides the current state
// (units, stock, reservations, open incidents, every decided id), which it
// always keeps whole. The zero Config keeps everything.
type Config struct {
	// KeepEvents is how many of the newest console events EventsAfter can
	// return: older ones are dropped, and a console that fell further behind
	// resumes at the oldest kept. Default 0: keep all.
	KeepEvents int
	// KeepOutbox is how many unsent outbox records are kept: older ones are
	// dropped and counted (DroppedOutbox), for a store no relay drains.
	// Default 0: keep all.
	KeepOutbox int
	// KeepClosed is how many of the most recently closed or cancelled
	// incidents Incident can still return; older ones are not found, but
	// every decided id stays known to Decided. Default 0: keep all.
	KeepClosed int
}

type key struct{ drill, id string }

type unitBrief struct {
	status   teams.Status
	incident string
}

// Store is an in-memory dispatch.Store, safe for concurrent use (one mutex).
type Store struct {
	cfg Config
	mu  sync.Mutex
	// incidents holds the records as Apply was given them: the open ones,
	// and the closed ones within KeepClosed.
	incidents map[key]*dispatch.IncidentRecord
	decided   map[key]struct{}
	history   map[key][]dispatch.HistoryEntry // of the incidents held
	closed    []key                           // KeepClosed > 0: ring of the closed incidents held
	closedAt  int
	units     map[key]teams.UnitState
	stock     map[string]*resources.Ledger // by drill
	noStock   *resources.Ledger            // what a drill never seeded checks against
	events    []dispatch.Event             // the event of seq q at eventAt(q)
	written   []time.Time                  // when the event at the same place was written
	seq       int64
	outbox    *outbox
	changes   []resources.StockChange                     // check's scratch: one drill's stock changes
	enc       wire.Encoder                                // event and outbox JSON, written when first read
	travel    map[string]map[geo.TravelKey]geo.TravelStat // learned travel times by drill
}

var _ dispatch.Store = (*Store)(nil)

// New returns an empty store keeping what cfg says (Config{}: everything).
// A negative bound counts as 0.
func New(cfg Config) *Store {
	cfg.KeepEvents, cfg.KeepOutbox, cfg.KeepClosed = max(cfg.KeepEvents, 0), max(cfg.KeepOutbox, 0), max(cfg.KeepClosed, 0)
	capEvents := 4096
	if cfg.KeepEvents > 0 {
		capEvents = min(cfg.KeepEvents, capEvents)
	}
	return &Store{cfg: cfg, incidents: map[key]*dispatch.IncidentRecord{}, decided: map[key]struct{}{}, history: map[key][]dispatch.HistoryEntry{}, units: map[key]teams.UnitState{},
		stock: map[string]*resources.Ledger{}, noStock: resources.NewLedger(), events: make([]dispatch.Event, 0, capEvents),
		outbox: &outbox{keep: cfg.KeepOutbox}}
}

// DroppedOutbox returns how many unsent outbox records KeepOutbox dropped.
func (s *Store) DroppedOutbox() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outbox.lost
}

func finished(state string) bool {
	return state == dispatch.StateClosed || state == dispatch.StateCancelled
}

// Load implements dispatch.Store. The open incidents are deep copies
// (IncidentRecord.Clone): the caller may change them.
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
	if l := s.stock[drill]; l != nil {
		snap.Stock, snap.Reservations = l.Levels(), l.Reservations()
	}
	for k, st := range s.travel[drill] {
		snap.Travel = append(snap.Travel, geo.TravelRow{Key: k, Stat: st})
	}
	slices.SortFunc(snap.Travel, func(a, b geo.TravelRow) int { return geo.CompareTravelKeys(a.Key, b.Key) })
	for k, r := range s.incidents {
		if k.drill == drill && !finished(r.State) {
			snap.Open = append(snap.Open, *r.Clone())
		}
	}
	slices.SortFunc(snap.Open, func(a, b dispatch.IncidentRecord) int { return cmp.Compare(a.ID, b.ID) })
	return snap, nil
}

// Apply implements dispatch.Store: the batch is checked first, then
// written, so a refused batch writes nothing. It keeps what the outcomes
// hold as they are handed over, without copying: the incident records, the
// events' teams and data, the outbox values. Callers must not change them
// afterwards (the engine hands over frozen copies of its records).
func (s *Store) Apply(_ context.Context, outs []*dispatch.Outcome) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.check(outs); err != nil {
		return err
	}
	s.learn(outs)
	for _, o := range outs {
		if r := o.Incident; r != nil {
			k := key{o.Drill, r.ID}
			s.incidents[k] = r
			s.decided[k] = struct{}{}
			if len(o.History) > 0 {
				s.history[k] = append(s.history[k], o.History...)
			}
			if finished(r.State) && s.cfg.KeepClosed > 0 {
				s.retire(k)
			}
		}
		for _, u := range o.Units {
			s.units[key{o.Drill, u.UnitID}] = teams.UnitState{ID: u.UnitID, Status: u.NewStatus, Lat: u.Lat, Lng: u.Lng, Incident: u.Incident, Since: u.At}
		}
		if len(o.Stock) > 0 {
			s.ledger(o.Drill).Apply(o.Stock)
		}
		now := time.Now()
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
			if k := s.cfg.KeepEvents; k > 0 && len(s.events) == k {
				s.events[s.eventAt(s.seq)] = ev
				s.written[s.eventAt(s.seq)] = now
			} else {
				s.events = append(s.events, ev)
				s.written = append(s.written, now)
			}
		}
		for i := range o.Outbox {
			s.outbox.add(&o.Outbox[i])
		}
	}
	return nil
}

// eventAt is where the event of seq q is (or was) held in s.events.
func (s *Store) eventAt(q int64) int64 {
	if k := s.cfg.KeepEvents; k > 0 {
		return (q - 1) % int64(k)
	}
	return q - 1
}

// retire remembers a closed incident, forgetting the oldest beyond KeepClosed.
func (s *Store) retire(k key) {
	if len(s.closed) < s.cfg.KeepClosed {
		s.closed = append(s.closed, k)
		return
	}
	old := s.closed[s.closedAt]
	if r, ok := s.incidents[old]; ok && finished(r.State) && old != k {
		delete(s.incidents, old)
		delete(s.history, old)
	}
	s.closed[s.closedAt] = k
	s.closedAt = (s.closedAt + 1) % s.cfg.KeepClosed
}

// ledger returns a drill's stock, created empty if new.
func (s *Store) ledger(drill string) *resources.Ledger {
	l, ok := s.stock[drill]
	if !ok {
		l = resources.NewLedger()
		s.stock[drill] = l
	}
	return l
}

// check validates a batch against the stored state and the batch's own
// earlier outcomes, without writing: the rules of pgstore's constraints.
func (s *Store) check(outs []*dispatch.Outcome) error {
	var (
		written batchMap[struct{}]  // incidents written by earlier outcomes of the batch
		units   batchMap[unitBrief] // units as the batch's earlier changes left them
	)
	for _, o := range outs {
		if o.Incident != nil {
			k := key{o.Drill, o.Incident.ID}
			_, again := written.get(k)
			if o.NewIncident {
				if _, exists := s.decided[k]; exists || again {
					return fmt.Errorf("incident %s already decided: %w", o.Incident.ID, dispatch.ErrConflict)
				}
			} else if o.BaseVersion != 0 && !again {
				// A retired (closed beyond KeepClosed) incident keeps no record to compare with.
				r, kept := s.incidents[k]
				_, decided := s.decided[k]
				if !decided || kept && r.Version != o.BaseVersion {
					return fmt.Errorf("incident %s is not at version %d (changed by another writer): %w", o.Incident.ID, o.BaseVersion, dispatch.ErrConflict)
				}
			}
			if !again {
				written.put(k, struct{}{}, false)
			}
		}
		for _, u := range o.Units {
			if err := u.Check(); err != nil {
				return fmt.Errorf("%w: %w", err, dispatch.ErrConflict)
			}
			k := key{o.Drill, u.UnitID}
			cur, seen := units.get(k)
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
			units.put(k, unitBrief{u.NewStatus, u.Incident}, seen)
		}
	}
	return s.checkStock(outs)
}

// checkStock checks each drill's stock changes of the batch, in order,
// against the drill's ledger.
func (s *Store) checkStock(outs []*dispatch.Outcome) error {
	first, multi := -1, false
	for i, o := range outs {
		if len(o.Stock) > 0 {
			if first < 0 {
				first = i
			} else if o.Drill != outs[first].Drill {
				multi = true
				break
			}
		}
	}
	if first < 0 {
		return nil
	}
	if !multi {
		return s.checkDrill(outs[first].Drill, outs)
	}
	var done []string
	for _, o := range outs {
		if len(o.Stock) > 0 && !slices.Contains(done, o.Drill) {
			done = append(done, o.Drill)
			if err := s.checkDrill(o.Drill, outs); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkDrill checks the stock changes of one drill's outcomes.
func (s *Store) checkDrill(drill string, outs []*dispatch.Outcome) error {
	s.changes = s.changes[:0]
	for _, o := range outs {
		if o.Drill == drill {
			s.changes = append(s.changes, o.Stock...)
		}
	}
	l := s.stock[drill]
	if l == nil {
		l = s.noStock
	}
	if err := l.Check(s.changes); err != nil {
		return fmt.Errorf("%w: %w", err, dispatch.ErrConflict)
	}
	return nil
}

// Decided implements dispatch.Store.
func (s *Store) Decided(_ context.Context, drill string, ids []string) (map[string]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]bool{}
	for _, id := range ids {
		if _, ok := s.decided[key{drill, id}]; ok {
			out[id] = true
		}
	}
	return out, nil
}

// Incident implements dispatch.Store: a deep copy (IncidentRecord.Clone),
// which the caller may change. A closed incident older than the KeepClosed
// newest is not found.
func (s *Store) Incident(_ context.Context, drill, id string) (*dispatch.IncidentRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.incidents[key{drill, id}]
	if !ok {
		return nil, fmt.Errorf("incident %q: %w", id, dispatch.ErrNotFound)
	}
	return r.Clone(), nil
}

// History implements dispatch.Store: the entries of an incident held
// (within KeepClosed).
func (s *Store) History(_ context.Context, drill, id string) ([]dispatch.HistoryEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key{drill, id}
	if _, ok := s.incidents[k]; !ok {
		return nil, fmt.Errorf("incident %q: %w", id, dispatch.ErrNotFound)
	}
	return append([]dispatch.HistoryEntry{}, s.history[k]...), nil
}

// EventsAfter implements dispatch.Store. Events older than the KeepEvents
// newest are gone: a reader behind them resumes at the oldest kept. The
// events share their Teams and Data with the store: read them only.
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
		ev := &s.events[s.eventAt(q)]
		if ev.Data == nil { // written on first read: a drill nobody watches never encodes
			ev.Data = s.enc.EventData(ev)
		}
		out = append(out, *ev)
	}
	return out, nil
}

// Changes implements dispatch.Store. The incident records are deep copies
// (IncidentRecord.Clone): the caller may change them. Events older than
// the KeepEvents newest are gone: a caller behind them gets ErrGap.
func (s *Store) Changes(_ context.Context, drill string, after int64, want dispatch.Want) (*dispatch.Changes, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if after > s.seq {
		return nil, fmt.Errorf("changes after %d, last %d: %w", after, s.seq, dispatch.ErrGap)
	}
	n := changelog.New(want)
	ch := &dispatch.Changes{Last: s.seq}
	if after < s.seq && !n.Covered(after, s.seq) {
		if first := s.seq - int64(len(s.events)) + 1; after+1 < first {
			return nil, fmt.Errorf("changes after %d, oldest kept %d: %w", after, first, dispatch.ErrGap)
		}
		read := 0
		for q := after + 1; q <= s.seq; q++ {
			ev := &s.events[s.eventAt(q)]
			if ev.Drill != drill {
				continue
			}
			if read == n.Limit() {
				ch.Last, ch.More = q-1, true
				break
			}
			read++
			n.Add(q, s.written[s.eventAt(q)], ev.Kind, ev.Incident, ev.Unit)
		}
	}
	ch.Events, ch.FirstWritten = n.Events, n.FirstWritten
	for _, id := range n.Units {
		if u, ok := s.units[key{drill, id}]; ok {
			ch.Units = append(ch.Units, u)
		}
	}
	stock := n.Stock
	named := map[string]bool{}
	for _, id := range n.Incidents {
		if r, ok := s.incidents[key{drill, id}]; ok {
			ch.Incidents = append(ch.Incidents, *r.Clone())
			named[id] = true
			stock = stock || changelog.HasMaterials(r)
		}
	}
	if l := s.stock[drill]; l != nil && stock {
		ch.Stock = l.Levels()
		if ch.Stock == nil {
			ch.Stock = []resources.Level{}
		}
		for _, r := range l.Reservations() {
			if named[r.Incident] {
				ch.Reservations = append(ch.Reservations, r)
			}
		}
	}
	return ch, nil
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
	return s.outbox.pending(limit, &s.enc), nil
}

// MarkSent implements dispatch.Store.
func (s *Store) MarkSent(_ context.Context, ids []int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outbox.markSent(ids)
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
func (s *Store) SeedStock(_ context.Context, drill string, levels []resources.Level) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range levels { // validate all first: all or nothing, like the INSERT
		if err := l.Check(); err != nil {
			return fmt.Errorf("seed stock: %w: %w", err, dispatch.ErrConflict)
		}
	}
	if len(levels) == 0 {
		return nil
	}
	lg := s.ledger(drill)
	for _, l := range levels {
		if _, ok := lg.Level(l.Depot, l.Item); !ok {
			if err := lg.SetLevel(l); err != nil { // cannot fail: checked above
				return fmt.Errorf("seed stock: %w: %w", err, dispatch.ErrConflict)
			}
		}
	}
	return nil
}

// Ping implements dispatch.Store.
func (s *Store) Ping(context.Context) error { return nil }

// Close implements dispatch.Store.
func (s *Store) Close() {}

// batchMap is what a batch's earlier outcomes left, by key: an array
// while small (batches usually are: a lookup is a short scan, and the
// array lives on check's stack), a map beyond.
type batchMap[V any] struct {
	n int
	a [batchMapArray]batchEntry[V]
	m map[key]V
}

type batchEntry[V any] struct {
	k key
	v V
}

const batchMapArray = 16

func (b *batchMap[V]) get(k key) (V, bool) {
	if b.m != nil {
		v, ok := b.m[k]
		return v, ok
	}
	for i := range b.n {
		if b.a[i].k == k {
			return b.a[i].v, true
		}
	}
	var zero V
	return zero, false
}

// put sets k's value; exists says whether get found k.
func (b *batchMap[V]) put(k key, v V, exists bool) {
	switch {
	case b.m != nil:
		b.m[k] = v
	case exists:
		for i := range b.n {
			if b.a[i].k == k {
				b.a[i].v = v
			}
		}
	case b.n < batchMapArray:
		b.a[b.n] = batchEntry[V]{k, v}
		b.n++
	default:
		b.m = make(map[key]V, 2*batchMapArray)
		for _, e := range b.a {
			b.m[e.k] = e.v
		}
		b.m[k] = v
	}
}

// learn adds a batch's learned trips to their drills' travel statistics,
// summed per key over the batch first and then added, as pgstore does (the
// same sums, bit for bit).
func (s *Store) learn(outs []*dispatch.Outcome) {
	type dk struct {
		drill string
		key   geo.TravelKey
	}
	var sum map[dk]geo.TravelStat
	var order []dk
	for _, o := range outs {
		for i := range o.Trips {
			t := &o.Trips[i]
			if !t.Learned {
				continue
			}
			for k := range t.Obs.Taught() {
				if sum == nil {
					sum = map[dk]geo.TravelStat{}
				}
				x := dk{o.Drill, k}
				if _, ok := sum[x]; !ok {
					order = append(order, x)
				}
				sum[x] = sum[x].Add(t.Obs.LogRatio)
			}
		}
	}
	for _, x := range order {
		if s.travel == nil {
			s.travel = map[string]map[geo.TravelKey]geo.TravelStat{}
		}
		m := s.travel[x.drill]
		if m == nil {
			m = map[geo.TravelKey]geo.TravelStat{}
			s.travel[x.drill] = m
		}
		b, st := sum[x], m[x.key]
		m[x.key] = geo.TravelStat{N: st.N + b.N, SumLog: st.SumLog + b.SumLog}
	}
}
