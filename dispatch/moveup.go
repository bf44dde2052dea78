package dispatch

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

// Move-up modes (EngineConfig.MoveUp).
const (
	MoveUpOff       = "off"       // units go back to their own station
	MoveUpRecommend = "recommend" // the engine proposes relocations; a dispatcher confirms (ActRelocate)
	MoveUpAuto      = "auto"      // the engine relocates units itself (drills)
)

// coverState is a world's move-up model (cover.go): the towns as demand
// points weighted by population, the stations, which station covers which
// town within the P1 target for each covering capability, the idle units
// at each station and where each unit is based now.
type coverState struct {
	stations  []teams.Station
	stationAt map[string]int
	teamOf    map[string][]int // team -> its stations (of its units' home stations)
	classes   []coverClass
	classOf   map[int32][]int // fleet capability -> classes
	base      []int           // by fleet number: the station the unit waits at now
	counted   []int           // by fleet number: the station it is counted idle at, -1
	moves     []int           // by fleet number: move-ups on day
	day       []int32
	minGain   float64
}

// coverClass is one covering capability.
type coverClass struct {
	cap    int32
	grid   *coverGrid
	counts *coverCounts
	total  int // units with the capability (professionals)
}

// newCoverState builds the move-up model of a world: the covering
// capabilities are those P1 response plans ask for first; a town is
// covered from a station when a unit of the capability's usual speed
// profile reaches its centre within the P1 target at noon.
func (e *Engine) newCoverState(st *State) *coverState {
	f := st.Fleet()
	cs := &coverState{stations: e.sc.Stations, stationAt: map[string]int{}, teamOf: map[string][]int{},
		classOf: map[int32][]int{}, base: make([]int, f.Len()), counted: make([]int, f.Len()),
		moves: make([]int, f.Len()), day: make([]int32, f.Len())}
	for i, s := range cs.stations {
		cs.stationAt[s.ID] = i
	}
	covering := map[string]bool{}
	for _, t := range e.sc.Types {
		if t.Priority == 1 && len(t.Plan.Units) > 0 {
			covering[t.Plan.Units[0].Capability] = true
		}
	}
	total := 0.0
	for _, t := range e.sc.Towns {
		total += float64(max(t.Population, 0))
	}
	target := st.target(1)
	if math.IsInf(target, 1) {
		target = 600
	}
	eta := st.travel()
	noon := 12
	profilesOf := map[int32]map[int]int{}
	for i := int32(0); i < int32(f.Len()); i++ {
		r := f.Record(i)
		cs.base[i], cs.counted[i] = cs.stationAt[r.Station()], -1
		if r.Reserve() {
			continue
		}
		if s, ok := cs.stationAt[r.Station()]; ok && !slices.Contains(cs.teamOf[r.Team()], s) {
			cs.teamOf[r.Team()] = append(cs.teamOf[r.Team()], s)
		}
		for _, c := range r.Capabilities() {
			if profilesOf[c] == nil {
				profilesOf[c] = map[int]int{}
			}
			profilesOf[c][r.Profile()]++
		}
	}
	for _, name := range sortedKeys(covering) {
		c, ok := f.Capability(name)
		if !ok {
			continue
		}
		prof, n := 0, 0
		for p, k := range profilesOf[c] {
			if k > n || (k == n && p < prof) {
				prof, n = p, k
			}
		}
		g := &coverGrid{weight: make([]float64, len(e.sc.Towns)), covers: make([][]int32, len(cs.stations))}
		for i, t := range e.sc.Towns {
			if total > 0 {
				g.weight[i] = float64(max(t.Population, 0)) / total
			}
		}
		for s, stn := range cs.stations {
			for i, t := range e.sc.Towns {
				if eta.Seconds(geo.DistanceM(stn.Location, t.Center), prof, noon) <= target {
					g.covers[s] = append(g.covers[s], int32(i))
				}
			}
		}
		k := len(cs.classes)
		cs.classes = append(cs.classes, coverClass{cap: c, grid: g, counts: newCoverCounts(len(cs.stations), len(e.sc.Towns))})
		cs.classOf[c] = append(cs.classOf[c], k)
	}
	for i := int32(0); i < int32(f.Len()); i++ {
		r := f.Record(i)
		if r.Reserve() {
			continue
		}
		for _, c := range r.Capabilities() {
			for _, k := range cs.classOf[c] {
				cs.classes[k].total++
			}
		}
		cs.recount(f, i)
	}
	cs.minGain = e.cfg.MoveUpMinGain
	return cs
}

