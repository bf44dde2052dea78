package resources

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Op is what a StockChange does. Its values are the strings of the JSON
// "op" field and of the stores' columns.
type Op string

// The stock operations.
const (
	// OpReserve holds Qty of Item in Depot under the id Reservation: the
	// level's reserved grows by Qty.
	OpReserve Op = "reserve"
	// OpConsume takes an active reservation's stock out of the depot for
	// good (it was used): reserved and on hand shrink by its Qty.
	OpConsume Op = "consume"
	// OpRelease returns an active reservation's stock to the depot (it was
	// not needed): reserved shrinks by its Qty.
	OpRelease Op = "release"
	// OpRestock adds Qty of Item to Depot (a delivery): on hand grows by
	// Qty. It names no reservation.
	OpRestock Op = "restock"
)

// StockChange is one stock movement: a reservation made, consumed or
// released, or a restock. A consume or a release repeats the depot, item
// and quantity of the reservation it ends.
type StockChange struct {
	Reservation string `json:"reservation"` // incident id + item + depot; "" for a restock
	Incident    string `json:"incident"`
	Depot       string `json:"depot"`
	Item        string `json:"item"`
	Qty         int    `json:"qty"`
	Op          Op     `json:"op"` // "reserve", "consume", "release", "restock"
}

type levelKey struct{ depot, item string }

type stock struct{ onHand, reserved int }

// tried is a reservation as a batch under Check has left it.
type tried struct {
	c      StockChange
	active bool // false: consumed or released by the batch
}

// Ledger is the stock of depots with the active reservations on it: the
// one place the stock rules are written. Invariants: 0 <= reserved <= on
// hand for every depot and item, every active reservation is counted in
// its level's reserved, and a reservation id is active at most once.
//
// Check validates a batch of changes against the current state and the
// batch's own earlier changes, in order, and writes nothing; Apply writes a
// batch that passed. The rules, with the error Check wraps:
//
//   - reserve: Qty > 0 (ErrBadQuantity); the id neither active nor, in a
//     ledger made by NewLedger, consumed or released before
//     (ErrDuplicateReservation); a known depot (ErrUnknownDepot); Qty at
//     most on hand minus reserved (ErrInsufficient; an item the depot has
//     never held has none).
//   - consume, release: an active reservation with this id, depot, item
//     and quantity (ErrUnknownReservation); the level stays non-negative
//     (ErrInsufficient: only a level set below its reservations can fail).
//   - restock: Qty > 0 (ErrBadQuantity). A ledger made by NewLedger learns
//     a depot from its first level or restock; an Inventory's depots are the
//     ones it was made with (ErrUnknownDepot).
//   - any other Op: ErrUnknownOp.
//
// These are the rules pgstore's constraints enforce in SQL. A ledger made
// by NewLedger is a store's (dispatch/memstore): the truth, which never
// lets a finished reservation id be reserved again. An Inventory's ledger
// lets it be: the inventory is rebuilt from a store snapshot, which lists
// no finished ids, and the store keeps the rule.
//
// A Ledger is not safe for concurrent use, Check included (it keeps
// scratch space): its owner serialises access.
type Ledger struct {
	levels map[levelKey]*stock
	depots map[string]struct{}
	res    map[string]StockChange // active reservations by id
	used   map[string]struct{}    // consumed or released ids; nil: they may be reserved again
	fixed  bool                   // depots are only those added (an Inventory's)

	// Check's scratch: the levels, reservations and depots as the batch's
	// earlier changes left them.
	tryLevels map[levelKey]stock
	tryRes    map[string]tried
	tryDepots map[string]struct{}
}

// NewLedger returns an empty ledger with a store's rules: depots are known
// from their first level (SetLevel) or restock, and a consumed or released
// reservation id is never reserved again.
func NewLedger() *Ledger { return newLedger(false, true) }

func newLedger(fixedDepots, rememberUsed bool) *Ledger {
	l := &Ledger{levels: map[levelKey]*stock{}, depots: map[string]struct{}{}, res: map[string]StockChange{}, fixed: fixedDepots}
	if rememberUsed {
		l.used = map[string]struct{}{}
	}
	return l
}

// addDepot makes a depot known, with no stock.
func (l *Ledger) addDepot(id string) { l.depots[id] = struct{}{} }

