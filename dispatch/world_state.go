package dispatch

import (
	"errors"
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
}

// ErrUnknownStatusChange: SetStatus was asked for a change the state machine refuses.
var ErrUnknownStatusChange = errors.New("status change refused")

// UnitView is a unit with its live state.
type UnitView struct {
	teams.Unit
	Status   string    `json:"status"`
	Lat      float64   `json:"lat"`
	Lng      float64   `json:"lng"`
	Town     string    `json:"town,omitempty"`
	Cell     string    `json:"cell,omitempty"`
	Incident string    `json:"incident,omitempty"`
	Since    time.Time `json:"since"`
	Reserve  bool      `json:"reserve,omitempty"`
}

// DepotView is a depot with what is available now (on hand minus reserved).
type DepotView struct {
	resources.Depot
	Available map[string]int `json:"available"`
}

// unitRec is the live state of one unit; units are numbered densely in id order.
type unitRec struct {
	u        teams.Unit
	status   teams.Status
	pos      geo.Point
	cell     string // resolution-9 cell of pos, kept with it (views and changes read it often)
	town     int32  // index into State.townCodes; -1 outside the city
	incident string
	since    time.Time
	profile  int
	reserve  bool
	delayS   float64
	caps     []int32 // capability indices
	// class numbers the units that any ranking prices alike at the same
	// point: same profile, reserve flag, activation delay and capabilities
	// (the coverage cost then depends only on the town, that is the point).
	class uint32
}

// capIndex holds the available units of one capability, professionals and
// reserves apart, plus what bounds their speed.
type capIndex struct {
	name     string
	pro, res geo.PointIndex
	profiles []int // speed profiles present among units with the capability
}

// State is the live state of the units and depots of one world (live, or
// one drill): unit status and position, one point index per capability of
// available units, the per-town count of available units by capability (for
// coverage costs) and the inventory. It is not safe for concurrent use; the
// Engine serialises access.
type State struct {
	sc        *scenario.Scenario
	cfg       RankConfig
	eta       *geo.ETA
	towns     *geo.Towns
	townCodes []string
	units     []unitRec
	byID      map[string]int32
	capNames  []string
	capByName map[string]int32
	caps      []*capIndex
	avail     []int32 // avail[town*len(caps)+cap]: available professional units
	inv       *resources.Inventory
	depots    []resources.Depot
	truck     int
	targets   [4]float64
	scratch   scratch
	cells     geo.CellCache           // the query's cells, shared by the capability indices
	memo      map[geo.Point]pointInfo // place's answers for recent points (bounded)
}

