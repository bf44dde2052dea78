package dispatch

import (
	"fmt"
	"math"
	"slices"
	"strings"
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
	// Policy is the ranking rule (docs/architecture.md, "Ranking"):
	//
	//   - PolicyClosest ("closest"): closest ETA; substitutes only when no
	//     primary unit is available; reserves whenever a pick would be late.
	//     Plans' first responders are ignored. The baseline.
	//   - PolicyResponders ("responders"): as closest, plus the plans' first
	//     responders, sent ahead of a requirement's units when they arrive
	//     sooner by the plan's margin or when those would miss the target;
	//     reserves only as a last resort: when no professional unit (the
	//     requirement's, a substitute, a first responder, or a busy one
	//     expected to be free, see State.expectFree) can be on scene within
	//     the target, and then only if they arrive before every professional.
	//
	// Default (""): DefaultPolicy.
	Policy string
	// NoLearn turns off learning travel-time corrections from the units'
	// trips (geo.TravelConfig.Fixed; the trips are still measured, what a
	// store has learned is not used). Default false: the engine learns.
	NoLearn bool
	// TruthETA, when set, gives every travel time (profile index, local
	// hour), bounded by the model's like every correction: a drill's
	// engine that knows its simulator's truth (the ceiling). Default nil.
	TruthETA func(from, to geo.Point, profile, hour int) float64
}

// The ranking policies of RankConfig.Policy.
const (
	PolicyClosest    = "closest"
	PolicyResponders = "responders"
)

// DefaultPolicy is the policy of a RankConfig that names none: responders,
// which in the synthetic years (docs/drills.md) has fewer late P1 arrivals,
// a much shorter traffic p90 and a small fraction of the reserve calls of
// closest.
const DefaultPolicy = PolicyResponders

// Policies lists the ranking policies, the default first.
func Policies() []string { return []string{PolicyResponders, PolicyClosest} }

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
	// responders is RankConfig.Policy == PolicyResponders.
	responders bool
	// free[unit] is when and where a busy professional unit is expected to
	// be free (expectFree); busyIx[capability] indexes the units with an
	// estimate at the place they will be free (each unit its own class:
	// their costs differ by their free times).
	free   []freeEst
	busyIx []geo.PointIndex
	// tr is the travel-time rule; places caches the units' travel cells,
	// trips their trips under way.
	tr     *geo.Travel
	places []placeCache
	trips  []tripStart
}

// freeEst is a busy unit's expected free time (unix ns; 0: unknown) and
// place.
type freeEst struct {
	at  int64
	pos geo.Point
	pl  geo.Place
}