// classes of a unit: the covering capabilities it has.
func (cs *coverState) unitClasses(r *teams.UnitRecord) []int {
	var out []int
	for _, c := range r.Capabilities() {
		out = append(out, cs.classOf[c]...)
	}
	return out
}

// recount counts unit i idle at its base when it is available there.
func (cs *coverState) recount(f *teams.Fleet, i int32) {
	r := f.Record(i)
	at := -1
	if r.Status() == teams.StatusAvailable && !r.Reserve() && cs.base[i] >= 0 && r.Position() == cs.stations[cs.base[i]].Location {
		at = cs.base[i]
	}
	if at == cs.counted[i] {
		return
	}
	for _, k := range cs.unitClasses(r) {
		cl := &cs.classes[k]
		if cs.counted[i] >= 0 {
			cl.counts.add(cl.grid, cs.counted[i], -1)
		}
		if at >= 0 {
			cl.counts.add(cl.grid, at, 1)
		}
	}
	cs.counted[i] = at
}

// busy is the busy fraction q of a class: the share of its units not idle
// at a station, kept within [0.05, 0.95] so that every unit counts.
func (cl *coverClass) busy() float64 {
	idle := int32(0)
	for _, n := range cl.counts.idle {
		idle += n
	}
	if cl.total == 0 {
		return 0.5
	}
	return min(max(1-float64(idle)/float64(cl.total), 0.05), 0.95)
}

// mayMove reports whether unit i has move-ups left today (and counts one).
func (e *Engine) mayMove(cs *coverState, i int32, now time.Time) bool {
	d := int32(now.Unix() / 86400)
	if cs.day[i] != d {
		cs.day[i], cs.moves[i] = d, 0
	}
	if cs.moves[i] >= e.cfg.MoveUpPerDay {
		return false
	}
	cs.moves[i]++
	return true
}

// moveUps is the move-up rule of a step (queue.go calls it after the
// step's change): a unit that started back from a scene (returning) goes
// to the station of its team where it adds the most expected coverage
// (DMEXCLP); a dispatch that left a town uncovered by idle units of a
// capability pulls the idle unit whose move adds the most, net.
func (e *Engine) moveUps(w *world, outs []*Outcome) []*Outcome {
	cs := w.cover
	if cs == nil {
		return nil
	}
	f := w.state.Fleet()
	var returning, taken []int32
	seen := map[int32]bool{}
	for _, o := range outs {
		if o.Drill != w.drill {
			continue
		}
		for _, ch := range o.Units {
			i, ok := f.Number(ch.UnitID)
			if !ok {
				continue
			}
			if !seen[i] {
				seen[i] = true
				was := cs.counted[i]
				cs.recount(f, i)
				if was >= 0 && cs.counted[i] < 0 && ch.NewStatus.Active() {
					taken = append(taken, i)
				}
			}
			if ch.NewStatus == teams.StatusReturning && ch.OldStatus != teams.StatusReturning && ch.Station == "" {
				returning = append(returning, i)
			}
		}
	}
	now := e.cfg.Clock()
	var more []*Outcome
	for _, i := range returning {
		if out := e.returnTo(w, i, now); out != nil {
			more = append(more, out)
		}
	}
	for _, i := range taken {
		if out := e.fillHole(w, i, now); out != nil {
			more = append(more, out)
		}
	}
	return more
}

// returnTo picks the station a unit on its way back goes to.
func (e *Engine) returnTo(w *world, i int32, now time.Time) *Outcome {
	cs, r := w.cover, w.state.Fleet().Record(i)
	classes := cs.unitClasses(r)
	if len(classes) == 0 {
		return nil
	}
	allowed := append([]int{cs.base[i]}, cs.teamOf[r.Team()]...)
	gain := func(s int) float64 {
		v := 0.0
		for _, k := range classes {
			cl := &cs.classes[k]
			v += gainAt(cl.grid, cl.counts, s, cl.busy())
		}
		return v
	}
	// A unit driving back is not available: a station farther than its own
	// would keep it away longer, so only those about as near are candidates.
	eta, hour := w.state.travel(), w.state.travel().Hour(now)
	drive := func(s int) float64 {
		return eta.Seconds(geo.DistanceM(r.Position(), cs.stations[s].Location), r.Profile(), hour)
	}
	limit := drive(cs.base[i]) + e.cfg.MoveUpDetourS
	best, bestGain := cs.base[i], gain(cs.base[i])
	for _, s := range allowed[1:] {
		if v := gain(s); v > bestGain+1e-12 && drive(s) <= limit {
			best, bestGain = s, v
		}
	}
	if best == cs.base[i] || bestGain-gain(cs.base[i]) <= cs.minGain || !e.mayMove(cs, i, now) {
		return nil
	}
	return e.moveUp(w, i, best, bestGain-gain(cs.base[i]), teams.StatusReturning, now,
		"returns to a station where it covers more: +%.2f%% of the city's expected covered demand")
}

