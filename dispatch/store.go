package dispatch

import (
	"context"
	"errors"
	"time"

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
	// ErrGap: Store.Changes cannot tell what changed after the Seq asked
	// for (the events were dropped, or the log is older than it): the
	// engine reloads the whole world instead.
	ErrGap = errors.New("gap in the event log")
)

// SeqRange is the Seqs From..To (both included) of one write.
type SeqRange struct{ From, To int64 }

// Want is what a Store.Changes call reads besides what the log names.
type Want struct {
	// Units and Incidents are rows read whatever the log says: those a step
	// changed in memory and could not write (a conflict), to be set back
	// to what the store has.
	Units     []string
	Incidents []string
	// Stock asks for every stock level of the drill.
	Stock bool
	// Skip are Seqs the caller wrote itself: their events name no rows to
	// read and are not counted.
	Skip []SeqRange
	// Limit bounds the events read in one call. Default 10,000.
	Limit int
}

// Changes is what other writers changed in a drill after a Seq
// (Store.Changes): the current rows the events name, and the rows Want
// asked for. The rows are read in one snapshot with Last; they may be newer
// than some events (a row changed twice), never older.
type Changes struct {
	// Last is the Seq the changes are complete up to; More is set when
	// Want.Limit cut the events short (call again after Last).
	Last int64
	More bool
	// Events counts the events of other writers in the drill read, and
	// FirstWritten is when the oldest of them was committed (zero: none):
	// how far behind the caller's memory was.
	Events       int
	FirstWritten time.Time
	// Units are the rows of the units named. Incidents are the records of
	// the incidents named, open or finished (one named but absent is not
	// stored: a decision that was never written).
	Units     []teams.UnitState
	Incidents []IncidentRecord
	// Stock, when not nil, is every stock level of the drill: set when
	// Want.Stock, when a restock is among the events, or when an incident
	// named has materials. Reservations are the active reservations of the
	// incidents named.
	Stock        []resources.Level
	Reservations []resources.StockChange
}

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
	// History returns the history entries of an incident of a drill, in
	// the order written (ErrNotFound: no such incident).
	History(ctx context.Context, drill, id string) ([]HistoryEntry, error)
	// EventsAfter returns up to limit events with Seq > after, in Seq order.
	EventsAfter(ctx context.Context, after int64, limit int) ([]Event, error)
	// Changes returns what other writers changed in the drill after the
	// Seq after (see Changes): the rows named by the drill's events with
	// a Seq past after and outside want.Skip, and the rows want names. It
	// fails with ErrGap when the log no longer holds the events after
	// after; the caller then reloads the whole drill (Load).
	Changes(ctx context.Context, drill string, after int64, want Want) (*Changes, error)
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