// scratch buffers reused by Rank (no allocation in the search loop).
type scratch struct {
	hits   []geo.Hit
	picked []int32
	taken  []int32 // avail decrements in this decision: (town*ncap+cap) pairs
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
	s := &State{sc: sc, cfg: cfg, eta: eta, towns: towns, byID: map[string]int32{}, capByName: map[string]int32{}, memo: map[geo.Point]pointInfo{},
		inv: resources.NewInventory(sc.Depots), depots: sc.Depots, targets: sc.Targets}
	for _, t := range sc.Towns {
		s.townCodes = append(s.townCodes, t.Code)
	}
	if p, err := eta.Profile("truck"); err == nil {
		s.truck = p
	}
	teamOf := map[string]teams.Team{}
	for _, t := range sc.Teams {
		teamOf[t.ID] = t
	}
	stations := map[string]teams.Station{}
	for _, st := range sc.Stations {
		stations[st.ID] = st
	}
	units := slices.Clone(sc.Units)
	slices.SortFunc(units, func(a, b teams.Unit) int { return strings.Compare(a.ID, b.ID) })
	capCount := map[string]int{}
	for _, u := range units {
		for _, c := range u.Capabilities {
			capCount[c]++
		}
	}
	for _, c := range sortedKeys(capCount) {
		s.capByName[c] = int32(len(s.capNames))
		s.capNames = append(s.capNames, c)
	}
	minP, maxP := towns.Bounds()
	area := geo.DistanceM(geo.Point{Lat: minP.Lat, Lng: minP.Lng}, geo.Point{Lat: maxP.Lat, Lng: minP.Lng}) *
		geo.DistanceM(geo.Point{Lat: minP.Lat, Lng: minP.Lng}, geo.Point{Lat: minP.Lat, Lng: maxP.Lng})
	for _, c := range s.capNames {
		ci := &capIndex{name: c}
		ixc := geo.IndexConfig{Resolutions: []int{cfg.Resolution}, Cells: &s.cells}
		if cfg.Resolution == 0 {
			ixc.Resolutions, ixc.AreaM2 = geo.ResolutionsFor(capCount[c]/2+1, area), area
		}
		if ci.pro, err = newPointIndex(cfg.Index, ixc); err != nil {
			return nil, err
		}
		ci.res, _ = newPointIndex(cfg.Index, ixc)
		s.caps = append(s.caps, ci)
	}
	s.avail = make([]int32, len(s.townCodes)*len(s.caps))
	classes := map[string]uint32{}
	for i, u := range units {
		t, ok := teamOf[u.Team]
		if !ok {
			return nil, fmt.Errorf("state: unit %s: unknown team %q", u.ID, u.Team)
		}
		st, ok := stations[u.Station]
		if !ok {
			return nil, fmt.Errorf("state: unit %s: unknown station %q", u.ID, u.Station)
		}
		prof, err := eta.Profile(u.Profile)
		if err != nil {
			return nil, fmt.Errorf("state: unit %s: %w", u.ID, err)
		}
		if _, dup := s.byID[u.ID]; dup {
			return nil, fmt.Errorf("state: duplicate unit %s", u.ID)
		}
		pi := s.place(st.Location)
		r := unitRec{u: u, status: teams.StatusAvailable, pos: st.Location, cell: pi.cell, town: pi.town, profile: prof,
			reserve: t.Kind == teams.KindReserve, delayS: teams.ActivationDelay(t).Seconds()}
		for _, c := range u.Capabilities {
			ci := s.capByName[c]
			if !slices.Contains(r.caps, ci) {
				r.caps = append(r.caps, ci)
				if !slices.Contains(s.caps[ci].profiles, prof) {
					s.caps[ci].profiles = append(s.caps[ci].profiles, prof)
				}
			}
		}
		sig := fmt.Sprint(prof, r.reserve, r.delayS, slices.Sorted(slices.Values(r.caps)))
		cl, ok := classes[sig]
		if !ok {
			cl = uint32(len(classes))
			classes[sig] = cl
		}
		r.class = cl
		s.byID[u.ID] = int32(i)
		s.units = append(s.units, r)
		s.link(int32(i))
	}
	return s, nil
}

