package dispatch

import (
	"encoding/json"
	"time"

	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

// Incident states.
const (
	StateAwaiting   = "awaiting_confirmation" // P3/P4: recommended, waiting for a dispatcher
	StateDispatched = "dispatched"            // units assigned
	StateManual     = "manual"                // cannot be decided automatically (no usable location)
	StateLinked     = "linked"                // a duplicate call linked to another open incident
	StateClosed     = "closed"                // every unit cleared
	StateCancelled  = "cancelled"             // cancelled by a dispatcher
)

// UnitPick is one recommended or assigned unit with the reasons for it.
type UnitPick struct {
	UnitID      string `json:"unit_id"`
	Team        string `json:"team"`
	Requirement string `json:"requirement"` // capability asked for by the plan
	Capability  string `json:"capability"`  // capability the unit brings (differs when substituted)
	Substitute  bool   `json:"substitute,omitempty"`
	Reserve     bool   `json:"reserve,omitempty"`
	// FirstResponder marks an extra unit sent ahead of the requirement's
	// own units (Requirement.First, policy responders): it is not one of
	// the requirement's Count units, which still come.
	FirstResponder bool    `json:"first_responder,omitempty"`
	EtaS           float64 `json:"eta_s"`
	DistanceM      float64 `json:"distance_m"`
	CoverageCost   float64 `json:"coverage_cost_s,omitempty"`
	Cost           float64 `json:"cost_s"` // EtaS + CoverageCost: the ranking key
	Town           string  `json:"town,omitempty"`
	// EtaSource says where EtaS came from when not the model: "learned"
	// (EtaTrips trips behind the correction), "matrix" (the agency's
	// table), "override" (a drill's engine that knows the truth).
	EtaSource string `json:"eta_source,omitempty"`
	EtaTrips  int    `json:"eta_trips,omitempty"`
	// DivertedFrom is the lower-priority incident the unit was diverted
	// from (EngineConfig.Divert).
	DivertedFrom string `json:"diverted_from,omitempty"`
	// Reasons are the reasons for the pick as English text (Kafka, logs);
	// Why the same reasons as codes with parameters (the consoles).
	Reasons []string `json:"reasons,omitempty"`
	Why     []Why    `json:"why,omitempty"`
}

// MaterialPick is a quantity of one item drawn from one depot.
type MaterialPick struct {
	Item    string  `json:"item"`
	DepotID string  `json:"depot_id"`
	Qty     int     `json:"qty"`
	EtaS    float64 `json:"eta_s"`
}

// Shortfall is what the plan asked for and could not be covered.
type Shortfall struct {
	Kind    string `json:"kind"` // "unit" or "material"
	What    string `json:"what"` // capability or item code
	Missing int    `json:"missing"`
	Reason  string `json:"reason"`        // English text (Kafka, logs)
	Why     *Why   `json:"why,omitempty"` // the reason as a code with parameters
}

// Recommendation is the ranker's answer for one incident.
type Recommendation struct {
	Units []UnitPick `json:"units"`
	// Alternates are the next candidates per requirement capability, best first,
	// for a dispatcher who swaps or adds a unit.
	Alternates map[string][]UnitPick `json:"alternates,omitempty"`
	Materials  []MaterialPick        `json:"materials,omitempty"`
	Shortfalls []Shortfall           `json:"shortfalls,omitempty"`
}

// IncidentRecord is an incident with its current state and decision.
type IncidentRecord struct {
	Incident
	State     string `json:"state"`
	TypeKnown bool   `json:"type_known"`
	Town      string `json:"town,omitempty"`
	Cell      string `json:"cell,omitempty"`
	// Located, when set, says how a dispatcher placed an incident that came
	// without a usable position (ActLocate): from the gazetteer, a click on
	// the map or typed coordinates.
	Located  *Located        `json:"located,omitempty"`
	LinkedTo string          `json:"linked_to,omitempty"`
	Linked   []string        `json:"linked,omitempty"` // duplicate calls linked to this one
	Rec      *Recommendation `json:"recommendation,omitempty"`
	Assigned []string        `json:"assigned,omitempty"` // unit ids currently assigned
	Accepted []string        `json:"accepted,omitempty"` // assigned units whose team leader accepted
	Declined []string        `json:"declined,omitempty"` // units that declined: not offered again
	// SwappedOut are the units a dispatcher swapped out: not offered again.
	SwappedOut []string `json:"swapped_out,omitempty"`
	Cleared    []string `json:"cleared,omitempty"` // units that were assigned and cleared
	// Escalated: assigned units reported to dispatchers as not accepting in time.
	Escalated []string `json:"escalated,omitempty"`
	// DispatchedAt is when units were first assigned (zero: not yet).
	DispatchedAt time.Time `json:"dispatched_at,omitempty"`
	// FirstOnSceneAt is when the first unit reported on scene (zero: not yet).
	FirstOnSceneAt time.Time `json:"first_on_scene_at,omitempty"`
	Flags          []string  `json:"flags,omitempty"` // "unknown_type", "no_location", ...
	Version        int       `json:"version"`         // bumped on every change
	// RecVersion is the version at which the recommendation was last made
	// (P3/P4 waiting for a dispatcher): a confirm naming an older version is
	// refused with ErrChanged.
	RecVersion int       `json:"rec_version,omitempty"`
	DecidedAt  time.Time `json:"decided_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Located is how a dispatcher gave an incident its position (ActLocate).
type Located struct {
	// Source is LocatedPlace, LocatedMap or LocatedCoords.
	Source string `json:"source"`
	// Place is the gazetteer entry picked ("place:qijiang-bridge",
	// "town:shiqi", "station:...", "depot:..."), for LocatedPlace.
	Place string `json:"place,omitempty"`
	// Approximate: the position is a place's or a click's, not the caller's.
	Approximate bool `json:"approximate"`
	// By names the console that located it (the token's name).
	By string `json:"by,omitempty"`
}

// Sources of a location given by a dispatcher (Located.Source, Action.Source).
const (
	LocatedPlace  = "place"  // picked from the gazetteer: approximate
	LocatedMap    = "map"    // a click on the console's map: approximate
	LocatedCoords = "coords" // typed latitude and longitude
)

// Event is one entry of the console event log. Seq is assigned by the
// store, strictly increasing over the whole log; consoles resume by it.
// The engine gives the event's content typed (Body); its JSON (Data) is
// written by dispatch/wire where it is needed: by a store that persists
// it, or when a console reads it.
type Event struct {
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Kind     string          `json:"kind"`
	Drill    string          `json:"drill,omitempty"`
	Town     string          `json:"town,omitempty"`
	Teams    []string        `json:"teams,omitempty"` // teams concerned: a team leader sees only these
	Incident string          `json:"incident,omitempty"`
	Unit     string          `json:"unit,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
	Body     EventBody       `json:"-"`
}

// EventBody is what an event says, by kind (docs/protocol.md):
//
//   - incident.*: Record, the incident as it was when the event was made;
//   - assignment.new: Record and Pick, the unit assigned;
//   - unit.status: Change;
//   - assignment.cancelled: Reason;
//   - assignment.escalated: WaitedS and Message (the unit and incident are
//     the event's);
//   - stock.restocked: Depot, Item and Qty;
//   - unit.moveup: Station and Message (the unit is the event's).
//
// The records are the engine's frozen copies: nobody changes them.
type EventBody struct {
	Record  *IncidentRecord
	Pick    *UnitPick
	Change  *teams.UnitChange
	Reason  string
	WaitedS int
	Message string
	Depot   string
	Item    string
	Qty     int
	Station string
}

// OutboxRecord is a record to publish on the assignments topic, written in
// the same transaction as the decision and relayed afterwards. The engine
// gives the incident as it was assigned (Record, a frozen copy, at At in
// Drill); Value, the message (wire.AssignmentMessage), is written by
// dispatch/wire where it is needed (a store that persists it, the relay).
type OutboxRecord struct {
	ID     int64           `json:"id"` // assigned by the store
	Key    string          `json:"key"`
	Value  []byte          `json:"value"`
	Drill  string          `json:"-"`
	Record *IncidentRecord `json:"-"`
	At     time.Time       `json:"-"`
}

// Outcome is everything one engine step changed: Store.Apply writes it in
// one transaction together with the other outcomes of a batch.
type Outcome struct {
	Drill    string
	Incident *IncidentRecord // nil when no incident changed
	// NewIncident marks the first decision on Incident.ID: the store enforces
	// that it is decided only once.
	NewIncident bool
	// BaseVersion, for an existing incident, is the version the engine read
	// it at (from the store, or as it last wrote it). The store refuses the
	// batch with ErrConflict when the stored version differs: another engine
	// sharing the store changed the incident meanwhile. 0: not checked. The
	// engine sets it; outcomes of one incident in a batch share it.
	BaseVersion int
	Units       []teams.UnitChange
	Stock       []resources.StockChange
	Events      []Event
	Outbox      []OutboxRecord
	// History is what the step changed on Incident, who and when (the
	// engine's write step fills it; the store keeps it).
	History []HistoryEntry
	// Trips are the units' trips completed (on scene): the ETA's error,
	// and what was learned from them (a store keeps it, Snapshot.Travel).
	Trips []Trip
}
