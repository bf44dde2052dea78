package teams

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zs110/dispatch/geo"
)

// ErrInvalidFleet: NewFleet was given a configuration it cannot build (a
// unit of an unknown team, station or speed profile, a duplicate unit id, an
// unknown index...).
var ErrInvalidFleet = errors.New("invalid fleet")

// CellResolution is the H3 resolution of the cells a fleet reports
// (UnitView.Cell, UnitChange.OldCell and NewCell).
const CellResolution = 9

// FleetConfig configures a Fleet.
type FleetConfig struct {
	// Teams of the model; every unit's team must be one of them. Default
	// none.
	Teams []Team
	// Stations; every unit's station must be one of them, and a new fleet
	// has every unit available at its station. Default none.
	Stations []Station
	// Units, in any order: the fleet numbers them densely in id order. Ids
	// must be unique. Default none.
	Units []Unit
	// ETA is the travel-time model: every unit's profile must be one of its
	// speed profiles. Required.
	ETA *geo.ETA
	// Towns locates positions: the town of a unit, and the area whose size
	// chooses the H3 resolutions. Required.
	Towns *geo.Towns
	// Index is the search structure of the capability indices: "h3"
	// (default), "rtree" or "brute". All three give the same answers;
	// "brute" is the oracle.
	Index string
	// Resolution of the H3 indices, 0-15; 0 (default) chooses, per
	// capability, the resolutions to keep from the number of units with it
	// and the city's area (geo.ResolutionsFor), and a search picks among
	// them by how many distinct positions the available units occupy.
	// Ignored by "rtree" and "brute".
	Resolution int
}

// UnitRecord is the live state of one unit, read through its methods
// (Fleet.Record); they are cheap enough for a search loop.
type UnitRecord struct {
	// What a search's cost function reads, together.
	profile int
	delay   time.Duration // ActivationDelay of the unit's team
	town    int32         // index into Fleet.townCodes; -1 outside the city
	// class numbers the units that any ranking prices alike at the same
	// point: same profile, reserve flag, activation delay and capabilities
	// (the coverage cost then depends only on the town, that is the point).
	class   uint32
	reserve bool
	caps    []int32 // capability indices
	status  Status
	pos     geo.Point
	// What views and changes read.
	u        Unit
	cell     string // CellResolution cell of pos, kept with it (views and changes read it often)
	incident string
	since    time.Time
	home     geo.Point // the station's location
}

// capIndex holds the available units of one capability, professionals and
// reserves apart, plus what bounds their speed.
type capIndex struct {
	name     string
	pro, res geo.PointIndex
	profiles []int // speed profiles present among units with the capability
}

// Fleet is the live state of every unit of one world (the live one, or one
// drill): status (checked by the state machine), position, town, cell and
// assignment, one point index of available units per capability
// (professional and command units apart from reserves) and the per-town
// count of available professional units by capability (coverage costs).
// Units are numbered densely in id order; the number is the id the indices
// and UnitRecord use. It is not safe for concurrent use.
type Fleet struct {
	cfg       FleetConfig
	towns     *geo.Towns
	townCodes []string
	units     []UnitRecord
	byID      map[string]int32
	capNames  []string
	capByName map[string]int32
	caps      []*capIndex
	avail     []int32                 // avail[town*len(caps)+cap]: available professional units
	cells     geo.CellCache           // the query's cells, shared by the capability indices
	memo      map[geo.Point]pointInfo // place's answers for recent points (bounded)
}

