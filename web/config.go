package web

import (
	"net/http"

	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

// ScenarioBackend is implemented by a Backend that can say which scenario
// it runs (dispatch.Engine does). GET /api/config then lists the scenario's
// towns, teams and incident types; without it the lists are empty and the
// pages fall back to the towns they embed.
type ScenarioBackend interface {
	Scenario() *scenario.Scenario
}

// ConsoleConfig is the answer of GET /api/config: what a console page needs
// besides the live state. Every console may read it.
type ConsoleConfig struct {
	// Role is the console's role (as in GET /api/me).
	Role string `json:"role"`
	// Scenario is the scenario's name ("" when the backend does not say).
	Scenario string `json:"scenario,omitempty"`
	// Towns are the towns with their centres: the map draws each town as
	// the area nearer to its centre than to any other (within TownRadiusM),
	// which is how the engine assigns incidents to towns.
	Towns []ConfigTown `json:"towns"`
	// TownRadiusM is how far from every centre a point is outside the city.
	TownRadiusM float64 `json:"town_radius_m"`
	// Teams are the "1+10+2" teams.
	Teams []ConfigTeam `json:"teams"`
	// Types is the incident-type catalogue (for classifying unknown types).
	Types []ConfigType `json:"types"`
	// Capabilities, Items and Depots name the unit capabilities, the
	// materials and the depots in both languages.
	Capabilities []ConfigName  `json:"capabilities"`
	Items        []ConfigName  `json:"items"`
	Depots       []ConfigDepot `json:"depots"`
	// FallbackType is the type whose plan unknown types get.
	FallbackType string `json:"fallback_type,omitempty"`
	// Statuses are the unit statuses, in cycle order.
	Statuses []string `json:"statuses"`
	// Actions are the action kinds this console may send.
	Actions []string `json:"actions"`
	// TileURL is the agency's own map tile server ({z}/{x}/{y} template),
	// "" for the offline map only.
	TileURL string `json:"tile_url,omitempty"`
}

// ConfigTown is one town of ConsoleConfig.
type ConfigTown struct {
	Code       string  `json:"code"`
	NameZH     string  `json:"name_zh"`
	NameEN     string  `json:"name_en"`
	Kind       string  `json:"kind,omitempty"`
	Lat        float64 `json:"lat"`
	Lng        float64 `json:"lng"`
	Population int     `json:"population,omitempty"`
}

// ConfigTeam is one team of ConsoleConfig.
type ConfigTeam struct {
	ID     string `json:"id"`
	NameZH string `json:"name_zh"`
	NameEN string `json:"name_en"`
	Kind   string `json:"kind"`
}

// ConfigType is one incident type of ConsoleConfig.
type ConfigType struct {
	Code     string `json:"code"`
	Family   string `json:"family,omitempty"`
	NameZH   string `json:"name_zh"`
	NameEN   string `json:"name_en"`
	Priority int    `json:"priority"`
}

// ConfigName is a code with its names (capabilities, items).
type ConfigName struct {
	Code   string `json:"code"`
	NameZH string `json:"name_zh"`
	NameEN string `json:"name_en"`
}

// ConfigDepot is one depot of ConsoleConfig. A depot with no Chinese name
// in the scenario is named after its town.
type ConfigDepot struct {
	ID     string `json:"id"`
	NameZH string `json:"name_zh"`
	NameEN string `json:"name_en"`
	Town   string `json:"town,omitempty"`
	Kind   string `json:"kind,omitempty"`
}

// scenario returns the backend's scenario, or nil.
func (s *Server) scenario() *scenario.Scenario {
	if sb, ok := s.cfg.Backend.(ScenarioBackend); ok {
		return sb.Scenario()
	}
	return nil
}

// config answers GET /api/config.
func (s *Server) config(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	c := ConsoleConfig{
		Role: p.Role, Towns: []ConfigTown{}, TownRadiusM: geo.DefaultTownRadiusM, Teams: []ConfigTeam{}, Types: []ConfigType{},
		Capabilities: []ConfigName{}, Items: []ConfigName{}, Depots: []ConfigDepot{},
		Actions: KindsOf(p.Role), TileURL: s.cfg.TileURL,
	}
	for _, st := range teams.Statuses() {
		c.Statuses = append(c.Statuses, string(st))
	}
	if sc := s.scenario(); sc != nil {
		c.Scenario, c.FallbackType = sc.Name, sc.Fallback
		for _, t := range sc.Towns {
			c.Towns = append(c.Towns, ConfigTown{Code: t.Code, NameZH: t.NameZH, NameEN: t.NameEN, Kind: t.Kind, Lat: t.Center.Lat, Lng: t.Center.Lng, Population: t.Population})
		}
		for _, t := range sc.Teams {
			c.Teams = append(c.Teams, ConfigTeam{ID: t.ID, NameZH: t.NameZH, NameEN: t.NameEN, Kind: string(t.Kind)})
		}
		for _, t := range sc.Types {
			c.Types = append(c.Types, ConfigType{Code: t.Code, Family: t.Family, NameZH: t.NameZH, NameEN: t.NameEN, Priority: t.Priority})
		}
		for _, k := range sc.CapabilityNames() {
			c.Capabilities = append(c.Capabilities, ConfigName{Code: k.Code, NameZH: k.NameZH, NameEN: k.NameEN})
		}
		for _, it := range sc.Items {
			c.Items = append(c.Items, ConfigName{Code: it.Code, NameZH: it.NameZH, NameEN: it.NameEN})
		}
		townZH := map[string]string{}
		for _, t := range sc.Towns {
			townZH[t.Code] = t.NameZH
		}
		for _, d := range sc.Depots {
			zh := d.Name
			switch {
			case d.Kind == "city":
				zh = "市应急物资储备库"
			case townZH[d.Town] != "":
				zh = townZH[d.Town] + "应急物资仓库"
			}
			c.Depots = append(c.Depots, ConfigDepot{ID: d.ID, NameZH: zh, NameEN: d.Name, Town: d.Town, Kind: d.Kind})
		}
	}
	writeJSON(w, http.StatusOK, c)
}
