package resources

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// TestStockChangeJSON: the JSON of a stock change is the one the engine
// and the stores have always written.
func TestStockChangeJSON(t *testing.T) {
	b, err := json.Marshal(StockChange{Reservation: "A|sandbag|D1", Incident: "A", Depot: "D1", Item: "sandbag", Qty: 5, Op: OpReserve})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"reservation":"A|sandbag|D1","incident":"A","depot":"D1","item":"sandbag","qty":5,"op":"reserve"}`; string(b) != want {
		t.Fatalf("JSON %s, want %s", b, want)
	}
	for op, s := range map[Op]string{OpReserve: "reserve", OpConsume: "consume", OpRelease: "release", OpRestock: "restock"} {
		if string(op) != s {
			t.Errorf("op %q, want %q", op, s)
		}
	}
	var c StockChange
	if err := json.Unmarshal([]byte(`{"op":"consume","qty":2}`), &c); err != nil || c.Op != OpConsume || c.Qty != 2 {
		t.Fatalf("decoded %+v %v", c, err)
	}
}

func res(id, depot, item string, qty int) StockChange {
	return StockChange{Reservation: id, Incident: "I", Depot: depot, Item: item, Qty: qty, Op: OpReserve}
}

func end(op Op, id, depot, item string, qty int) StockChange {
	return StockChange{Reservation: id, Incident: "I", Depot: depot, Item: item, Qty: qty, Op: op}
}

func restock(depot, item string, qty int) StockChange {
	return StockChange{Depot: depot, Item: item, Qty: qty, Op: OpRestock}
}

// TestLedgerCheck: each case applies batches in turn to a store's ledger
// holding A/sandbag 100 and A/pump 2; a refused batch writes nothing.
func TestLedgerCheck(t *testing.T) {
	type batch struct {
		changes []StockChange
		want    error
	}
	cases := []struct {
		name    string
		batches []batch
		levels  string // Levels() after, as %v
		resv    []string
	}{
		{"reserve", []batch{{[]StockChange{res("r1", "A", "sandbag", 30)}, nil}}, "[{A pump 2 0} {A sandbag 100 30}]", []string{"r1"}},
		{"overdraw", []batch{{[]StockChange{res("r1", "A", "pump", 3)}, ErrInsufficient}}, "[{A pump 2 0} {A sandbag 100 0}]", nil},
		{"overdraw inside one batch", []batch{{[]StockChange{res("r1", "A", "sandbag", 60), res("r2", "A", "sandbag", 41)}, ErrInsufficient}},
			"[{A pump 2 0} {A sandbag 100 0}]", nil},
		{"zero quantity", []batch{{[]StockChange{res("r1", "A", "sandbag", 0)}, ErrBadQuantity}}, "[{A pump 2 0} {A sandbag 100 0}]", nil},
		{"unknown depot", []batch{{[]StockChange{res("r1", "Z", "sandbag", 1)}, ErrUnknownDepot}}, "[{A pump 2 0} {A sandbag 100 0}]", nil},
		{"item the depot never held", []batch{{[]StockChange{res("r1", "A", "tent", 1)}, ErrInsufficient}}, "[{A pump 2 0} {A sandbag 100 0}]", nil},
		{"duplicate id", []batch{{[]StockChange{res("r1", "A", "sandbag", 1)}, nil}, {[]StockChange{res("r1", "A", "sandbag", 1)}, ErrDuplicateReservation}},
			"[{A pump 2 0} {A sandbag 100 1}]", []string{"r1"}},
		{"duplicate id in one batch", []batch{{[]StockChange{res("r1", "A", "sandbag", 1), res("r1", "A", "pump", 1)}, ErrDuplicateReservation}},
			"[{A pump 2 0} {A sandbag 100 0}]", nil},
		{"finished id never reused", []batch{{[]StockChange{res("r1", "A", "pump", 2)}, nil}, {[]StockChange{end(OpRelease, "r1", "A", "pump", 2)}, nil},
			{[]StockChange{res("r1", "A", "pump", 2)}, ErrDuplicateReservation}}, "[{A pump 2 0} {A sandbag 100 0}]", nil},
		{"finished id never reused in one batch", []batch{{[]StockChange{res("r1", "A", "pump", 2), end(OpConsume, "r1", "A", "pump", 2), res("r1", "A", "sandbag", 2)}, ErrDuplicateReservation}},
			"[{A pump 2 0} {A sandbag 100 0}]", nil},
		{"consume", []batch{{[]StockChange{res("r1", "A", "sandbag", 30)}, nil}, {[]StockChange{end(OpConsume, "r1", "A", "sandbag", 30)}, nil}},
			"[{A pump 2 0} {A sandbag 70 0}]", nil},
		{"reserve and consume in one batch", []batch{{[]StockChange{res("r1", "A", "sandbag", 30), end(OpConsume, "r1", "A", "sandbag", 30)}, nil}},
			"[{A pump 2 0} {A sandbag 70 0}]", nil},
		{"release frees stock for the same batch", []batch{{[]StockChange{res("r1", "A", "pump", 2)}, nil},
			{[]StockChange{end(OpRelease, "r1", "A", "pump", 2), res("r2", "A", "pump", 2)}, nil}}, "[{A pump 2 2} {A sandbag 100 0}]", []string{"r2"}},
		{"release of another quantity", []batch{{[]StockChange{res("r1", "A", "sandbag", 10)}, nil}, {[]StockChange{end(OpRelease, "r1", "A", "sandbag", 5)}, ErrUnknownReservation}},
			"[{A pump 2 0} {A sandbag 100 10}]", []string{"r1"}},
		{"release at another depot", []batch{{[]StockChange{res("r1", "A", "sandbag", 10)}, nil}, {[]StockChange{end(OpRelease, "r1", "B", "sandbag", 10)}, ErrUnknownReservation}},
			"[{A pump 2 0} {A sandbag 100 10}]", []string{"r1"}},
		{"consume unknown", []batch{{[]StockChange{end(OpConsume, "r1", "A", "sandbag", 10)}, ErrUnknownReservation}}, "[{A pump 2 0} {A sandbag 100 0}]", nil},
		{"release twice in one batch", []batch{{[]StockChange{res("r1", "A", "sandbag", 10)}, nil},
			{[]StockChange{end(OpRelease, "r1", "A", "sandbag", 10), end(OpRelease, "r1", "A", "sandbag", 10)}, ErrUnknownReservation}},
			"[{A pump 2 0} {A sandbag 100 10}]", []string{"r1"}},
		{"restock then reserve in one batch", []batch{{[]StockChange{restock("A", "tent", 5), res("r1", "A", "tent", 5)}, nil}},
			"[{A pump 2 0} {A sandbag 100 0} {A tent 5 5}]", []string{"r1"}},
		{"restock brings a new depot", []batch{{[]StockChange{restock("N", "tent", 5), res("r1", "N", "tent", 5)}, nil}},
			"[{A pump 2 0} {A sandbag 100 0} {N tent 5 5}]", []string{"r1"}},
		{"restock of nothing", []batch{{[]StockChange{restock("A", "tent", 0)}, ErrBadQuantity}}, "[{A pump 2 0} {A sandbag 100 0}]", nil},
		{"unknown op", []batch{{[]StockChange{res("r1", "A", "sandbag", 1), {Reservation: "r1", Depot: "A", Item: "sandbag", Qty: 1, Op: "steal"}}, ErrUnknownOp}},
			"[{A pump 2 0} {A sandbag 100 0}]", nil},
		{"empty batch", []batch{{nil, nil}}, "[{A pump 2 0} {A sandbag 100 0}]", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := NewLedger()
			for _, lv := range []Level{{Depot: "A", Item: "sandbag", OnHand: 100}, {Depot: "A", Item: "pump", OnHand: 2}} {
				if err := l.SetLevel(lv); err != nil {
					t.Fatal(err)
				}
			}
			for i, b := range c.batches {
				before := fmt.Sprint(l.Levels(), l.Reservations())
				err := l.Check(b.changes)
				if !errors.Is(err, b.want) || (b.want == nil && err != nil) {
					t.Fatalf("batch %d: %v, want %v", i, err, b.want)
				}
				if after := fmt.Sprint(l.Levels(), l.Reservations()); after != before {
					t.Fatalf("batch %d: Check wrote: %s, was %s", i, after, before)
				}
				if err == nil {
					l.Apply(b.changes)
				}
			}
			if got := fmt.Sprint(l.Levels()); got != c.levels {
				t.Errorf("levels %s, want %s", got, c.levels)
			}
			var ids []string
			for _, r := range l.Reservations() {
				if r.Op != OpReserve {
					t.Errorf("reservation %+v: op %q", r, r.Op)
				}
				ids = append(ids, r.Reservation)
			}
			if !slices.Equal(ids, c.resv) {
				t.Errorf("reservations %v, want %v", ids, c.resv)
			}
		})
	}
}

// TestLedgerLoad: levels and reservations as loaded, and what they refuse.
func TestLedgerLoad(t *testing.T) {
	l := NewLedger()
	if err := l.SetLevel(Level{Depot: "A", Item: "sandbag", OnHand: 5, Reserved: 6}); !errors.Is(err, ErrBadQuantity) {
		t.Fatalf("reserved above on hand: %v", err)
	}
	if err := l.SetLevel(Level{Depot: "A", Item: "sandbag", OnHand: 10, Reserved: 3}); err != nil {
		t.Fatal(err)
	}
	if err := l.Restore(StockChange{Reservation: "r1", Incident: "I", Depot: "Z", Item: "sandbag", Qty: 3}); !errors.Is(err, ErrUnknownDepot) {
		t.Fatalf("restore at an unknown depot: %v", err)
	}
	if err := l.Restore(StockChange{Reservation: "r1", Incident: "I", Depot: "A", Item: "sandbag"}); !errors.Is(err, ErrBadQuantity) {
		t.Fatalf("restore of nothing: %v", err)
	}
	if err := l.Restore(StockChange{Reservation: "r1", Incident: "I", Depot: "A", Item: "sandbag", Qty: 3}); err != nil {
		t.Fatal(err)
	}
	if err := l.Restore(StockChange{Reservation: "r1", Incident: "I", Depot: "A", Item: "sandbag", Qty: 3}); !errors.Is(err, ErrDuplicateReservation) {
		t.Fatalf("restored twice: %v", err)
	}
	if got := l.Reservations(); len(got) != 1 || got[0] != res("r1", "A", "sandbag", 3) {
		t.Fatalf("reservations %+v", got)
	}
	if lv, ok := l.Level("A", "sandbag"); !ok || lv != (Level{Depot: "A", Item: "sandbag", OnHand: 10, Reserved: 3}) || l.Available("A", "sandbag") != 7 || l.OnHand("A", "sandbag") != 10 {
		t.Fatalf("level %+v %v", lv, ok)
	}
	if _, ok := l.Level("A", "pump"); ok || l.Available("A", "pump") != 0 {
		t.Fatal("a level never set")
	}
	// A level set below its reservations: ending them would go negative.
	if err := l.SetLevel(Level{Depot: "A", Item: "sandbag", OnHand: 2}); err != nil {
		t.Fatal(err)
	}
	if err := l.Check([]StockChange{end(OpConsume, "r1", "A", "sandbag", 3)}); !errors.Is(err, ErrInsufficient) {
		t.Fatalf("consume below zero: %v", err)
	}
}

// model is the brute-force stock ledger of the property test: plain maps
// and the rules one after the other.
type model struct {
	levels   map[levelKey]stock
	depots   map[string]bool
	res      map[string]StockChange
	used     map[string]bool
	fixed    bool
	remember bool
}

func (m *model) clone() *model {
	c := *m
	c.levels, c.depots, c.res, c.used = maps.Clone(m.levels), maps.Clone(m.depots), maps.Clone(m.res), maps.Clone(m.used)
	return &c
}

// step applies one change, or returns the sentinel that refuses it.
func (m *model) step(c StockChange) error {
	k := levelKey{c.Depot, c.Item}
	s := m.levels[k]
	switch c.Op {
	case OpReserve:
		if c.Qty <= 0 {
			return ErrBadQuantity
		}
		if _, active := m.res[c.Reservation]; active || m.used[c.Reservation] {
			return ErrDuplicateReservation
		}
		if !m.depots[c.Depot] {
			return ErrUnknownDepot
		}
		if s.onHand-s.reserved < c.Qty {
			return ErrInsufficient
		}
		s.reserved += c.Qty
		m.res[c.Reservation] = c
	case OpConsume, OpRelease:
		r, active := m.res[c.Reservation]
		if !active || r.Depot != c.Depot || r.Item != c.Item || r.Qty != c.Qty {
			return ErrUnknownReservation
		}
		s.reserved -= c.Qty
		if c.Op == OpConsume {
			s.onHand -= c.Qty
		}
		if s.reserved < 0 || s.onHand < 0 {
			return ErrInsufficient
		}
		delete(m.res, c.Reservation)
		if m.remember {
			m.used[c.Reservation] = true
		}
	case OpRestock:
		if c.Qty <= 0 {
			return ErrBadQuantity
		}
		if !m.depots[c.Depot] {
			if m.fixed {
				return ErrUnknownDepot
			}
			m.depots[c.Depot] = true
		}
		s.onHand += c.Qty
	default:
		return ErrUnknownOp
	}
	m.levels[k] = s
	return nil
}

// TestLedgerProperty: on random batches, Check's verdict is the brute-force
// model's, Check writes nothing, and Apply after a passing Check leaves the
// model's state, with 0 <= reserved <= on hand everywhere. Both kinds of
// ledger: a store's and an Inventory's.
func TestLedgerProperty(t *testing.T) {
	for _, kind := range []struct {
		name            string
		fixed, remember bool
	}{{"store", false, true}, {"inventory", true, false}} {
		t.Run(kind.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, 11))
			for run := 0; run < 500; run++ {
				l := newLedger(kind.fixed, kind.remember)
				m := &model{levels: map[levelKey]stock{}, depots: map[string]bool{}, res: map[string]StockChange{}, used: map[string]bool{},
					fixed: kind.fixed, remember: kind.remember}
				for _, d := range []string{"D0", "D1", "D2"} {
					l.addDepot(d)
					m.depots[d] = true
					for _, it := range []string{"a", "b"} {
						if r.IntN(4) == 0 {
							continue // an item the depot never held
						}
						lv := Level{Depot: d, Item: it, OnHand: r.IntN(15)}
						if err := l.SetLevel(lv); err != nil {
							t.Fatal(err)
						}
						m.levels[levelKey{d, it}] = stock{onHand: lv.OnHand}
					}
				}
				if run%5 == 0 { // a reservation its level does not count: ending it can go negative
					c := res("rx", "D0", "a", 1+r.IntN(20))
					if err := l.Restore(c); err != nil {
						t.Fatal(err)
					}
					m.res["rx"] = c
				}
				for round := 0; round < 40; round++ {
					batch := randomBatch(r, m)
					want := m.clone()
					var wantErr error
					for _, c := range batch {
						if wantErr = want.step(c); wantErr != nil {
							break
						}
					}
					before := fmt.Sprint(l.Levels(), l.Reservations())
					err := l.Check(batch)
					if (err == nil) != (wantErr == nil) || (wantErr != nil && !errors.Is(err, wantErr)) {
						t.Fatalf("run %d round %d: batch %+v: Check %v, model %v", run, round, batch, err, wantErr)
					}
					if after := fmt.Sprint(l.Levels(), l.Reservations()); after != before {
						t.Fatalf("run %d round %d: Check wrote", run, round)
					}
					if err != nil {
						continue
					}
					l.Apply(batch)
					m = want
					var levels []Level
					for k, s := range m.levels {
						levels = append(levels, Level{Depot: k.depot, Item: k.item, OnHand: s.onHand, Reserved: s.reserved})
					}
					slices.SortFunc(levels, func(a, b Level) int { return cmp.Or(cmp.Compare(a.Depot, b.Depot), cmp.Compare(a.Item, b.Item)) })
					if got := l.Levels(); !reflect.DeepEqual(got, levels) {
						t.Fatalf("run %d round %d: levels %v, model %v", run, round, got, levels)
					}
					resv := slices.SortedFunc(maps.Values(m.res), func(a, b StockChange) int { return cmp.Compare(a.Reservation, b.Reservation) })
					if got := l.Reservations(); !slices.Equal(got, resv) {
						t.Fatalf("run %d round %d: reservations %v, model %v", run, round, got, resv)
					}
					for _, lv := range l.Levels() {
						if lv.Reserved < 0 || lv.Reserved > lv.OnHand {
							t.Fatalf("run %d round %d: invariant broken: %+v", run, round, lv)
						}
					}
				}
			}
		})
	}
}

// randomBatch draws 1 to 6 changes, most of them plausible: an end of an
// active reservation as it was made, depots and ids from small pools.
func randomBatch(r *rand.Rand, m *model) []StockChange {
	depots := []string{"D0", "D1", "D2", "D3"}
	items := []string{"a", "b"}
	active := slices.Sorted(maps.Keys(m.res))
	var out []StockChange
	for n := 1 + r.IntN(6); len(out) < n; {
		c := StockChange{Reservation: fmt.Sprintf("r%d", r.IntN(8)), Incident: "I", Depot: depots[r.IntN(len(depots)-1)],
			Item: items[r.IntN(len(items))], Qty: 1 + r.IntN(6)}
		if r.IntN(12) == 0 {
			c.Qty = -r.IntN(2) // zero or negative
		}
		if r.IntN(12) == 0 {
			c.Depot = depots[len(depots)-1] // never known
		}
		switch p := r.IntN(40); {
		case p < 17:
			c.Op = OpReserve
		case p < 33:
			c.Op = []Op{OpConsume, OpRelease}[r.IntN(2)]
			if len(active) > 0 && r.IntN(4) > 0 {
				a := m.res[active[r.IntN(len(active))]]
				c.Depot, c.Item, c.Qty, c.Reservation = a.Depot, a.Item, a.Qty, a.Reservation
				if r.IntN(8) == 0 {
					c.Qty++
				}
			}
		case p < 39:
			c.Op, c.Reservation = OpRestock, ""
		default:
			c.Op = "steal"
		}
		out = append(out, c)
	}
	return out
}
