package bound

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/zs110/dispatch/dispatch/drill"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

// Config configures Build: the window, and the drill settings the bound
// must share with the replays it is compared with.
type Config struct {
	// Scenario is the city. Required.
	Scenario *scenario.Scenario
	// From and To are the window: the calls reported in [From, To). Required.
	From, To time.Time
	// Priorities are the priorities whose calls occupy units and count.
	// Default 1 and 2.
	Priorities []int
	// Targets are the response targets by town kind then priority, as in
	// drill.ReportConfig.Targets. Default drill.DefaultTargets(Scenario).
	Targets map[string][4]float64
	// Turnout, Seed and ServiceSigma are the replay's (drill.Config):
	// turnout default 60 s (negative: none), the seed and the spread of the
	// times on scene (default 0.5, negative: none).
	Turnout      time.Duration
	Seed         uint64
	ServiceSigma float64
	// LinkRadiusM and LinkWindow are the engine's duplicate-call linking
	// (dispatch.EngineConfig: defaults 150 m and 10 minutes; a negative
	// radius links nothing).
	LinkRadiusM float64
	LinkWindow  time.Duration
}

// Call is one call of the window that occupies units.
type Call struct {
	ID       string    `json:"id"`
	At       time.Time `json:"at"`
	Priority int       `json:"priority"`
	Type     string    `json:"type"`
	// Town is the town code, "" outside every town.
	Town string `json:"town"`
	// TargetS is the call's response target in seconds.
	TargetS float64 `json:"target_s"`
	// ServiceS is the drill's time on scene for the incident, in seconds.
	ServiceS float64 `json:"service_s"`
}

// Cand is a unit that can be on scene of a call within its target, and
// the interval [Start, End) (unix ns) it would be busy: from the call until
// it is back at its station.
type Cand struct {
	Call, Unit int32
	// ArriveS is call to on scene, in seconds.
	ArriveS    float64
	Start, End int64
}

// Instance is the problem of one window: the calls, the units that can be
// on time somewhere, and every (call, unit) candidate, sorted by call then
// unit.
type Instance struct {
	Calls []Call
	Units []string
	Cands []Cand
	// Duplicates are calls of the window's priorities left out as possible
	// duplicates: within the link radius and window of an earlier call of the
	// same family (a superset of what the engine links, so that leaving them
	// out can only lower the bound); Manual those without a usable location
	// or refused by intake (the engine decides neither automatically).
	Duplicates int
	Manual     int
}

// unit is what the bound needs of a unit of the scenario.
type unit struct {
	id      string
	home    geo.Point
	profile int
	delay   time.Duration
	caps    []string
}

// typePlan is what the bound needs of an incident type.
type typePlan struct {
	priority int
	service  float64
	family   string
	fillers  []string // the capabilities of its plan and their substitutes
}

// world is the scenario as the bound reads it.
type world struct {
	eta      *geo.ETA
	towns    *geo.Towns
	kinds    map[string]string // town code -> kind
	units    []unit
	types    map[string]*typePlan
	fallback *typePlan
}

func newWorld(sc *scenario.Scenario) (*world, error) {
	w := &world{kinds: map[string]string{}, types: map[string]*typePlan{}}
	var err error
	if w.eta, err = geo.NewETA(sc.ETA); err != nil {
		return nil, err
	}
	if w.towns, err = geo.NewTowns(sc.Towns, 0); err != nil {
		return nil, err
	}
	for _, t := range sc.Towns {
		w.kinds[t.Code] = t.Kind
	}
	delay := map[string]time.Duration{}
	for _, t := range sc.Teams {
		delay[t.ID] = teams.ActivationDelay(t)
	}
	home := map[string]geo.Point{}
	for _, s := range sc.Stations {
		home[s.ID] = s.Location
	}
	for _, u := range sc.Units {
		p, err := w.eta.Profile(u.Profile)
		if err != nil {
			return nil, fmt.Errorf("unit %s: %w", u.ID, err)
		}
		h, ok := home[u.Station]
		if !ok {
			return nil, fmt.Errorf("unit %s: unknown station %q", u.ID, u.Station)
		}
		w.units = append(w.units, unit{id: u.ID, home: h, profile: p, delay: delay[u.Team], caps: u.Capabilities})
	}
	for _, t := range sc.Types {
		tp := &typePlan{priority: t.Priority, service: t.ServiceS, family: t.Family}
		if tp.family == "" {
			tp.family = t.Code
		}
		for _, r := range t.Plan.Units {
			tp.fillers = append(tp.fillers, r.Capability)
			tp.fillers = append(tp.fillers, r.Substitutes...)
			if r.First != nil { // a first responder arrives first too: the bound must let it
				tp.fillers = append(tp.fillers, r.First.Capabilities...)
			}
		}
		w.types[t.Code] = tp
	}
	if w.fallback = w.types[sc.Fallback]; w.fallback == nil {
		return nil, fmt.Errorf("fallback type %q not in the catalogue", sc.Fallback)
	}
	return w, nil
}

// recent is a call kept for duplicate detection.
type recent struct {
	at     time.Time
	p      geo.Point
	family string
}