// scratch buffers reused by Rank (no allocation in the search loop).
type scratch struct {
	hits   []geo.Hit
	picked []int32
	// held[town*ncap+cap] counts the units this decision has picked (the
	// coverage cost counts them as gone); taken lists the entries to reset.
	held  []int32
	taken []int32
	// busyHits, busyCap: the reserve rule's busy professionals
	// (responders), of all its capabilities and of one.
	busyHits, busyCap []geo.Hit
	// q is the travel cells of the point being ranked.
	q geo.Place
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
	if cfg.Policy == "" {
		cfg.Policy = DefaultPolicy
	}
	if !slices.Contains(Policies(), cfg.Policy) {
		return nil, fmt.Errorf("state: unknown policy %q (%s)", cfg.Policy, strings.Join(Policies(), ", "))
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
	var matrix *geo.Matrix
	if sc.TravelMatrix != nil {
		if matrix, err = geo.NewMatrix(*sc.TravelMatrix, towns); err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
	}
	if s.tr, err = geo.NewTravel(geo.TravelConfig{ETA: eta, Matrix: matrix, Override: cfg.TruthETA, Fixed: cfg.NoLearn}); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	s.places = make([]placeCache, fleet.Len())
	s.trips = make([]tripStart, fleet.Len())
	s.scratch.held = make([]int32, len(fleet.TownCodes())*s.ncap)
	s.responders = cfg.Policy == PolicyResponders
	s.free = make([]freeEst, fleet.Len())
	for range s.ncap {
		var ix geo.PointIndex
		switch cfg.Index {
		case "rtree":
			ix = geo.NewRTreeIndex()
		case "brute":
			ix = geo.NewBruteIndex()
		default:
			if ix, err = geo.NewIndex(geo.IndexConfig{Resolutions: []int{7}}); err != nil {
				return nil, fmt.Errorf("state: %w", err)
			}
		}
		s.busyIx = append(s.busyIx, ix)
	}
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

// setPosition moves a unit (a position report): Fleet().SetPosition.
func (s *State) setPosition(id string, p geo.Point, at time.Time) (teams.UnitChange, error) {
	return s.fleet.SetPosition(id, p, at)
}

// setStatus changes a unit's status, checked by the state machine, and
// records the incident it now works on ("" for none): Fleet().SetStatus.
//
// The unit's expected free time (expectFree) is forgotten when it becomes
// available or goes out of service; a unit returning is expected free when
// it is back at its station (the drive home by the ETA model).
func (s *State) setStatus(id string, to teams.Status, incident string, at time.Time) (teams.UnitChange, error) {
	ch, err := s.fleet.SetStatus(id, to, incident, at)
	if err == nil {
		s.statusChanged(id, to, at)
	}
	return ch, err
}

// restore sets a unit's state as loaded from the store, without the state
// machine: Fleet().Restore. A busy unit's expected free time is unknown
// (not counted by the reserve rule) until its next status change, except
// a returning unit's.
func (s *State) restore(u teams.UnitState) error {
	if err := s.fleet.Restore(u); err != nil {
		return err
	}
	s.statusChanged(u.ID, u.Status, u.Since)
	if u.Status != teams.StatusReturning {
		s.forget(u.ID)
	}
	s.restoreTrip(u)
	return nil
}

// expectFree records when a busy professional unit is expected to be free
// again, and where: the engine calls it when it assigns a unit (from +
// its ETA + the incident type's mean time on scene, at the incident) and
// when the unit reports on scene (from + the mean time on scene). The
// responders policy counts such units as professionals that may arrive
// before a reserve (docs/architecture.md, "Ranking"). Unknown units,
// reserves and available units are ignored, and under the closest policy,
// which never reads them, estimates are not kept.
func (s *State) expectFree(id string, from time.Time, afterS float64, where geo.Point) {
	i, ok := s.fleet.Number(id)
	if !ok {
		return
	}
	if r := s.fleet.Record(i); r.Reserve() || r.Status().Assignable() {
		return
	}
	s.setFree(i, from.UnixNano()+int64(afterS*1e9), where)
}

// expectedFree returns when and where a busy unit is expected to be free;
// ok is false when that is not known.
func (s *State) expectedFree(id string) (at time.Time, where geo.Point, ok bool) {
	i, found := s.fleet.Number(id)
	if !found || s.free[i].at == 0 {
		return time.Time{}, geo.Point{}, false
	}
	return time.Unix(0, s.free[i].at), s.free[i].pos, true
}

func (s *State) setFree(i int32, at int64, where geo.Point) {
	if !s.responders {
		return
	}
	if at == 0 {
		at = 1 // 0 means unknown
	}
	s.free[i] = freeEst{at: at, pos: where, pl: s.tr.PlaceOf(where)}
	for _, c := range s.fleet.Record(i).Capabilities() {
		s.busyIx[c].Set(i, where, uint32(i))
	}
}

func (s *State) forget(id string) {
	i, ok := s.fleet.Number(id)
	if !ok || s.free[i].at == 0 {
		return
	}
	for _, c := range s.fleet.Record(i).Capabilities() {
		s.busyIx[c].Remove(i)
	}
	s.free[i] = freeEst{}
}

// statusChanged keeps the expected free times in step with a status.
func (s *State) statusChanged(id string, to teams.Status, at time.Time) {
	s.trackTrip(id, to, at)
	switch to {
	case teams.StatusAvailable, teams.StatusOutOfService:
		s.forget(id)
	case teams.StatusReturning:
		i, ok := s.fleet.Number(id)
		if !ok {
			return
		}
		r := s.fleet.Record(i)
		if r.Reserve() || at.IsZero() {
			s.forget(id)
			return
		}
		back := s.eta.Seconds(geo.DistanceM(r.Position(), r.Home()), r.Profile(), s.eta.Hour(at))
		s.setFree(i, at.UnixNano()+int64(back*1e9), r.Home())
	}
}

// unit returns one unit's live state: Fleet().Unit.
func (s *State) unit(id string) (teams.UnitView, bool) { return s.fleet.Unit(id) }

// unitViews returns every unit's live state, sorted by id: Fleet().Units.
func (s *State) unitViews() []teams.UnitView { return s.fleet.Units() }

// depotViews returns every depot with what is available now.
func (s *State) depotViews() []resources.DepotView { return s.inv.Views(s.depots) }

// Inventory returns the stock of the world's depots.
func (s *State) Inventory() *resources.Inventory { return s.inv }

// travel returns the travel-time model.
func (s *State) travel() *geo.ETA { return s.eta }
