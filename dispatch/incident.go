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
	// it is (a bad location, a wrong-typed field): the call still names an
	// incident, so the engine shows it to dispatchers for manual handling
	// instead of deciding it automatically.
	Invalid string `json:"-"`
}

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
