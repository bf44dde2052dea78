package scenario

import (
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

// Scenario is the city as data: towns, teams, stations, units, depots,
// materials, the ETA model and the incident-type catalogue. The embedded
// default is Zhongshan (see Default).
type Scenario struct {
	Name        string            `json:"name" yaml:"name"`
	Description string            `json:"description,omitempty" yaml:"description,omitempty"`
	Towns       []geo.Town        `json:"towns" yaml:"towns"`
	Teams       []teams.Team      `json:"teams" yaml:"teams"`
	Stations    []teams.Station   `json:"stations" yaml:"stations"`
	Units       []teams.Unit      `json:"units" yaml:"units"`
	Items       []resources.Item  `json:"items" yaml:"items"`
	Depots      []resources.Depot `json:"depots" yaml:"depots"`
	ETA         geo.ETAConfig     `json:"eta" yaml:"eta"`
	Types       []IncidentType    `json:"incident_types" yaml:"incident_types"`
	// Fallback is the code of the incident type whose plan is used for an
	// unknown type; such incidents are flagged for the dispatcher to classify.
	Fallback string `json:"fallback_type" yaml:"fallback_type"`
	// Targets are response-time targets in seconds by priority (index 0 = P1).
	Targets [4]float64 `json:"targets_s" yaml:"targets_s"`
	// TravelMatrix is an agency's travel-time table (cell or town pairs by
	// hour band), used in place of the ETA model where it has entries
	// (docs/scenario.md). Optional.
	TravelMatrix *geo.MatrixConfig `json:"travel_matrix,omitempty" yaml:"travel_matrix,omitempty"`
}

// IncidentType is one entry of the incident-type catalogue.
type IncidentType struct {
	Code   string `json:"code" yaml:"code"`     // "fire.building"
	Family string `json:"family" yaml:"family"` // "fire": duplicate calls link within a family
	NameZH string `json:"name_zh" yaml:"name_zh"`
	NameEN string `json:"name_en" yaml:"name_en"`
	// Priority is the default priority, 1 (life at risk) to 4.
	Priority int `json:"priority" yaml:"priority"`
	// ServiceS is the mean time on scene in seconds (drills draw around it).
	ServiceS float64 `json:"service_s" yaml:"service_s"`
	Plan     Plan    `json:"plan" yaml:"plan"`
}

// Plan is a response plan: units by capability and materials by item.
type Plan struct {
	Units     []Requirement  `json:"units" yaml:"units"`
	Materials map[string]int `json:"materials,omitempty" yaml:"materials,omitempty"`
}

// Requirement asks for Count units with Capability; Substitutes are
// acceptable in its place, in order of preference, when not enough units
// with Capability are available. First, when set, names the first
// responders the "responders" ranking policy may send ahead of the
// requirement's own units (the "closest" policy ignores it).
type Requirement struct {
	Capability  string         `json:"capability" yaml:"capability"`
	Count       int            `json:"count" yaml:"count"`
	Substitutes []string       `json:"substitutes,omitempty" yaml:"substitutes,omitempty"`
	First       *FirstResponse `json:"first,omitempty" yaml:"first,omitempty"`
}

// FirstResponse is an equivalence class of units for the first arrival: the
// nearest available professional unit with any of Capabilities is sent
// ahead of the requirement's own units when it arrives more than MarginS
// seconds before the first of them, or when they would miss the priority's
// target and it arrives before them. The requirement's units still come; a
// first responder is an extra unit (docs/scenario.md).
type FirstResponse struct {
	Capabilities []string `json:"capabilities" yaml:"capabilities"`
	MarginS      float64  `json:"margin_s" yaml:"margin_s"`
}
