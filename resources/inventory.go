package resources

import (
	"errors"
	"fmt"
)

// Stock errors: Ledger.Check and the Inventory's methods wrap them.
var (
	// ErrInsufficient: a depot does not have the quantity asked for (or a
	// movement would take a level below zero).
	ErrInsufficient = errors.New("insufficient stock")
	// ErrDuplicateReservation: the reservation id is already in use (active,
	// or in a store's ledger, consumed or released before).
	ErrDuplicateReservation = errors.New("duplicate reservation")
	// ErrUnknownReservation: no active reservation has this id (with this
	// depot, item and quantity).
	ErrUnknownReservation = errors.New("unknown reservation")
	// ErrUnknownDepot: the depot is not in the inventory.
	ErrUnknownDepot = errors.New("unknown depot")
	// ErrBadQuantity: a quantity that is zero or negative where it must be
	// positive, or a level with more reserved than on hand.
	ErrBadQuantity = errors.New("bad quantity")
	// ErrUnknownOp: a StockChange whose Op is none of the four.
	ErrUnknownOp = errors.New("unknown stock op")
)

// Reservation is stock held for an incident.
type Reservation struct {
	ID    string `json:"id"`
	Depot string `json:"depot"`
	Item  string `json:"item"`
	Qty   int    `json:"qty"`
}

// Level is the stock of one item in one depot.
type Level struct {
	Depot    string `json:"depot"`
	Item     string `json:"item"`
	OnHand   int    `json:"on_hand"`  // in the depot, reserved included
	Reserved int    `json:"reserved"` // held for open incidents
}

// Check reports whether the level keeps the rule every stored level keeps:
// 0 <= reserved <= on hand. It fails with ErrBadQuantity.
func (l Level) Check() error {
	if l.OnHand < 0 || l.Reserved < 0 || l.Reserved > l.OnHand {
		return fmt.Errorf("level %s/%s: %w: on hand %d reserved %d", l.Depot, l.Item, ErrBadQuantity, l.OnHand, l.Reserved)
	}
	return nil
}

// Inventory is the engine's stock of the scenario's depots with their
// reservations: a Ledger whose depots are the ones it was made with and
// whose finished reservation ids may be reserved again (see Ledger). Each
// method builds a StockChange and checks and applies it with the ledger's
// rules. It is not safe for concurrent use: the engine serialises access.
type Inventory struct {
	l *Ledger
}

// NewInventory builds an inventory holding each depot's initial stock
// (a negative quantity counts as none).
func NewInventory(depots []Depot) *Inventory {
	l := newLedger(true, false)
	for _, d := range depots {
		l.addDepot(d.ID)
		for item, q := range d.Stock {
			_ = l.SetLevel(Level{Depot: d.ID, Item: item, OnHand: max(q, 0)}) // cannot fail: known depot, q >= 0
		}
	}
	return &Inventory{l: l}
}

// do checks one change and applies it.
func (inv *Inventory) do(c StockChange) error {
	cs := []StockChange{c}
	if err := inv.l.Check(cs); err != nil {
		return err
	}
	inv.l.Apply(cs)
	return nil
}

// Available returns what can still be reserved: on hand minus reserved.
func (inv *Inventory) Available(depot, item string) int { return inv.l.Available(depot, item) }

// OnHand returns the quantity physically in the depot, reserved included.
func (inv *Inventory) OnHand(depot, item string) int { return inv.l.OnHand(depot, item) }

// Reserve holds qty of item in depot under the id resID.
func (inv *Inventory) Reserve(resID, depot, item string, qty int) error {
	return inv.do(StockChange{Reservation: resID, Depot: depot, Item: item, Qty: qty, Op: OpReserve})
}

// Release returns reserved stock to the depot (the incident did not need it).
func (inv *Inventory) Release(resID string) error { return inv.finish(resID, OpRelease) }

// Consume takes reserved stock out of the depot for good (it was used).
func (inv *Inventory) Consume(resID string) error { return inv.finish(resID, OpConsume) }

// finish ends the active reservation resID (none: ErrUnknownReservation).
func (inv *Inventory) finish(resID string, op Op) error {
	c := inv.l.res[resID]
	c.Reservation, c.Op = resID, op
	return inv.do(c)
}

// Restock adds qty of item to a depot.
func (inv *Inventory) Restock(depot, item string, qty int) error {
	return inv.do(StockChange{Depot: depot, Item: item, Qty: qty, Op: OpRestock})
}

// SetLevel sets a depot's stock as loaded from the store.
func (inv *Inventory) SetLevel(depot, item string, onHand, reserved int) error {
	return inv.l.SetLevel(Level{Depot: depot, Item: item, OnHand: onHand, Reserved: reserved})
}

// Restore re-creates an active reservation loaded from the store; its
// quantity is already counted in the level set by SetLevel.
func (inv *Inventory) Restore(r Reservation) error {
	return inv.l.Restore(StockChange{Reservation: r.ID, Depot: r.Depot, Item: r.Item, Qty: r.Qty, Op: OpReserve})
}

// Drop forgets an active reservation (none: nothing) without moving the
// levels: a refresh from the store sets those with SetLevel and restores
// the reservations the store still has.
func (inv *Inventory) Drop(resID string) { delete(inv.l.res, resID) }

// Reservations returns the active reservations sorted by id.
func (inv *Inventory) Reservations() []Reservation {
	rs := inv.l.Reservations()
	out := make([]Reservation, len(rs))
	for i, r := range rs {
		out[i] = Reservation{ID: r.Reservation, Depot: r.Depot, Item: r.Item, Qty: r.Qty}
	}
	return out
}

// Levels returns every stock level sorted by depot then item.
func (inv *Inventory) Levels() []Level { return inv.l.Levels() }

// DepotView is a depot with what is available now (on hand minus
// reserved), by item.
type DepotView struct {
	Depot
	Available map[string]int `json:"available"`
}

// Views returns each of depots with what is available now.
func (inv *Inventory) Views(depots []Depot) []DepotView {
	av := make(map[string]map[string]int, len(depots))
	for _, l := range inv.Levels() {
		if av[l.Depot] == nil {
			av[l.Depot] = map[string]int{}
		}
		av[l.Depot][l.Item] = l.OnHand - l.Reserved
	}
	out := make([]DepotView, len(depots))
	for i, d := range depots {
		a := av[d.ID]
		if a == nil {
			a = map[string]int{}
		}
		out[i] = DepotView{Depot: d, Available: a}
	}
	return out
}
