package dispatch

import (
	"context"
	"errors"

	"github.com/zs110/dispatch/geo"
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

// Snapshot is the durable state an engine is rebuilt from at start.
type Snapshot struct {
	Units []teams.UnitState
	Stock []resources.Level
	// Reservations active now.
	Reservations []resources.StockChange
	// Open incidents (not closed, cancelled).
	Open    []IncidentRecord
	LastSeq int64
	// Travel is what the drill's engine has learned of travel times
	// (Outcome.Trips that were Learned, summed per key).
	Travel []geo.TravelRow
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
	// active assignments, when a unit change breaks the unit rules
	// (teams.UnitChange.Check: the error wraps teams.ErrInvalidUnit too), or
	// when stock would go negative.
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
	// start of a drill or of the live engine) and keeps existing rows. It
	// fails with ErrConflict, wrapping teams.ErrInvalidUnit, when a state
	// breaks the unit rules (teams.UnitState.Check).
	SeedUnits(ctx context.Context, drill string, units []teams.UnitState) error
	// SeedStock inserts stock levels the store has never seen and keeps
	// existing rows.
	SeedStock(ctx context.Context, drill string, levels []resources.Level) error
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close()
}