// NewFleet validates cfg, fills its defaults and builds the fleet: every
// unit available at its station. Errors wrap ErrInvalidFleet.
func NewFleet(cfg FleetConfig) (*Fleet, error) {
	if cfg.Index == "" {
		cfg.Index = "h3"
	}
	if !slices.Contains([]string{"h3", "rtree", "brute"}, cfg.Index) {
		return nil, fmt.Errorf("fleet: unknown index %q (h3, rtree, brute): %w", cfg.Index, ErrInvalidFleet)
	}
	if cfg.Resolution < 0 || cfg.Resolution > 15 {
		return nil, fmt.Errorf("fleet: resolution %d out of 0-15: %w", cfg.Resolution, ErrInvalidFleet)
	}
	if cfg.ETA == nil || cfg.Towns == nil {
		return nil, fmt.Errorf("fleet: no ETA model or towns: %w", ErrInvalidFleet)
	}
	f := &Fleet{cfg: cfg, towns: cfg.Towns, byID: map[string]int32{}, capByName: map[string]int32{},
		memo: map[geo.Point]pointInfo{}}
	for _, t := range cfg.Towns.All() {
		f.townCodes = append(f.townCodes, t.Code)
	}
	teamOf := map[string]Team{}
	for _, t := range cfg.Teams {
		teamOf[t.ID] = t
	}
	stations := map[string]Station{}
	for _, st := range cfg.Stations {
		stations[st.ID] = st
	}
	units := slices.Clone(cfg.Units)
	slices.SortFunc(units, func(a, b Unit) int { return strings.Compare(a.ID, b.ID) })
	capCount := map[string]int{}
	for _, u := range units {
		for _, c := range u.Capabilities {
			capCount[c]++
		}
	}
	for c := range capCount {
		f.capNames = append(f.capNames, c)
	}
	slices.Sort(f.capNames)
	for i, c := range f.capNames {
		f.capByName[c] = int32(i)
	}
	minP, maxP := cfg.Towns.Bounds()
	area := geo.DistanceM(geo.Point{Lat: minP.Lat, Lng: minP.Lng}, geo.Point{Lat: maxP.Lat, Lng: minP.Lng}) *
		geo.DistanceM(geo.Point{Lat: minP.Lat, Lng: minP.Lng}, geo.Point{Lat: minP.Lat, Lng: maxP.Lng})
	for _, c := range f.capNames {
		ci := &capIndex{name: c}
		ixc := geo.IndexConfig{Resolutions: []int{cfg.Resolution}, Cells: &f.cells}
		if cfg.Resolution == 0 {
			ixc.Resolutions, ixc.AreaM2 = geo.ResolutionsFor(capCount[c]/2+1, area), area
		}
		var err error
		if ci.pro, err = newPointIndex(cfg.Index, ixc); err != nil {
			return nil, err
		}
		ci.res, _ = newPointIndex(cfg.Index, ixc)
		f.caps = append(f.caps, ci)
	}
	f.avail = make([]int32, len(f.townCodes)*len(f.caps))
	classes := map[string]uint32{}
	for i, u := range units {
		t, ok := teamOf[u.Team]
		if !ok {
			return nil, fmt.Errorf("fleet: unit %s: unknown team %q: %w", u.ID, u.Team, ErrInvalidFleet)
		}
		st, ok := stations[u.Station]
		if !ok {
			return nil, fmt.Errorf("fleet: unit %s: unknown station %q: %w", u.ID, u.Station, ErrInvalidFleet)
		}
		prof, err := cfg.ETA.Profile(u.Profile)
		if err != nil {
			return nil, fmt.Errorf("fleet: unit %s: %w: %w", u.ID, err, ErrInvalidFleet)
		}
		if _, dup := f.byID[u.ID]; dup {
			return nil, fmt.Errorf("fleet: duplicate unit %s: %w", u.ID, ErrInvalidFleet)
		}
		pi := f.place(st.Location)
		r := UnitRecord{u: u, status: StatusAvailable, pos: st.Location, home: st.Location, cell: pi.cell, town: pi.town, profile: prof,
			reserve: t.Kind == KindReserve, delay: ActivationDelay(t)}
		for _, c := range u.Capabilities {
			ci := f.capByName[c]
			if !slices.Contains(r.caps, ci) {
				r.caps = append(r.caps, ci)
				if !slices.Contains(f.caps[ci].profiles, prof) {
					f.caps[ci].profiles = append(f.caps[ci].profiles, prof)
				}
			}
		}
		sig := fmt.Sprint(prof, r.reserve, r.delay.Seconds(), slices.Sorted(slices.Values(r.caps)))
		cl, ok := classes[sig]
		if !ok {
			cl = uint32(len(classes))
			classes[sig] = cl
		}
		r.class = cl
		f.byID[u.ID] = int32(i)
		f.units = append(f.units, r)
		f.link(int32(i))
	}
	return f, nil
}

func newPointIndex(kind string, cfg geo.IndexConfig) (geo.PointIndex, error) {
	switch kind {
	case "h3":
		ix, err := geo.NewIndex(cfg)
		if err != nil {
			return nil, fmt.Errorf("fleet: %w: %w", err, ErrInvalidFleet)
		}
		return ix, nil
	case "rtree":
		return geo.NewRTreeIndex(), nil
	case "brute":
		return geo.NewBruteIndex(), nil
	}
	return nil, fmt.Errorf("fleet: unknown index %q (h3, rtree, brute): %w", kind, ErrInvalidFleet)
}

// pointInfo is the town and the cell of a point.
type pointInfo struct {
	town int32
	cell string
}

// place returns the town and cell of p, remembering them for recent points:
// the same points come back (stations, an incident and the units arriving
// on its scene), and locating them is most of a unit move's cost.
func (f *Fleet) place(p geo.Point) pointInfo {
	if pi, ok := f.memo[p]; ok {
		return pi
	}
	pi := pointInfo{town: -1, cell: geo.CellOf(p, CellResolution).String()}
	if code, ok := f.towns.Locate(p); ok {
		pi.town = int32(slices.Index(f.townCodes, code))
	}
	if len(f.memo) >= 8192 {
		clear(f.memo)
	}
	f.memo[p] = pi
	return pi
}

// Locate returns the town of p (inside false when p is outside the city)
// and its CellResolution cell, as the fleet computes them for units
// (geo.Towns.Locate and geo.CellOf, through the fleet's memo of recent points).
func (f *Fleet) Locate(p geo.Point) (town string, inside bool, cell string) {
	pi := f.place(p)
	if pi.town >= 0 {
		return f.townCodes[pi.town], true, pi.cell
	}
	return "", false, pi.cell
}

