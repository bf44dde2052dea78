package teams

import (
	"errors"
	"fmt"
	"time"
)

// Unit-state errors.
var (
	// ErrUnknownUnit: a unit id the fleet does not have.
	ErrUnknownUnit = errors.New("unknown unit")
	// ErrInvalidUnit: a unit state or change breaks a rule every store
	// enforces (UnitChange.Check, UnitState.Check).
	ErrInvalidUnit = errors.New("invalid unit")
)

// UnitChange is the event value a unit mutation returns (Fleet.SetStatus,
// Fleet.SetPosition): the ranker, the store and console filtering are pure
// functions of it.
type UnitChange struct {
	UnitID    string  `json:"unit_id"`
	Team      string  `json:"team"`
	OldStatus Status  `json:"old_status"`
	NewStatus Status  `json:"new_status"`
	OldCell   string  `json:"old_cell,omitempty"` // set with NewCell when the unit moved
	NewCell   string  `json:"new_cell,omitempty"`
	Lat       float64 `json:"lat"`
	Lng       float64 `json:"lng"`
	Town      string  `json:"town,omitempty"`
	Incident  string  `json:"incident,omitempty"` // assignment after the change ("" = none)
	// Station, set when the engine moves the unit up (relocating, or
	// returning to another station than the one it left), is where it is to
	// wait now.
	Station string    `json:"station,omitempty"`
	At      time.Time `json:"at"`
}

// Check applies the rules every store enforces on one unit change by itself
// (the CHECKs of pgstore's units table): a known new status, an incident
// exactly when that status is active, a position in range. The error wraps
// ErrInvalidUnit.
func (c UnitChange) Check() error {
	return checkUnit(c.UnitID, c.NewStatus, c.Incident, c.Lat, c.Lng)
}

// UnitState is the durable state of one unit: what a store keeps and a
// fleet is restored from (Fleet.Restore).
type UnitState struct {
	ID       string    `json:"id"`
	Status   Status    `json:"status"`
	Lat      float64   `json:"lat"`
	Lng      float64   `json:"lng"`
	Incident string    `json:"incident,omitempty"`
	Since    time.Time `json:"since"`
}

// Check applies the rules of UnitChange.Check to a unit state (a unit
// being seeded into a store). The error wraps ErrInvalidUnit.
func (u UnitState) Check() error {
	return checkUnit(u.ID, u.Status, u.Incident, u.Lat, u.Lng)
}

func checkUnit(id string, st Status, incident string, lat, lng float64) error {
	if _, ok := legal[st]; !ok {
		return fmt.Errorf("unit %s: %w %q: %w", id, ErrUnknownStatus, st, ErrInvalidUnit)
	}
	if st.Active() != (incident != "") {
		return fmt.Errorf("unit %s %s with incident %q: %w", id, st, incident, ErrInvalidUnit)
	}
	if lat < -90 || lat > 90 || lng < -180 || lng > 180 {
		return fmt.Errorf("unit %s: position out of range: %w", id, ErrInvalidUnit)
	}
	return nil
}

// UnitView is a unit with its live state (Fleet.Unit, Fleet.Units).
type UnitView struct {
	Unit
	Status   Status    `json:"status"`
	Lat      float64   `json:"lat"`
	Lng      float64   `json:"lng"`
	Town     string    `json:"town,omitempty"`
	Cell     string    `json:"cell,omitempty"` // resolution-9 H3 cell of the position
	Incident string    `json:"incident,omitempty"`
	Since    time.Time `json:"since"` // last status change
	Reserve  bool      `json:"reserve,omitempty"`
}