// fillHole moves an idle unit to cover what a dispatch of unit i left
// uncovered.
func (e *Engine) fillHole(w *world, i int32, now time.Time) *Outcome {
	cs, f := w.cover, w.state.Fleet()
	r := f.Record(i)
	for _, k := range cs.unitClasses(r) {
		cl := &cs.classes[k]
		from := cs.base[i]
		hole := false
		for _, p := range cl.grid.covers[from] {
			if cl.counts.k[p] == 0 {
				hole = true
			}
		}
		if !hole {
			continue
		}
		var cands []moveCandidate
		for u := int32(0); u < int32(f.Len()); u++ {
			ur := f.Record(u)
			if cs.counted[u] < 0 || !ur.Has(cl.cap) {
				continue
			}
			cands = append(cands, moveCandidate{unit: u, from: cs.counted[u], to: cs.teamOf[ur.Team()]})
		}
		m, ok := bestMove(cl.grid, cl.counts, cands, cl.busy(), cs.minGain)
		if !ok || !e.mayMove(cs, m.unit, now) {
			continue
		}
		return e.moveUp(w, m.unit, m.to, m.gain, teams.StatusRelocating, now,
			"moves up to cover what a dispatch left uncovered: +%.2f%% of the city's expected covered demand")
	}
	return nil
}

// moveUp records a move-up of unit i to station s: in auto mode the unit
// is re-based (status to: returning, relocating) and the change is its
// outcome; in recommend mode only the event is written, for a dispatcher to
// confirm with ActRelocate.
func (e *Engine) moveUp(w *world, i int32, s int, gain float64, to teams.Status, now time.Time, why string) *Outcome {
	cs, r := w.cover, w.state.Fleet().Record(i)
	stn := cs.stations[s]
	out := &Outcome{Drill: w.drill}
	msg := fmt.Sprintf(why, 100*gain)
	if e.cfg.MoveUp == MoveUpAuto {
		ch, err := w.state.setStatus(r.ID(), to, "", now)
		if err != nil {
			e.log.Error("move-up", "unit", r.ID(), "err", err)
			return nil
		}
		ch.Station = stn.ID
		cs.base[i] = s
		cs.recount(w.state.Fleet(), i)
		out.Units = append(out.Units, ch)
		e.addUnitEvent(w, out, ch)
	}
	town := ""
	if r.Town() >= 0 {
		town = w.state.Fleet().TownCode(r.Town())
	}
	out.Events = append(out.Events, Event{At: now, Kind: EvMoveUp, Drill: w.drill, Town: town, // for dispatchers
		Unit: r.ID(), Body: EventBody{Message: msg, Station: stn.ID}})
	return out
}

// relocate is a dispatcher's ActRelocate: the unit (idle, or on its way
// back) goes to wait at station a.Station.
func (e *Engine) relocate(w *world, a *Action, now time.Time) ([]*Outcome, error) {
	u, ok := w.state.unit(a.Unit)
	if !ok {
		return nil, fmt.Errorf("unit %q: %w", a.Unit, ErrNotFound)
	}
	if u.Status != teams.StatusAvailable && u.Status != teams.StatusReturning && u.Status != teams.StatusRelocating {
		return nil, fmt.Errorf("relocate: unit %s is %s: %w", u.ID, u.Status, ErrBadAction)
	}
	cs := w.cover
	s, ok := -1, false
	if cs != nil {
		s, ok = cs.stationAt[a.Station]
	}
	if !ok || !slices.Contains(cs.teamOf[u.Team], s) {
		return nil, fmt.Errorf("relocate: %q is not a station of team %s: %w", a.Station, u.Team, ErrBadAction)
	}
	ch, err := w.state.setStatus(u.ID, teams.StatusRelocating, "", now)
	if err != nil {
		return nil, fmt.Errorf("relocate: %w: %w", err, ErrBadAction)
	}
	ch.Station = a.Station
	i, _ := w.state.Fleet().Number(u.ID)
	cs.base[i] = s
	cs.recount(w.state.Fleet(), i)
	out := &Outcome{Drill: w.drill, Units: []teams.UnitChange{ch}}
	e.addUnitEvent(w, out, ch)
	return []*Outcome{out}, nil
}