// SetLevel sets the stock of an item in a depot, as loaded or seeded: it
// fails with ErrBadQuantity unless 0 <= reserved <= on hand, and with
// ErrUnknownDepot for a depot an Inventory was not made with. The
// reservations it counts are restored with Restore.
func (l *Ledger) SetLevel(lv Level) error {
	if err := lv.Check(); err != nil {
		return fmt.Errorf("set %w", err)
	}
	if _, ok := l.depots[lv.Depot]; !ok && l.fixed {
		return fmt.Errorf("set level: %w: %q", ErrUnknownDepot, lv.Depot)
	}
	l.depots[lv.Depot] = struct{}{}
	l.levels[levelKey{lv.Depot, lv.Item}] = &stock{onHand: lv.OnHand, reserved: lv.Reserved}
	return nil
}

// Restore re-creates an active reservation as loaded (its Op is taken as
// OpReserve); its quantity is already counted in the level set by
// SetLevel. It fails with ErrBadQuantity, ErrDuplicateReservation or
// ErrUnknownDepot.
func (l *Ledger) Restore(r StockChange) error {
	if r.Qty <= 0 {
		return fmt.Errorf("restore %s: %w: %d", r.Reservation, ErrBadQuantity, r.Qty)
	}
	if _, dup := l.res[r.Reservation]; dup {
		return fmt.Errorf("restore %s: %w", r.Reservation, ErrDuplicateReservation)
	}
	if _, ok := l.depots[r.Depot]; !ok {
		return fmt.Errorf("restore %s: %w: %q", r.Reservation, ErrUnknownDepot, r.Depot)
	}
	r.Op = OpReserve
	l.res[r.Reservation] = r
	return nil
}

// Level returns the stock of an item in a depot, and whether it has one.
func (l *Ledger) Level(depot, item string) (Level, bool) {
	s, ok := l.levels[levelKey{depot, item}]
	if !ok {
		return Level{Depot: depot, Item: item}, false
	}
	return Level{Depot: depot, Item: item, OnHand: s.onHand, Reserved: s.reserved}, true
}

// Available returns what can still be reserved: on hand minus reserved.
func (l *Ledger) Available(depot, item string) int {
	if s, ok := l.levels[levelKey{depot, item}]; ok {
		return s.onHand - s.reserved
	}
	return 0
}

// OnHand returns the quantity physically in the depot, reserved included.
func (l *Ledger) OnHand(depot, item string) int {
	if s, ok := l.levels[levelKey{depot, item}]; ok {
		return s.onHand
	}
	return 0
}

// Levels returns every stock level sorted by depot then item.
func (l *Ledger) Levels() []Level {
	out := make([]Level, 0, len(l.levels))
	for k, s := range l.levels {
		out = append(out, Level{Depot: k.depot, Item: k.item, OnHand: s.onHand, Reserved: s.reserved})
	}
	slices.SortFunc(out, func(a, b Level) int {
		return cmp.Or(strings.Compare(a.Depot, b.Depot), strings.Compare(a.Item, b.Item))
	})
	return out
}

// Reservations returns the active reservations (Op OpReserve) sorted by id.
func (l *Ledger) Reservations() []StockChange {
	out := make([]StockChange, 0, len(l.res))
	for _, r := range l.res {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b StockChange) int { return strings.Compare(a.Reservation, b.Reservation) })
	return out
}

// Check reports whether changes, applied in order, keep the rules (see
// Ledger): nil, or the first refusal wrapping one of ErrBadQuantity,
// ErrDuplicateReservation, ErrUnknownDepot, ErrInsufficient,
// ErrUnknownReservation, ErrUnknownOp. Each change is checked against the
// state as the batch's earlier changes leave it. Check writes nothing.
func (l *Ledger) Check(changes []StockChange) error {
	batch := len(changes) > 1 // a single change needs no scratch
	if batch {
		if l.tryLevels == nil {
			l.tryLevels, l.tryRes, l.tryDepots = map[levelKey]stock{}, map[string]tried{}, map[string]struct{}{}
		}
		clear(l.tryLevels)
		clear(l.tryRes)
		clear(l.tryDepots)
	}
	for i := range changes {
		if err := l.check(&changes[i], batch); err != nil {
			return err
		}
	}
	return nil
}

