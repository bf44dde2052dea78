package dispatch

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

// RankConfig configures the ranker.
type RankConfig struct {
	// CoverageWeightS is the cost, in seconds, added per capability a unit
	// would leave its town without (it is the last available unit with that
	// capability there). 0 = pure closest-ETA. Default 0.
	CoverageWeightS float64
	// Alternates is how many next candidates are kept per requirement, for a
	// dispatcher who swaps or adds a unit. Default 3.
	Alternates int
	// Index is the search structure: "h3" (default), "rtree" or "brute".
	// All three give the same answers; "brute" is the oracle.
	Index string
	// Resolution of the H3 index; 0 chooses, per capability, the
	// resolutions to keep from the number of units with it and the city's
	// area (geo.ResolutionsFor), and a search picks among them by how many
	// distinct positions the available units occupy.
	Resolution int
}

// State is the ranker's world (live, or one drill): the fleet (teams.Fleet:
// unit status and position, the capability indices of available units, the
// per-town counts of available units for coverage costs), the inventory
// and depots, the ETA model and the response-time targets. It is not safe
// for concurrent use; the Engine serialises access.
type State struct {
	sc      *scenario.Scenario
	cfg     RankConfig
	fleet   *teams.Fleet
	eta     *geo.ETA
	towns   *geo.Towns
	ncap    int // number of fleet capabilities
	inv     *resources.Inventory
	depots  []resources.Depot
	truck   int
	targets [4]float64
	scratch scratch
}

// scratch buffers reused by Rank (no allocation in the search loop).
type scratch struct {
	hits   []geo.Hit
	picked []int32
	// held[town*ncap+cap] counts the units this decision has picked (the
	// coverage cost counts them as gone); taken lists the entries to reset.
	held  []int32
	taken []int32
}

// NewState builds the state of a scenario: every unit available at its station, full stock.
func NewState(sc *scenario.Scenario, cfg RankConfig) (*State, error) {
	if cfg.Alternates == 0 {
		cfg.Alternates = 3
	}
	if cfg.Alternates < 0 {
		cfg.Alternates = 0
	}
	if cfg.Index == "" {
		cfg.Index = "h3"
	}
	if cfg.CoverageWeightS < 0 || math.IsNaN(cfg.CoverageWeightS) || math.IsInf(cfg.CoverageWeightS, 0) {
		return nil, fmt.Errorf("state: coverage weight %v must be a non-negative number", cfg.CoverageWeightS)
	}
	eta, err := geo.NewETA(sc.ETA)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	towns, err := geo.NewTowns(sc.Towns, 0)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	fleet, err := teams.NewFleet(teams.FleetConfig{Teams: sc.Teams, Stations: sc.Stations, Units: sc.Units,
		ETA: eta, Towns: towns, Index: cfg.Index, Resolution: cfg.Resolution})
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	s := &State{sc: sc, cfg: cfg, fleet: fleet, eta: eta, towns: towns, ncap: len(fleet.Capabilities()),
		inv: resources.NewInventory(sc.Depots), depots: sc.Depots, targets: sc.Targets}
	s.scratch.held = make([]int32, len(fleet.TownCodes())*s.ncap)
	if p, err := eta.Profile("truck"); err == nil {
		s.truck = p
	}
	return s, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// locate is Fleet().Locate.
func (s *State) locate(p geo.Point) (town string, inside bool, cell string) { return s.fleet.Locate(p) }

// Fleet returns the units of the world.
func (s *State) Fleet() *teams.Fleet { return s.fleet }

// SetPosition moves a unit (a position report): Fleet().SetPosition.
func (s *State) SetPosition(id string, p geo.Point, at time.Time) (teams.UnitChange, error) {
	return s.fleet.SetPosition(id, p, at)
}

// SetStatus changes a unit's status, checked by the state machine, and
// records the incident it now works on ("" for none): Fleet().SetStatus.
func (s *State) SetStatus(id string, to teams.Status, incident string, at time.Time) (teams.UnitChange, error) {
	return s.fleet.SetStatus(id, to, incident, at)
}

// Restore sets a unit's state as loaded from the store, without the state
// machine: Fleet().Restore.
func (s *State) Restore(u teams.UnitState) error { return s.fleet.Restore(u) }

// Unit returns one unit's live state: Fleet().Unit.
func (s *State) Unit(id string) (teams.UnitView, bool) { return s.fleet.Unit(id) }

// Units returns every unit's live state, sorted by id: Fleet().Units.
func (s *State) Units() []teams.UnitView { return s.fleet.Units() }

// Depots returns every depot with what is available now.
func (s *State) Depots() []resources.DepotView { return s.inv.Views(s.depots) }

// Inventory returns the stock of the world's depots.
func (s *State) Inventory() *resources.Inventory { return s.inv }

// Towns returns the town locator.
func (s *State) Towns() *geo.Towns { return s.towns }

// ETA returns the travel-time model.
func (s *State) ETA() *geo.ETA { return s.eta }