// link puts an available unit into its capability indices and town counts.
func (f *Fleet) link(i int32) {
	r := &f.units[i]
	if !r.status.Assignable() {
		return
	}
	for _, c := range r.caps {
		if r.reserve {
			f.caps[c].res.Set(i, r.pos, r.class)
		} else {
			f.caps[c].pro.Set(i, r.pos, r.class)
			if r.town >= 0 {
				f.avail[int(r.town)*len(f.caps)+int(c)]++
			}
		}
	}
}

// unlink takes an available unit out of its indices and town counts.
func (f *Fleet) unlink(i int32) {
	r := &f.units[i]
	if !r.status.Assignable() {
		return
	}
	for _, c := range r.caps {
		if r.reserve {
			f.caps[c].res.Remove(i)
		} else {
			f.caps[c].pro.Remove(i)
			if r.town >= 0 {
				f.avail[int(r.town)*len(f.caps)+int(c)]--
			}
		}
	}
}

func (f *Fleet) change(i int32, oldStatus Status, oldPos geo.Point, oldCell string, at time.Time) UnitChange {
	r := &f.units[i]
	ch := UnitChange{UnitID: r.u.ID, Team: r.u.Team, OldStatus: oldStatus, NewStatus: r.status,
		Lat: r.pos.Lat, Lng: r.pos.Lng, Incident: r.incident, At: at}
	if r.town >= 0 {
		ch.Town = f.townCodes[r.town]
	}
	if oldPos != r.pos {
		ch.OldCell, ch.NewCell = oldCell, r.cell
	}
	return ch
}

func (f *Fleet) lookup(id string) (int32, error) {
	i, ok := f.byID[id]
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrUnknownUnit, id)
	}
	return i, nil
}

// SetPosition moves a unit (a position report): O(1) in the indices. The
// change has OldCell and NewCell set when the position changed. Errors wrap
// ErrUnknownUnit or geo.ErrBadPoint.
func (f *Fleet) SetPosition(id string, p geo.Point, at time.Time) (UnitChange, error) {
	i, err := f.lookup(id)
	if err != nil {
		return UnitChange{}, err
	}
	if err := p.Validate(); err != nil {
		return UnitChange{}, fmt.Errorf("unit %s: %w", id, err)
	}
	r := &f.units[i]
	old, oldCell := r.pos, r.cell
	f.unlink(i)
	if p != old {
		pi := f.place(p)
		r.pos, r.cell, r.town = p, pi.cell, pi.town
	}
	f.link(i)
	return f.change(i, r.status, old, oldCell, at), nil
}

// SetStatus changes a unit's status, checked by the state machine
// (Transition), and records the incident it now works on ("" for none).
// Since moves to at when the status changes. Errors wrap ErrUnknownUnit,
// ErrIllegalTransition or ErrUnknownStatus.
func (f *Fleet) SetStatus(id string, to Status, incident string, at time.Time) (UnitChange, error) {
	i, err := f.lookup(id)
	if err != nil {
		return UnitChange{}, err
	}
	r := &f.units[i]
	from := r.status
	if err := Transition(from, to); err != nil {
		return UnitChange{}, fmt.Errorf("unit %s: %w", id, err)
	}
	f.unlink(i)
	r.status, r.incident = to, incident
	if from != to {
		r.since = at
	}
	f.link(i)
	return f.change(i, from, r.pos, r.cell, at), nil
}

// Restore sets a unit's state as loaded from a store, without the state
// machine. Errors wrap ErrUnknownUnit, ErrUnknownStatus or
// geo.ErrBadPoint; the unit is then unchanged.
func (f *Fleet) Restore(u UnitState) error {
	i, err := f.lookup(u.ID)
	if err != nil {
		return err
	}
	if _, err := ParseStatus(string(u.Status)); err != nil {
		return fmt.Errorf("unit %s: %w", u.ID, err)
	}
	p := geo.Point{Lat: u.Lat, Lng: u.Lng}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("unit %s: %w", u.ID, err)
	}
	f.unlink(i)
	r := &f.units[i]
	pi := f.place(p)
	r.status, r.pos, r.cell, r.town, r.incident, r.since = u.Status, p, pi.cell, pi.town, u.Incident, u.Since
	f.link(i)
	return nil
}

func (f *Fleet) view(i int32) UnitView {
	r := &f.units[i]
	v := UnitView{Unit: r.u, Status: r.status, Lat: r.pos.Lat, Lng: r.pos.Lng, Incident: r.incident,
		Since: r.since, Reserve: r.reserve, Cell: r.cell}
	if r.town >= 0 {
		v.Town = f.townCodes[r.town]
	}
	return v
}

// Unit returns one unit's live state; ok is false for an unknown id.
func (f *Fleet) Unit(id string) (v UnitView, ok bool) {
	i, ok := f.byID[id]
	if !ok {
		return UnitView{}, false
	}
	return f.view(i), true
}

// Units returns every unit's live state, sorted by id.
func (f *Fleet) Units() []UnitView {
	out := make([]UnitView, len(f.units))
	for i := range f.units {
		out[i] = f.view(int32(i))
	}
	return out
}
