package geo

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// ErrUnknownProfile reports a speed profile that the ETA model does not define.
var ErrUnknownProfile = errors.New("unknown speed profile")

// Town is one of the city's large grids (a town or district).
type Town struct {
	Code       string `json:"code" yaml:"code"`
	NameZH     string `json:"name_zh" yaml:"name_zh"`
	NameEN     string `json:"name_en" yaml:"name_en"`
	Kind       string `json:"kind" yaml:"kind"` // "urban district", "town", ...
	Center     Point  `json:"center" yaml:"center"`
	Population int    `json:"population" yaml:"population"`
}

// SpeedProfile is how fast one kind of unit moves.
type SpeedProfile struct {
	// SpeedKmh is the average road speed in km/h outside rush hours.
	SpeedKmh float64 `json:"speed_kmh" yaml:"speed_kmh"`
	// Hourly multiplies SpeedKmh by local hour of day (0-23); a zero entry
	// means 1. Rush hours are below 1.
	Hourly [24]float64 `json:"hourly,omitempty" yaml:"hourly,omitempty"`
}

// ETAConfig configures the ETA model: eta = distance x detour / speed.
type ETAConfig struct {
	// DetourFactor turns great-circle distance into road distance. Default 1.3.
	DetourFactor float64 `json:"detour_factor" yaml:"detour_factor"`
	// Location is the time zone of the hour-of-day profiles. Default Asia/Shanghai (UTC+8).
	Location string `json:"location,omitempty" yaml:"location,omitempty"`
	// Profiles by name ("car", "truck", "boat", ...). Required.
	Profiles map[string]SpeedProfile `json:"profiles" yaml:"profiles"`
}

// ETA is the travel-time model. It is immutable and safe for concurrent use.
type ETA struct {
	detour float64
	loc    *time.Location
	names  []string
	// mps[p][h] is metres per second of profile p at local hour h.
	mps   [][24]float64
	index map[string]int
}

// NewETA validates cfg, fills defaults and builds the model.
func NewETA(cfg ETAConfig) (*ETA, error) {
	if cfg.DetourFactor == 0 {
		cfg.DetourFactor = 1.3
	}
	if cfg.DetourFactor < 1 || math.IsNaN(cfg.DetourFactor) || math.IsInf(cfg.DetourFactor, 0) {
		return nil, fmt.Errorf("eta: detour factor %v must be at least 1", cfg.DetourFactor)
	}
	loc := time.FixedZone("CST", 8*3600)
	if cfg.Location != "" && cfg.Location != "Asia/Shanghai" {
		l, err := time.LoadLocation(cfg.Location)
		if err != nil {
			return nil, fmt.Errorf("eta: location: %w", err)
		}
		loc = l
	}
	if len(cfg.Profiles) == 0 {
		return nil, errors.New("eta: no speed profiles")
	}
	e := &ETA{detour: cfg.DetourFactor, loc: loc, index: map[string]int{}}
	for name := range cfg.Profiles {
		e.names = append(e.names, name)
	}
	slices.Sort(e.names)
	for i, name := range e.names {
		p := cfg.Profiles[name]
		if !(p.SpeedKmh > 0) || math.IsInf(p.SpeedKmh, 0) {
			return nil, fmt.Errorf("eta: profile %q: speed %v must be positive", name, p.SpeedKmh)
		}
		var row [24]float64
		for h := 0; h < 24; h++ {
			m := p.Hourly[h]
			if m == 0 {
				m = 1
			}
			if m < 0 || math.IsNaN(m) || math.IsInf(m, 0) {
				return nil, fmt.Errorf("eta: profile %q: hour %d multiplier %v must be positive", name, h, m)
			}
			row[h] = p.SpeedKmh * m / 3.6
		}
		e.mps = append(e.mps, row)
		e.index[name] = i
	}
	return e, nil
}

// Profile returns the index of a named profile, for the fast methods.
func (e *ETA) Profile(name string) (int, error) {
	i, ok := e.index[name]
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrUnknownProfile, name)
	}
	return i, nil
}

// Profiles returns the profile names in index order.
func (e *ETA) Profiles() []string { return append([]string(nil), e.names...) }

// Hour returns the local hour of day of t used by the profiles.
func (e *ETA) Hour(t time.Time) int { return t.In(e.loc).Hour() }

// Speed returns metres per second of profile p at local hour h.
func (e *ETA) Speed(p, h int) float64 { return e.mps[p][h] }

// MaxSpeed returns the fastest speed of any profile at hour h, in m/s.
func (e *ETA) MaxSpeed(h int) float64 {
	m := 0.0
	for i := range e.mps {
		if e.mps[i][h] > m {
			m = e.mps[i][h]
		}
	}
	return m
}

// Detour returns the detour factor.
func (e *ETA) Detour() float64 { return e.detour }

// Seconds returns the travel time in seconds over great-circle distance d
// metres for profile p at hour h.
func (e *ETA) Seconds(d float64, p, h int) float64 { return d * e.detour / e.mps[p][h] }
