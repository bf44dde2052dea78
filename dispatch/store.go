package dispatch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

// Store errors.
var (
	// ErrConflict: the store refused an outcome because another writer got
	// there first (an incident already decided, a unit already claimed, stock
	// already reserved). The engine reloads its state and decides again.
	ErrConflict = errors.New("conflict")
	// ErrNotFound: no such record.
	ErrNotFound = errors.New("not found")
)

// UnitState is the durable state of one unit.
type UnitState struct {
	ID       string    `json:"id"`
	Status   string    `json:"status"`
	Lat      float64   `json:"lat"`
	Lng      float64   `json:"lng"`
	Incident string    `json:"incident,omitempty"`
	Since    time.Time `json:"since"`
}

// Snapshot is the durable state an engine is rebuilt from at start.
type Snapshot struct {
	Units []UnitState
	Stock []resources.Level
	// Reservations active now.
	Reservations []resources.StockChange
	// Open incidents (not closed, cancelled).
	Open    []IncidentRecord
	LastSeq int64
}

// Store is the durable truth of one engine. Both dispatch/pgstore and
// dispatch/memstore implement it; dispatch/storetest is their conformance
// suite. Every method is safe for concurrent use.
type Store interface {
	// Load returns the state of the given drill ("" = live). A drill or a
	// store never written returns an empty snapshot (units at their stations,
	// stock from the scenario are then the engine's defaults).
	Load(ctx context.Context, drill string) (*Snapshot, error)
	// Apply writes the outcomes in one transaction and sets the Seq of their
	// events and the ID of their outbox records in place. It fails with
	// ErrConflict (and writes nothing) when an outcome with NewIncident names
	// an incident already decided in its drill, when a unit would get two
	// active assignments, or when stock would go negative.
	Apply(ctx context.Context, outs []*Outcome) error
	// Decided reports which of ids are already decided in the drill.
	Decided(ctx context.Context, drill string, ids []string) (map[string]bool, error)
	// Incident returns an incident of a drill, open or closed.
	Incident(ctx context.Context, drill, id string) (*IncidentRecord, error)
	// EventsAfter returns up to limit events with Seq > after, in Seq order.
	EventsAfter(ctx context.Context, after int64, limit int) ([]Event, error)
	// LastSeq returns the Seq of the last event written (0: none). Every
	// writer's events take the next Seqs, so an engine that knows the last
	// Seq it has seen learns whether anybody else has written since.
	LastSeq(ctx context.Context) (int64, error)
	// PendingOutbox returns up to limit unsent outbox records, oldest first.
	PendingOutbox(ctx context.Context, limit int) ([]OutboxRecord, error)
	// MarkSent removes sent outbox records.
	MarkSent(ctx context.Context, ids []int64) error
	// SeedUnits inserts the state of units the store has never seen (first
	// start of a drill or of the live engine) and keeps existing rows.
	SeedUnits(ctx context.Context, drill string, units []UnitState) error
	// SeedStock inserts stock levels the store has never seen and keeps
	// existing rows.
	SeedStock(ctx context.Context, drill string, levels []resources.Level) error
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close()
}

// CheckUnitChange applies the rules every Store enforces on one unit change
// by itself (the CHECKs of pgstore's units table): a known status, an
// incident exactly when the status is active, a position in range. It
// fails with ErrConflict.
func CheckUnitChange(u UnitChange) error {
	st, err := teams.ParseStatus(u.NewStatus)
	if err != nil {
		return fmt.Errorf("unit %s: unknown status %q: %w", u.UnitID, u.NewStatus, ErrConflict)
	}
	if st.Active() != (u.Incident != "") {
		return fmt.Errorf("unit %s %s with incident %q: %w", u.UnitID, u.NewStatus, u.Incident, ErrConflict)
	}
	if u.Lat < -90 || u.Lat > 90 || u.Lng < -180 || u.Lng > 180 {
		return fmt.Errorf("unit %s: position out of range: %w", u.UnitID, ErrConflict)
	}
	return nil
}

// CheckSeedUnit applies CheckUnitChange to a unit state being seeded.
func CheckSeedUnit(u UnitState) error {
	return CheckUnitChange(UnitChange{UnitID: u.ID, NewStatus: u.Status, Incident: u.Incident, Lat: u.Lat, Lng: u.Lng})
}

// CheckStockLevel applies the rule every Store enforces on a stock level
// (pgstore's stock CHECKs, resources.Level.Check): nothing negative, no
// more reserved than on hand. It fails with ErrConflict.
func CheckStockLevel(l resources.Level) error {
	if err := l.Check(); err != nil {
		return fmt.Errorf("stock: %w: %w", err, ErrConflict)
	}
	return nil
}

// ActiveStatus reports whether a unit in this status is on an incident.
func ActiveStatus(status string) bool { return teams.Status(status).Active() }
