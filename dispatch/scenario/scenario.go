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
	// Places are the named places of the gazetteer (landmarks, bridges,
	// railway stations, hospitals): with the towns, stations and depots
	// they are what a dispatcher picks to locate a call (Gazetteer).
	Places []Place        `json:"places,omitempty" yaml:"places,omitempty"`
	ETA    geo.ETAConfig  `json:"eta" yaml:"eta"`
	Types  []IncidentType `json:"incident_types" yaml:"incident_types"`
	// Fallback is the code of the incident type whose plan is used for an
	// unknown type; such incidents are flagged for the dispatcher to classify.
	Fallback string `json:"fallback_type" yaml:"fallback_type"`
	// Targets are response-time targets in seconds by priority (index 0 = P1).
	Targets [4]float64 `json:"targets_s" yaml:"targets_s"`
	// Capabilities names the unit capabilities in both languages for the
	// consoles (optional: CapabilityNames adds the default names).
	Capabilities []Capability `json:"capabilities,omitempty" yaml:"capabilities,omitempty"`
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

// Capability names a unit capability in both languages (Scenario.Capabilities).
type Capability struct {
	Code   string `json:"code" yaml:"code"`
	NameZH string `json:"name_zh" yaml:"name_zh"`
	NameEN string `json:"name_en" yaml:"name_en"`
}

// defaultCapabilities names the capabilities of the Zhongshan scenario.
var defaultCapabilities = []Capability{
	{"patrol", "巡逻", "Patrol"},
	{"special_police", "特警", "Special police"},
	{"fire_engine", "消防车", "Fire engine"},
	{"rescue", "抢险救援", "Rescue"},
	{"ladder", "云梯车", "Aerial ladder"},
	{"crane", "吊车", "Crane"},
	{"ambulance", "救护车", "Ambulance"},
	{"hazmat", "危化处置", "Hazmat"},
	{"boat", "救生艇", "Rescue boat"},
	{"pump", "排涝泵车", "Pump"},
	{"power_repair", "电力抢修", "Power repair"},
	{"gas_repair", "燃气抢修", "Gas repair"},
	{"traffic_control", "交通管制", "Traffic control"},
	{"tow", "拖车", "Tow truck"},
	{"env_monitor", "环境监测", "Environmental monitoring"},
	{"comms", "通信保障", "Communications"},
	{"command", "现场指挥", "Command"},
	{"labour", "人力支援", "Labour"},
	{"first_aid", "急救", "First aid"},
	{"helicopter", "直升机", "Helicopter"},
}

// CapabilityNames returns the names of the capabilities: the scenario's
// own (Capabilities), then the default (Zhongshan) names of the codes it
// does not name.
func (sc *Scenario) CapabilityNames() []Capability {
	out := append([]Capability(nil), sc.Capabilities...)
	have := map[string]bool{}
	for _, c := range out {
		have[c.Code] = true
	}
	for _, c := range defaultCapabilities {
		if !have[c.Code] {
			out = append(out, c)
			have[c.Code] = true
		}
	}
	return out
}