func (l *Ledger) check(c *StockChange, batch bool) error {
	k := levelKey{c.Depot, c.Item}
	s := l.tried(k, batch)
	switch c.Op {
	case OpReserve:
		if c.Qty <= 0 {
			return fmt.Errorf("reserve %s: %w: %d", c.Reservation, ErrBadQuantity, c.Qty)
		}
		if _, active, used := l.reservation(c.Reservation, batch); active || used {
			return fmt.Errorf("reserve %s: %w", c.Reservation, ErrDuplicateReservation)
		}
		if !l.known(c.Depot, batch) {
			return fmt.Errorf("reserve %s: %w: %q", c.Reservation, ErrUnknownDepot, c.Depot)
		}
		if avail := s.onHand - s.reserved; avail < c.Qty {
			return fmt.Errorf("reserve %s: %w: depot %s has %d %s available, asked %d", c.Reservation, ErrInsufficient, c.Depot, avail, c.Item, c.Qty)
		}
		s.reserved += c.Qty
		if batch {
			l.tryRes[c.Reservation] = tried{c: *c, active: true}
		}
	case OpConsume, OpRelease:
		r, active, _ := l.reservation(c.Reservation, batch)
		if !active {
			return fmt.Errorf("%s %s: %w", c.Op, c.Reservation, ErrUnknownReservation)
		}
		if r.Depot != c.Depot || r.Item != c.Item || r.Qty != c.Qty {
			return fmt.Errorf("%s %s: %w: it holds %d %s at %s, not %d %s at %s", c.Op, c.Reservation, ErrUnknownReservation,
				r.Qty, r.Item, r.Depot, c.Qty, c.Item, c.Depot)
		}
		s.reserved -= c.Qty
		if c.Op == OpConsume {
			s.onHand -= c.Qty
		}
		if s.reserved < 0 || s.onHand < 0 {
			return fmt.Errorf("%s %s: %w: stock of %s at %s would go negative", c.Op, c.Reservation, ErrInsufficient, c.Item, c.Depot)
		}
		if batch {
			l.tryRes[c.Reservation] = tried{c: *c}
		}
	case OpRestock:
		if c.Qty <= 0 {
			return fmt.Errorf("restock: %w: %d", ErrBadQuantity, c.Qty)
		}
		if !l.known(c.Depot, batch) {
			if l.fixed {
				return fmt.Errorf("restock: %w: %q", ErrUnknownDepot, c.Depot)
			}
			if batch {
				l.tryDepots[c.Depot] = struct{}{}
			}
		}
		s.onHand += c.Qty
	default:
		return fmt.Errorf("stock change %s: %w %q", c.Reservation, ErrUnknownOp, c.Op)
	}
	if batch {
		l.tryLevels[k] = s
	}
	return nil
}

// tried returns a level as the batch so far has left it.
func (l *Ledger) tried(k levelKey, batch bool) stock {
	if batch {
		if s, ok := l.tryLevels[k]; ok {
			return s
		}
	}
	if s, ok := l.levels[k]; ok {
		return *s
	}
	return stock{}
}

// reservation returns a reservation as the batch so far has left it:
// whether it is active, and whether its id is used up.
func (l *Ledger) reservation(id string, batch bool) (r StockChange, active, used bool) {
	if batch {
		if t, ok := l.tryRes[id]; ok {
			return t.c, t.active, !t.active && l.used != nil
		}
	}
	if r, ok := l.res[id]; ok {
		return r, true, false
	}
	_, used = l.used[id]
	return StockChange{}, false, used
}

func (l *Ledger) known(depot string, batch bool) bool {
	if _, ok := l.depots[depot]; ok {
		return true
	}
	_, ok := l.tryDepots[depot]
	return batch && ok
}

// Apply writes changes that passed Check (with no change in between): it
// does not check them again.
func (l *Ledger) Apply(changes []StockChange) {
	for i := range changes {
		c := &changes[i]
		switch c.Op {
		case OpReserve:
			l.row(c).reserved += c.Qty
			l.res[c.Reservation] = *c
		case OpConsume, OpRelease:
			s := l.row(c)
			s.reserved -= c.Qty
			if c.Op == OpConsume {
				s.onHand -= c.Qty
			}
			delete(l.res, c.Reservation)
			if l.used != nil {
				l.used[c.Reservation] = struct{}{}
			}
		case OpRestock:
			l.row(c).onHand += c.Qty
		}
	}
}

// row returns the level a change moves, created (and its depot known) if new.
func (l *Ledger) row(c *StockChange) *stock {
	k := levelKey{c.Depot, c.Item}
	s, ok := l.levels[k]
	if !ok {
		s = &stock{}
		l.levels[k] = s
		l.depots[c.Depot] = struct{}{}
	}
	return s
}