// Build reads the window's calls from src (in reported_at order: reading
// stops at the first call at or after To) and makes the instance.
func Build(cfg Config, src drill.Source) (*Instance, error) {
	if cfg.Scenario == nil {
		return nil, errors.New("bound: no scenario")
	}
	if !cfg.To.After(cfg.From) {
		return nil, errors.New("bound: the window must end after it starts")
	}
	if cfg.Priorities == nil {
		cfg.Priorities = []int{1, 2}
	}
	for _, p := range cfg.Priorities {
		if p < 1 || p > 4 {
			return nil, fmt.Errorf("bound: priority %d out of 1-4", p)
		}
	}
	if cfg.Targets == nil {
		cfg.Targets = drill.DefaultTargets(cfg.Scenario)
	}
	if _, ok := cfg.Targets["default"]; !ok {
		return nil, errors.New("bound: targets have no \"default\" kind")
	}
	if math.IsNaN(cfg.ServiceSigma) || math.IsInf(cfg.ServiceSigma, 0) {
		return nil, errors.New("bound: service sigma must be a number")
	}
	if cfg.LinkRadiusM == 0 {
		cfg.LinkRadiusM = 150
	}
	if cfg.LinkWindow == 0 {
		cfg.LinkWindow = 10 * time.Minute
	}
	w, err := newWorld(cfg.Scenario)
	if err != nil {
		return nil, fmt.Errorf("bound: %w", err)
	}
	b := &builder{cfg: cfg, w: w, turnout: drill.TurnoutTime(cfg.Turnout), sigma: drill.ServiceSpread(cfg.ServiceSigma),
		inst: &Instance{}, unitIdx: map[int]int32{}}
	early := cfg.From.Add(-cfg.LinkWindow)
	for {
		inc, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("bound: source: %w", err)
		}
		if !inc.ReportedAt.Before(cfg.To) {
			break
		}
		if inc.ReportedAt.Before(early) {
			continue
		}
		b.call(inc.ID, inc.ReportedAt, inc.Type, inc.Priority, inc.HasLocation && inc.Invalid == "", geo.Point{Lat: inc.Lat, Lng: inc.Lng})
	}
	return b.inst, nil
}

type builder struct {
	cfg     Config
	w       *world
	turnout time.Duration
	sigma   float64
	inst    *Instance
	recent  []recent
	unitIdx map[int]int32
}

// call takes one record: it may be a duplicate of an earlier one, and it
// is kept when it lies in the window and has one of the priorities.
func (b *builder) call(id string, at time.Time, typ string, priority int, located bool, p geo.Point) {
	tp, known := b.w.types[typ]
	if !known {
		tp = b.w.fallback
	}
	if priority < 1 || priority > 4 {
		priority = tp.priority
	}
	inWindow := !at.Before(b.cfg.From) && slices.Contains(b.cfg.Priorities, priority)
	if !located {
		if inWindow {
			b.inst.Manual++
		}
		return
	}
	family := typ
	if known {
		family = tp.family
	}
	// Any earlier located call of the family within the radius and window
	// may be the open incident the engine links this one to.
	keep := b.recent[:0]
	dup := false
	for _, r := range b.recent {
		if at.Sub(r.at) > b.cfg.LinkWindow {
			continue
		}
		keep = append(keep, r)
		if known && b.cfg.LinkRadiusM > 0 && r.family == family && geo.DistanceM(p, r.p) <= b.cfg.LinkRadiusM {
			dup = true
		}
	}
	b.recent = append(keep, recent{at: at, p: p, family: family})
	if !inWindow {
		return
	}
	if dup {
		b.inst.Duplicates++
		return
	}
	town, _ := b.w.towns.Locate(p)
	kind := "default"
	if k, ok := b.w.kinds[town]; ok {
		kind = k
	}
	service := drill.ServiceTime(b.cfg.Seed, b.sigma, id, tp.service)
	c := Call{ID: id, At: at, Priority: priority, Type: typ, Town: town, TargetS: drill.TargetS(b.cfg.Targets, kind, priority),
		ServiceS: service.Seconds()}
	ci := int32(len(b.inst.Calls))
	b.inst.Calls = append(b.inst.Calls, c)
	b.candidates(ci, c, p, tp, service)
}

// candidates adds the units of the call's plan that can be on scene within
// its target, timed as the drill times them: on scene at call + turnout +
// activation + travel by the ETA model at the call's hour; back at the
// station after the time on scene and the drive back at the hour it leaves.
func (b *builder) candidates(ci int32, c Call, p geo.Point, tp *typePlan, service time.Duration) {
	eta := b.w.eta
	hour := eta.Hour(c.At)
	at := c.At.UnixNano()
	first := len(b.inst.Cands)
	defer func() {
		slices.SortFunc(b.inst.Cands[first:], func(x, y Cand) int { return cmp.Compare(x.Unit, y.Unit) })
	}()
	for i, u := range b.w.units {
		if !fills(u.caps, tp.fillers) {
			continue
		}
		d := geo.DistanceM(p, u.home)
		travel := eta.Seconds(d, u.profile, hour) + u.delay.Seconds()
		onScene := at + int64(b.turnout) + int64(travel*float64(time.Second))
		arrive := float64(onScene-at) / 1e9
		if arrive > c.TargetS {
			continue
		}
		clear := onScene + int64(service)
		back := eta.Seconds(d, u.profile, eta.Hour(time.Unix(0, clear)))
		ui, ok := b.unitIdx[i]
		if !ok {
			ui = int32(len(b.inst.Units))
			b.unitIdx[i] = ui
			b.inst.Units = append(b.inst.Units, u.id)
		}
		b.inst.Cands = append(b.inst.Cands, Cand{Call: ci, Unit: ui, ArriveS: arrive, Start: at, End: clear + int64(back*float64(time.Second))})
	}
}

// fills reports whether a unit with caps can fill some requirement of a
// plan whose capabilities and substitutes are fillers.
func fills(caps, fillers []string) bool {
	for _, c := range caps {
		if slices.Contains(fillers, c) {
			return true
		}
	}
	return false
}