func newPointIndex(kind string, cfg geo.IndexConfig) (geo.PointIndex, error) {
	switch kind {
	case "h3":
		ix, err := geo.NewIndex(cfg)
		if err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
		return ix, nil
	case "rtree":
		return geo.NewRTreeIndex(), nil
	case "brute":
		return geo.NewBruteIndex(), nil
	}
	return nil, fmt.Errorf("state: unknown index %q (h3, rtree, brute)", kind)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// pointInfo is the town and the resolution-9 cell of a point.
type pointInfo struct {
	town int32
	cell string
}

// place returns the town and cell of p, remembering them for recent points:
// the same points come back (stations, an incident and the units arriving
// on its scene), and locating them is most of a unit move's cost.
func (s *State) place(p geo.Point) pointInfo {
	if pi, ok := s.memo[p]; ok {
		return pi
	}
	pi := pointInfo{town: -1, cell: geo.CellOf(p, 9).String()}
	if code, ok := s.towns.Locate(p); ok {
		pi.town = int32(slices.Index(s.townCodes, code))
	}
	if len(s.memo) >= 8192 {
		clear(s.memo)
	}
	s.memo[p] = pi
	return pi
}

// locate is Towns().Locate and the cell of p, through the memo.
func (s *State) locate(p geo.Point) (town string, inside bool, cell string) {
	pi := s.place(p)
	if pi.town >= 0 {
		return s.townCodes[pi.town], true, pi.cell
	}
	return "", false, pi.cell
}

// link puts an available unit into its capability indices and town counts.
func (s *State) link(i int32) {
	r := &s.units[i]
	if r.status != teams.StatusAvailable {
		return
	}
	for _, c := range r.caps {
		if r.reserve {
			s.caps[c].res.Set(i, r.pos, r.class)
		} else {
			s.caps[c].pro.Set(i, r.pos, r.class)
			if r.town >= 0 {
				s.avail[int(r.town)*len(s.caps)+int(c)]++
			}
		}
	}
}

// unlink takes an available unit out of its indices and town counts.
func (s *State) unlink(i int32) {
	r := &s.units[i]
	if r.status != teams.StatusAvailable {
		return
	}
	for _, c := range r.caps {
		if r.reserve {
			s.caps[c].res.Remove(i)
		} else {
			s.caps[c].pro.Remove(i)
			if r.town >= 0 {
				s.avail[int(r.town)*len(s.caps)+int(c)]--
			}
		}
	}
}

func (s *State) change(i int32, oldStatus teams.Status, oldPos geo.Point, oldCell string, at time.Time) UnitChange {
	r := &s.units[i]
	ch := UnitChange{UnitID: r.u.ID, Team: r.u.Team, OldStatus: string(oldStatus), NewStatus: string(r.status),
		Lat: r.pos.Lat, Lng: r.pos.Lng, Incident: r.incident, At: at}
	if r.town >= 0 {
		ch.Town = s.townCodes[r.town]
	}
	if oldPos != r.pos {
		ch.OldCell, ch.NewCell = oldCell, r.cell
	}
	return ch
}

// SetPosition moves a unit (a position report): O(1) in the indices.
func (s *State) SetPosition(id string, p geo.Point, at time.Time) (UnitChange, error) {
	i, ok := s.byID[id]
	if !ok {
		return UnitChange{}, fmt.Errorf("%w: %q", ErrUnknownUnit, id)
	}
	if err := p.Validate(); err != nil {
		return UnitChange{}, fmt.Errorf("unit %s: %w", id, err)
	}
	r := &s.units[i]
	old, oldCell := r.pos, r.cell
	s.unlink(i)
	if p != old {
		pi := s.place(p)
		r.pos, r.cell, r.town = p, pi.cell, pi.town
	}
	s.link(i)
	return s.change(i, r.status, old, oldCell, at), nil
}

// SetStatus changes a unit's status, checked by the state machine, and
// records the incident it now works on ("" for none).
func (s *State) SetStatus(id string, to teams.Status, incident string, at time.Time) (UnitChange, error) {
	i, ok := s.byID[id]
	if !ok {
		return UnitChange{}, fmt.Errorf("%w: %q", ErrUnknownUnit, id)
	}
	r := &s.units[i]
	from := r.status
	if err := teams.Transition(from, to); err != nil {
		return UnitChange{}, fmt.Errorf("unit %s: %w", id, err)
	}
	s.unlink(i)
	r.status, r.incident = to, incident
	if from != to {
		r.since = at
	}
	s.link(i)
	return s.change(i, from, r.pos, r.cell, at), nil
}

// Restore sets a unit's state as loaded from the store, without the state machine.
func (s *State) Restore(u UnitState) error {
	i, ok := s.byID[u.ID]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownUnit, u.ID)
	}
	st, err := teams.ParseStatus(u.Status)
	if err != nil {
		return fmt.Errorf("unit %s: %w", u.ID, err)
	}
	p := geo.Point{Lat: u.Lat, Lng: u.Lng}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("unit %s: %w", u.ID, err)
	}
	s.unlink(i)
	r := &s.units[i]
	pi := s.place(p)
	r.status, r.pos, r.cell, r.town, r.incident, r.since = st, p, pi.cell, pi.town, u.Incident, u.Since
	s.link(i)
	return nil
}

func (s *State) view(i int32) UnitView {
	r := &s.units[i]
	v := UnitView{Unit: r.u, Status: string(r.status), Lat: r.pos.Lat, Lng: r.pos.Lng, Incident: r.incident,
		Since: r.since, Reserve: r.reserve, Cell: r.cell}
	if r.town >= 0 {
		v.Town = s.townCodes[r.town]
	}
	return v
}

// Unit returns one unit's live state.
func (s *State) Unit(id string) (UnitView, bool) {
	i, ok := s.byID[id]
	if !ok {
		return UnitView{}, false
	}
	return s.view(i), true
}

// Units returns every unit's live state, sorted by id.
func (s *State) Units() []UnitView {
	out := make([]UnitView, len(s.units))
	for i := range s.units {
		out[i] = s.view(int32(i))
	}
	return out
}

// Depots returns every depot with what is available now.
func (s *State) Depots() []DepotView {
	out := make([]DepotView, len(s.depots))
	for i, d := range s.depots {
		av := map[string]int{}
		for _, l := range s.inv.Levels() {
			if l.Depot == d.ID {
				av[l.Item] = l.OnHand - l.Reserved
			}
		}
		out[i] = DepotView{Depot: d, Available: av}
	}
	return out
}

// Inventory returns the stock of the world's depots.
func (s *State) Inventory() *resources.Inventory { return s.inv }

// Towns returns the town locator.
func (s *State) Towns() *geo.Towns { return s.towns }

// ETA returns the travel-time model.
func (s *State) ETA() *geo.ETA { return s.eta }
