package teams

import "github.com/zs110/dispatch/geo"

// Kind is the role of a team in the "1+10+2" model.
type Kind string

// Team kinds.
const (
	KindCommand      Kind = "command"      // the one city-level command team
	KindProfessional Kind = "professional" // the ten professional teams
	KindReserve      Kind = "reserve"      // the two reserve teams, called when professionals cannot cover
)

// Team is one of the 13 teams of the "1+10+2" model.
type Team struct {
	ID     string `json:"id" yaml:"id"`
	NameZH string `json:"name_zh" yaml:"name_zh"`
	NameEN string `json:"name_en" yaml:"name_en"`
	Kind   Kind   `json:"kind" yaml:"kind"`
	// Department leading the team (police, fire, health, ...).
	Department string `json:"department,omitempty" yaml:"department,omitempty"`
	// ActivationDelayS is the time, in seconds, between calling a unit of this
	// team and its departure. Zero for standing units; reserves have minutes.
	ActivationDelayS float64 `json:"activation_delay_s,omitempty" yaml:"activation_delay_s,omitempty"`
}

// Station is a base where units are housed.
type Station struct {
	ID       string    `json:"id" yaml:"id"`
	Name     string    `json:"name" yaml:"name"`
	Town     string    `json:"town" yaml:"town"`
	Location geo.Point `json:"location" yaml:"location"`
}

// Unit is one dispatchable resource (a patrol car, a fire engine, an
// ambulance, a boat crew) belonging to exactly one team.
type Unit struct {
	ID           string   `json:"id" yaml:"id"`
	Team         string   `json:"team" yaml:"team"`
	Name         string   `json:"name,omitempty" yaml:"name,omitempty"`
	Capabilities []string `json:"capabilities" yaml:"capabilities"`
	Station      string   `json:"station" yaml:"station"`
	// Profile names the speed profile of the ETA model (car, truck, boat, foot...).
	Profile string `json:"profile" yaml:"profile"`
	Crew    int    `json:"crew" yaml:"crew"`
}

// Has reports whether u has capability c.
func (u *Unit) Has(c string) bool {
	for _, x := range u.Capabilities {
		if x == c {
			return true
		}
	}
	return false
}
