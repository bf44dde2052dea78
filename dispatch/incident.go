package dispatch

import "time"

// Incident is a call as accepted by intake. Lat/Lng are meaningful only
// when HasLocation is true.
type Incident struct {
	ID          string         `json:"id"`
	ReportedAt  time.Time      `json:"reported_at"`
	Type        string         `json:"type"`
	Priority    int            `json:"priority,omitempty"` // 0: the type's default
	Lat         float64        `json:"lat"`
	Lng         float64        `json:"lng"`
	HasLocation bool           `json:"-"`
	Address     string         `json:"address,omitempty"`
	Description string         `json:"description,omitempty"`
	Caller      string         `json:"caller,omitempty"`
	Casualties  int            `json:"casualties,omitempty"`
	Materials   map[string]int `json:"materials,omitempty"`
	Drill       string         `json:"drill,omitempty"`
	// Invalid, when not empty, is why intake could not accept the record as
	// it is (the dead-letter reason code: a bad location, a wrong-typed
	// field, a record that is not JSON): the call still names an incident,
	// so the engine shows it to dispatchers for manual handling instead of
	// deciding it automatically.
	Invalid string `json:"invalid,omitempty"`
	// InvalidField is the offending field, if one.
	InvalidField string `json:"invalid_field,omitempty"`
	// Raw is the refused record's text as received, at most MaxRaw bytes
	// of valid UTF-8 (invalid bytes replaced), for the dispatcher to read.
	Raw string `json:"raw,omitempty"`
}

// MaxRaw bounds Incident.Raw.
const MaxRaw = 2048

// UnitEvent is a status and/or position report for a unit.
type UnitEvent struct {
	UnitID string    `json:"unit_id"`
	At     time.Time `json:"at"`
	// HasPosition is true when Lat/Lng carry a position.
	HasPosition bool    `json:"-"`
	Lat         float64 `json:"lat,omitempty"`
	Lng         float64 `json:"lng,omitempty"`
	Status      string  `json:"status,omitempty"` // empty: position only
	Incident    string  `json:"incident,omitempty"`
	Drill       string  `json:"drill,omitempty"`
}
