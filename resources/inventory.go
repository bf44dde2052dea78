package resources

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Inventory errors.
var (
	// ErrInsufficient: a depot does not have the quantity asked for.
	ErrInsufficient = errors.New("insufficient stock")
	// ErrDuplicateReservation: the reservation id is already in use.
	ErrDuplicateReservation = errors.New("duplicate reservation")
	// ErrUnknownReservation: no active reservation has this id.
	ErrUnknownReservation = errors.New("unknown reservation")
	// ErrUnknownDepot: the depot is not in the inventory.
	ErrUnknownDepot = errors.New("unknown depot")
	// ErrBadQuantity: a quantity that is zero or negative where it must be positive.
	ErrBadQuantity = errors.New("bad quantity")
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

type stock struct{ onHand, reserved int }

// Inventory is the stock of every depot with its reservations. Invariants:
// 0 <= reserved <= on hand for every depot and item, and a reservation id is
// reserved at most once. It is not safe for concurrent use: the engine
// serialises access.
type Inventory struct {
	depots map[string]map[string]*stock
	res    map[string]Reservation
}

// NewInventory builds an inventory holding each depot's initial stock.
func NewInventory(depots []Depot) *Inventory {
	inv := &Inventory{depots: map[string]map[string]*stock{}, res: map[string]Reservation{}}
	for _, d := range depots {
		m := map[string]*stock{}
		for item, q := range d.Stock {
			m[item] = &stock{onHand: max(q, 0)}
		}
		inv.depots[d.ID] = m
	}
	return inv
}

func (inv *Inventory) get(depot, item string) (*stock, error) {
	m, ok := inv.depots[depot]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownDepot, depot)
	}
	s, ok := m[item]
	if !ok {
		s = &stock{}
		m[item] = s
	}
	return s, nil
}

// Available returns what can still be reserved: on hand minus reserved.
func (inv *Inventory) Available(depot, item string) int {
	if s, ok := inv.depots[depot][item]; ok {
		return s.onHand - s.reserved
	}
	return 0
}

// OnHand returns the quantity physically in the depot, reserved included.
func (inv *Inventory) OnHand(depot, item string) int {
	if s, ok := inv.depots[depot][item]; ok {
		return s.onHand
	}
	return 0
}

// Reserve holds qty of item in depot under the id resID.
func (inv *Inventory) Reserve(resID, depot, item string, qty int) error {
	if qty <= 0 {
		return fmt.Errorf("reserve %s: %w: %d", resID, ErrBadQuantity, qty)
	}
	if _, dup := inv.res[resID]; dup {
		return fmt.Errorf("reserve %s: %w", resID, ErrDuplicateReservation)
	}
	s, err := inv.get(depot, item)
	if err != nil {
		return fmt.Errorf("reserve %s: %w", resID, err)
	}
	if avail := s.onHand - s.reserved; avail < qty {
		return fmt.Errorf("reserve %s: %w: depot %s has %d %s available, asked %d", resID, ErrInsufficient, depot, avail, item, qty)
	}
	s.reserved += qty
	inv.res[resID] = Reservation{ID: resID, Depot: depot, Item: item, Qty: qty}
	return nil
}

// Release returns reserved stock to the depot (the incident did not need it).
func (inv *Inventory) Release(resID string) error {
	r, ok := inv.res[resID]
	if !ok {
		return fmt.Errorf("release %s: %w", resID, ErrUnknownReservation)
	}
	s, _ := inv.get(r.Depot, r.Item)
	s.reserved -= r.Qty
	delete(inv.res, resID)
	return nil
}

// Consume takes reserved stock out of the depot for good (it was used).
func (inv *Inventory) Consume(resID string) error {
	r, ok := inv.res[resID]
	if !ok {
		return fmt.Errorf("consume %s: %w", resID, ErrUnknownReservation)
	}
	s, _ := inv.get(r.Depot, r.Item)
	s.reserved -= r.Qty
	s.onHand -= r.Qty
	delete(inv.res, resID)
	return nil
}

// Restock adds qty of item to a depot.
func (inv *Inventory) Restock(depot, item string, qty int) error {
	if qty <= 0 {
		return fmt.Errorf("restock: %w: %d", ErrBadQuantity, qty)
	}
	s, err := inv.get(depot, item)
	if err != nil {
		return fmt.Errorf("restock: %w", err)
	}
	s.onHand += qty
	return nil
}

// SetLevel sets a depot's stock as loaded from the store.
func (inv *Inventory) SetLevel(depot, item string, onHand, reserved int) error {
	if onHand < 0 || reserved < 0 || reserved > onHand {
		return fmt.Errorf("set level %s/%s: %w: on hand %d reserved %d", depot, item, ErrBadQuantity, onHand, reserved)
	}
	s, err := inv.get(depot, item)
	if err != nil {
		return fmt.Errorf("set level: %w", err)
	}
	s.onHand, s.reserved = onHand, reserved
	return nil
}

// Restore re-creates an active reservation loaded from the store; its
// quantity is already counted in the level set by SetLevel.
func (inv *Inventory) Restore(r Reservation) error {
	if _, dup := inv.res[r.ID]; dup {
		return fmt.Errorf("restore %s: %w", r.ID, ErrDuplicateReservation)
	}
	if _, err := inv.get(r.Depot, r.Item); err != nil {
		return fmt.Errorf("restore %s: %w", r.ID, err)
	}
	inv.res[r.ID] = r
	return nil
}

// Reservations returns the active reservations sorted by id.
func (inv *Inventory) Reservations() []Reservation {
	out := make([]Reservation, 0, len(inv.res))
	for _, r := range inv.res {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Reservation) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Levels returns every stock level sorted by depot then item.
func (inv *Inventory) Levels() []Level {
	var out []Level
	for d, m := range inv.depots {
		for item, s := range m {
			out = append(out, Level{Depot: d, Item: item, OnHand: s.onHand, Reserved: s.reserved})
		}
	}
	slices.SortFunc(out, func(a, b Level) int {
		if c := strings.Compare(a.Depot, b.Depot); c != 0 {
			return c
		}
		return strings.Compare(a.Item, b.Item)
	})
	return out
}
