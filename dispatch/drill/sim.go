package drill

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math"
	"slices"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/dispatch/wire"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

// Config configures a Drill.
type Config struct {
	// Scenario is the city: the drill's world starts from a copy of its units
	// (at their stations, available) and stock. Required.
	Scenario *scenario.Scenario
	// History keeps the history of every incident in Store (who did what,
	// Engine.History). Default off: a replay is read by its report, and a
	// year of history would only cost memory and writes.
	History bool
	// Store receives the drill's decisions, unit changes and console events,
	// under the drill id, in the same event log as live state (a drill console
	// watches them there). Required; the drill must not exist in it yet.
	Store dispatch.Store
	// Drill is the drill id every incident is replayed under (the record's own
	// drill field is replaced): never "", so live state is never touched. Required.
	Drill string
	// Rank configures the ranker: RankConfig.CoverageWeightS 0 is closest-ETA,
	// above 0 coverage-aware. Defaults as in dispatch.RankConfig.
	Rank dispatch.RankConfig
	// LinkRadiusM and LinkWindow configure duplicate-call linking, as in
	// dispatch.EngineConfig (defaults 150 m, 10 minutes).
	LinkRadiusM float64
	LinkWindow  time.Duration
	// Seed seeds the service times: the same seed gives the same drill.
	Seed uint64
	// Turnout is the time between a unit's assignment and its departure
	// (reserve units add their team's activation delay). Default 60 s;
	// negative: none.
	Turnout time.Duration
	// ServiceSigma is the spread of the time on scene: each incident draws it
	// from a log-normal distribution whose mean is its type's service_s and
	// whose log has this standard deviation. Default 0.5; negative: every
	// incident takes exactly its type's mean.
	ServiceSigma float64
	// RestockEvery is the depot delivery schedule: every RestockEvery from
	// the first call, each depot is topped up to its scenario stock. Default 7
	// days; negative: never.
	RestockEvery time.Duration
	// Speed paces the virtual clock against the wall clock: 1 replays in real
	// time, N N times faster, 0 as fast as possible. Default 0.
	Speed float64
	// Wall is the wall clock Speed paces against. Default the real clock.
	Wall Wall
	// Progress, when set, is called about every ProgressEvery of wall time
	// and once at the end.
	Progress func(Progress)
	// ProgressEvery is the wall time between Progress calls. Default 250 ms.
	ProgressEvery time.Duration
	// FillScan bounds how many queued incidents are offered the units that
	// became available at one instant: FillScan per unit. Default 8.
	FillScan int
	// MoveUp lets the engine move units up (dispatch.MoveUpAuto): a unit
	// on its way back goes to the station where it covers most, an idle one
	// fills what a dispatch left uncovered. Default off.
	MoveUp bool
	// Divert lets a P1 that no unit reaches within its target take a unit
	// on its way to a P3/P4 call (dispatch.EngineConfig.Divert). Default off.
	Divert bool
	// Truth is how units really move: TruthModel ("" too) as the engine's
	// ETA model says (a unit arrives at its pick's ETA), TruthDelta by the
	// drill's own model of the delta (Truth: waterways crossed at bridges,
	// slow centres, its own hours, a spread per trip), which the engine
	// does not know: it sees only the units' reports. Default TruthModel.
	Truth string
	// TruthSpread is TruthConfig.Spread: the log spread of each trip's
	// random factor. Default 0.15; negative: none.
	TruthSpread float64
	// KnowTruth gives the engine the truth's expected travel times
	// (dispatch.RankConfig.TruthETA): the ceiling of what learning can
	// reach. Needs TruthDelta. Default false.
	KnowTruth bool
	// Logger. Default slog.Default().
	Logger *slog.Logger
}

// Wall is a wall clock that can wait.
type Wall interface {
	Now() time.Time
	// Sleep waits d or until ctx is done.
	Sleep(ctx context.Context, d time.Duration) error
}

type realWall struct{}

func (realWall) Now() time.Time { return time.Now() }
func (realWall) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Progress is where a running drill is.
type Progress struct {
	// Incidents is how many records have been decided so far.
	Incidents int
	// SimTime is the virtual clock.
	SimTime time.Time
	// Queue is how many incidents wait for units now.
	Queue int
	// Busy is how many units are away from their station now.
	Busy int
	// Done is true on the last call, when the drill has drained.
	Done bool
}

// Drill replays a stream into the engine's world of one drill and
// simulates the units. Make one with New; Run it once.
type Drill struct {
	cfg   Config
	eng   *dispatch.Engine
	log   *slog.Logger
	eta   *geo.ETA
	truth *Truth // nil: units move as the ETA model says
	now   time.Time
	fleet *teams.Fleet // the static unit table: ids, teams, stations, profiles, capabilities
	units []unitInfo   // by fleet number
	// stations are the stations' locations by id (move-ups name them).
	stations map[string]geo.Point
	types    map[string]*typeInfo
	fall     *typeInfo
	towns    map[string]int
	// families are the incident-type families, in catalogue order of first appearance
	families []string
	teams    []string // team ids, scenario order
	caps     map[string]int32

	heap     evHeap
	seq      uint64
	inflight map[string]*incState
	queue    map[string]*incState
	byCap    [][]*incState // queued incidents that could use each capability, most urgent first
	released []int32
	// cancelled are the seqs of scheduled events that no longer happen.
	cancelled map[uint64]bool
	busy      int
	decided   int
	stats     *collector
	err       error
	ran       bool
}

// unitInfo is what the drill adds to a unit of the fleet.
type unitInfo struct {
	team  int   // index into Scenario.Teams
	since int64 // unix ns it left available (busy)
	// The unit's part in its incident (inc): the requirement it was picked
	// for, whether it is a first responder, and whether it brings the
	// requirement's own capability (primary).
	inc     string
	req     string
	first   bool
	primary bool
	// ret and back are the seqs of its scheduled returning and available
	// events (a first responder's are replaced when it is relieved).
	ret, back uint64
	gen       uint32     // its current plan (simEvent.gen)
	base      *geo.Point // where it waits when the engine moved it up (nil: its station)
}

type typeInfo struct {
	code     string
	family   int16 // index into Drill.families
	priority int
	service  float64
	// fillers[capability asked] = capabilities that can fill it (itself and its substitutes)
	fillers map[string][]int32
}

// incState is what the drill tracks of an open incident.
type incState struct {
	id           string
	lat, lng     float64
	typ          *typeInfo
	priority     int
	town         int
	reported     int64
	service      time.Duration
	firstAssign  int64
	firstOnScene int64
	firstPrimary int64 // first unit of a requirement's own capability on scene
	firsts       int   // first responders sent
	// frs are its first responders on scene, waiting to be relieved;
	// relieved the requirements a unit picked for them is on scene for.
	frs        []int32
	relieved   []string
	needs      []int32 // capabilities that would fill its unit shortfalls (queued only)
	listed     []int32 // the capability lists of byCap it is in
	queued     int64   // when it entered the queue (0: not queued)
	everQueued bool
}

// New validates cfg, fills defaults and builds the drill's engine, whose
// clock is the drill's virtual clock and which dispatches every priority at
// once (ConfirmFrom 5: no dispatcher confirms in a drill).
func New(cfg Config) (*Drill, error) {
	if cfg.Scenario == nil {
		return nil, errors.New("drill: no scenario")
	}
	if cfg.Store == nil {
		return nil, errors.New("drill: no store")
	}
	if cfg.Drill == "" {
		return nil, errors.New("drill: no drill id (a drill never replays into live state)")
	}
	cfg.Turnout = TurnoutTime(cfg.Turnout)
	if !finite(cfg.ServiceSigma) || !finite(cfg.Speed) || cfg.Speed < 0 {
		return nil, errors.New("drill: service sigma and speed must be numbers, speed not negative")
	}
	cfg.ServiceSigma = ServiceSpread(cfg.ServiceSigma)
	if cfg.RestockEvery == 0 {
		cfg.RestockEvery = 7 * 24 * time.Hour
	}
	if cfg.Wall == nil {
		cfg.Wall = realWall{}
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 250 * time.Millisecond
	}
	if cfg.FillScan <= 0 {
		cfg.FillScan = 8
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	d := &Drill{cfg: cfg, log: cfg.Logger.With("component", "drill", "drill", cfg.Drill),
		types: map[string]*typeInfo{}, towns: map[string]int{}, caps: map[string]int32{},
		inflight: map[string]*incState{}, queue: map[string]*incState{}, cancelled: map[uint64]bool{}}
	switch cfg.Truth {
	case "", TruthModel:
		if cfg.KnowTruth {
			return nil, errors.New("drill: knowing the truth needs the delta truth")
		}
	case TruthDelta:
		t, err := NewTruth(TruthConfig{Scenario: cfg.Scenario, Spread: cfg.TruthSpread, Seed: cfg.Seed})
		if err != nil {
			return nil, fmt.Errorf("drill: %w", err)
		}
		d.truth = t
		if cfg.KnowTruth {
			cfg.Rank.TruthETA = t.Expected
			d.cfg.Rank.TruthETA = t.Expected
		}
	default:
		return nil, fmt.Errorf("drill: unknown truth %q (%s, %s)", cfg.Truth, TruthModel, TruthDelta)
	}
	moveUp := dispatch.MoveUpOff
	if cfg.MoveUp {
		moveUp = dispatch.MoveUpAuto
	}
	eng, err := dispatch.NewEngine(dispatch.EngineConfig{Scenario: cfg.Scenario, Store: cfg.Store, Rank: cfg.Rank,
		ConfirmFrom: 5, LinkRadiusM: cfg.LinkRadiusM, LinkWindow: cfg.LinkWindow, Clock: func() time.Time { return d.now },
		OnCommit: d.observe, Logger: cfg.Logger, MoveUp: moveUp, Divert: cfg.Divert, NoHistory: !cfg.History})
	if err != nil {
		return nil, fmt.Errorf("drill: %w", err)
	}
	d.eng = eng
	if d.eta, err = geo.NewETA(cfg.Scenario.ETA); err != nil {
		return nil, fmt.Errorf("drill: %w", err)
	}
	if err := d.index(); err != nil {
		return nil, fmt.Errorf("drill: %w", err)
	}
	d.stats = newCollector(d)
	return d, nil
}

// Engine returns the drill's engine (its world is the drill's; read only:
// acting on it changes the drill).
func (d *Drill) Engine() *dispatch.Engine { return d.eng }

func (d *Drill) capIdx(c string) int32 {
	i, ok := d.caps[c]
	if !ok {
		i = int32(len(d.caps))
		d.caps[c] = i
	}
	return i
}

// index builds the lookup tables of units (the fleet's, numbered as the
// fleet numbers them, capabilities too), teams, towns and types.
func (d *Drill) index() error {
	sc := d.cfg.Scenario
	teamIdx := map[string]int{}
	for i, t := range sc.Teams {
		teamIdx[t.ID] = i
		d.teams = append(d.teams, t.ID)
	}
	towns, err := geo.NewTowns(sc.Towns, 0)
	if err != nil {
		return err
	}
	// The fleet is only read (never searched): the plain index costs least to build.
	d.stations = make(map[string]geo.Point, len(sc.Stations))
	for _, st := range sc.Stations {
		d.stations[st.ID] = st.Location
	}
	if d.fleet, err = teams.NewFleet(teams.FleetConfig{Teams: sc.Teams, Stations: sc.Stations, Units: sc.Units,
		ETA: d.eta, Towns: towns, Index: "brute"}); err != nil {
		return err
	}
	for _, c := range d.fleet.Capabilities() {
		d.capIdx(c)
	}
	d.units = make([]unitInfo, d.fleet.Len())
	for i := range d.units {
		d.units[i].team = teamIdx[d.fleet.Record(int32(i)).Team()]
	}
	for i, t := range sc.Towns {
		d.towns[t.Code] = i
	}
	for i := range sc.Types {
		t := &sc.Types[i]
		fam := t.Family
		if fam == "" {
			fam = t.Code
		}
		fi := slices.Index(d.families, fam)
		if fi < 0 {
			fi = len(d.families)
			d.families = append(d.families, fam)
		}
		ti := &typeInfo{code: t.Code, family: int16(fi), priority: t.Priority, service: t.ServiceS, fillers: map[string][]int32{}}
		for _, r := range t.Plan.Units {
			f := []int32{d.capIdx(r.Capability)}
			for _, s := range r.Substitutes {
				f = append(f, d.capIdx(s))
			}
			ti.fillers[r.Capability] = f
		}
		d.types[t.Code] = ti
	}
	d.fall = d.types[sc.Fallback]
	if d.fall == nil {
		return fmt.Errorf("fallback type %q not in the catalogue", sc.Fallback)
	}
	return nil
}

// prefetch reads the source in its own goroutine, in batches, so that
// generating or decoding overlaps with the simulation.
type prefetch struct {
	ch   chan []dispatch.Incident
	err  chan error
	cur  []dispatch.Incident
	pos  int
	done bool
	free chan []dispatch.Incident
}

func startPrefetch(ctx context.Context, src Source) *prefetch {
	p := &prefetch{ch: make(chan []dispatch.Incident, 8), err: make(chan error, 1), free: make(chan []dispatch.Incident, 10)}
	go func() {
		defer close(p.ch)
		for {
			var batch []dispatch.Incident
			select {
			case batch = <-p.free:
				batch = batch[:0]
			default:
				batch = make([]dispatch.Incident, 0, 512)
			}
			for len(batch) < cap(batch) {
				inc, err := src.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					p.err <- err
					return
				}
				batch = append(batch, inc)
			}
			if len(batch) == 0 {
				return
			}
			select {
			case p.ch <- batch:
			case <-ctx.Done():
				p.err <- ctx.Err()
				return
			}
			if len(batch) < cap(batch) {
				return
			}
		}
	}()
	return p
}

// peek returns the next incident without consuming it.
func (p *prefetch) peek() (*dispatch.Incident, error) {
	for !p.done && p.pos >= len(p.cur) {
		if p.cur != nil {
			select {
			case p.free <- p.cur:
			default:
			}
		}
		b, ok := <-p.ch
		if !ok {
			p.done = true
			select {
			case err := <-p.err:
				return nil, err
			default:
			}
			break
		}
		p.cur, p.pos = b, 0
	}
	if p.done {
		return nil, nil
	}
	return &p.cur[p.pos], nil
}

func (p *prefetch) advance() { p.pos++ }

// Run replays src into the drill, simulates until every unit is back and
// no incident can be served any more, and returns what it measured. It
// fails when the drill id already has state in the store.
func (d *Drill) Run(ctx context.Context, src Source) (*Result, error) {
	if d.ran {
		return nil, errors.New("drill: already run")
	}
	d.ran = true
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	snap, err := d.cfg.Store.Load(ctx, d.cfg.Drill)
	if err != nil {
		return nil, fmt.Errorf("drill: %w", err)
	}
	if len(snap.Units) > 0 || len(snap.Open) > 0 {
		return nil, fmt.Errorf("drill: %q already has state in the store: use a new drill id", d.cfg.Drill)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pf := startPrefetch(ctx, src)
	var (
		wall0, lastProgress time.Time
		virt0               int64
		started             bool
		incs                = make([]dispatch.Incident, 1)
		evs                 []dispatch.UnitEvent
		steps               int
	)
	wall0 = d.cfg.Wall.Now()
	lastProgress = wall0
	for {
		next, err := pf.peek()
		if err != nil {
			return nil, fmt.Errorf("drill: source: %w", err)
		}
		tInc := int64(math.MaxInt64)
		if next != nil {
			tInc = next.ReportedAt.UnixNano()
			if !started {
				started, virt0 = true, tInc
				d.now = time.Unix(0, tInc).In(cst)
				d.stats.begin(tInc)
				if d.cfg.RestockEvery > 0 {
					d.push(simEvent{at: tInc + int64(d.cfg.RestockEvery), kind: evRestock})
				}
			}
		}
		d.purge()
		if next == nil && (d.heap.Len() == 0 || d.busy == 0) {
			break // no call left, every unit home: only deliveries remain
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		steps++
		if d.cfg.Speed > 0 || steps&255 == 0 {
			at := tInc
			if d.heap.Len() > 0 {
				at = min(at, d.heap.min().at)
			}
			if d.cfg.Speed > 0 {
				target := wall0.Add(time.Duration(float64(at-virt0) / d.cfg.Speed))
				if wait := target.Sub(d.cfg.Wall.Now()); wait > 0 {
					if err := d.cfg.Wall.Sleep(ctx, wait); err != nil {
						return nil, err
					}
				}
			}
			if d.cfg.Progress != nil {
				if now := d.cfg.Wall.Now(); now.Sub(lastProgress) >= d.cfg.ProgressEvery {
					lastProgress = now
					d.cfg.Progress(d.progress(false))
				}
			}
		}
		if d.heap.Len() > 0 && d.heap.min().at <= tInc {
			if d.heap.min().kind == evRestock {
				e := d.heap.pop()
				d.setNow(e.at)
				if err := d.restock(ctx, e.at); err != nil {
					return nil, err
				}
				d.push(simEvent{at: e.at + int64(d.cfg.RestockEvery), kind: evRestock})
				continue
			}
			first := d.heap.min().at
			// One instant at a time when the queue waits for the units this
			// instant frees, or when paced (consoles see each change at its time).
			oneInstant := len(d.queue) > 0 || d.cfg.Speed > 0
			// The batch stops before the first change its own events will
			// schedule (a unit on scene schedules its return), so that every
			// change is applied in time order.
			evs = evs[:0]
			spawn := int64(math.MaxInt64)
			for d.purge(); d.heap.Len() > 0; d.purge() {
				e := d.heap.min()
				if e.at > tInc || e.at >= spawn || e.kind == evRestock || (oneInstant && e.at != first) {
					break
				}
				ev := d.heap.pop()
				if d.stale(ev) {
					continue
				}
				if ev.kind == evReturning && d.cfg.MoveUp {
					// the engine may send the unit to another station: what
					// that schedules must come in time order
					spawn = min(spawn, ev.at+1)
				}
				if ev.kind == evOnScene {
					if st := d.inflight[ev.inc]; st != nil {
						spawn = min(spawn, ev.at+int64(st.service))
						if st.firsts > 0 {
							spawn = min(spawn, ev.at) // it may relieve a first responder, or be one relieved at once
						}
					}
				}
				evs = append(evs, d.unitEvent(ev))
			}
			if len(evs) == 0 {
				continue // only events of plans since replaced
			}
			d.setNow(evs[len(evs)-1].At.UnixNano())
			d.released = d.released[:0]
			var batch []dispatch.Incident
			if next != nil && !oneInstant && (d.heap.Len() == 0 || d.heap.min().at > tInc) && tInc < spawn {
				// every unit event due before the call is in: decide it in the same batch
				incs[0] = *next
				incs[0].Drill = d.cfg.Drill
				batch = incs
				pf.advance()
				d.setNow(tInc)
			}
			if err := d.process(ctx, batch, evs); err != nil {
				return nil, err
			}
			if len(d.released) > 0 && len(d.queue) > 0 {
				if err := d.fill(ctx); err != nil {
					return nil, err
				}
			}
			continue
		}
		incs[0] = *next
		incs[0].Drill = d.cfg.Drill
		pf.advance()
		d.setNow(tInc)
		if err := d.process(ctx, incs, nil); err != nil {
			return nil, err
		}
	}
	if f, ok := d.cfg.Store.(interface{ Flush(context.Context) error }); ok {
		if err := f.Flush(ctx); err != nil {
			return nil, fmt.Errorf("drill: %w", err)
		}
	}
	d.stats.end(d.now.UnixNano())
	if d.cfg.Progress != nil {
		d.cfg.Progress(d.progress(true))
	}
	return d.stats.result(), nil
}

// setNow moves the virtual clock; it never goes back (a record reported
// before the clock is decided at the clock's time).
func (d *Drill) setNow(ns int64) {
	if ns > d.now.UnixNano() {
		d.now = time.Unix(0, ns).In(cst)
	} else if ns < d.now.UnixNano() {
		d.stats.late++

	}
}

func (d *Drill) progress(done bool) Progress {
	return Progress{Incidents: d.decided, SimTime: d.now, Queue: len(d.queue), Busy: d.busy, Done: done}
}

// process hands a batch to the engine; observe runs from its OnCommit.
func (d *Drill) process(ctx context.Context, incs []dispatch.Incident, evs []dispatch.UnitEvent) error {
	rejects, err := d.eng.Process(ctx, incs, evs)
	if err != nil {
		return fmt.Errorf("drill: %w", err)
	}
	if len(rejects) > 0 {
		// The simulation only reports legal changes: a reject is a bug.
		r := rejects[0]
		return fmt.Errorf("drill: engine refused a simulated unit event (%s): %w", wire.ReasonOf(r.Err), r.Err)
	}
	d.decided += len(incs)
	return d.err
}

// restock tops every depot up to its scenario stock.
func (d *Drill) restock(ctx context.Context, at int64) error {
	for _, dep := range d.cfg.Scenario.Depots {
		for _, item := range sortedKeys(dep.Stock) {
			if q := dep.Stock[item] - d.stats.onHand(dep.ID, item); q > 0 {
				if err := d.eng.Restock(ctx, d.cfg.Drill, dep.ID, item, q); err != nil {
					return fmt.Errorf("drill: restock: %w", err)
				}
			}
		}
	}
	d.stats.restocks++
	return d.err
}

// serviceTime draws the time on scene of an incident (ServiceTime with
// the drill's seed and spread).
func (d *Drill) serviceTime(id string, mean float64) time.Duration {
	return ServiceTime(d.cfg.Seed, d.cfg.ServiceSigma, id, mean)
}

// ServiceTime is the time on scene a drill draws for an incident: log-normal
// around the type's mean meanS (seconds), whose log has the spread sigma (0:
// exactly the mean), from a hash of the seed and the incident id, so that it
// does not depend on the order of events. sigma is the spread in force, as
// ServiceSpread makes it from Config.ServiceSigma; the offline bound draws
// the replay's times with it.
func ServiceTime(seed uint64, sigma float64, id string, meanS float64) time.Duration {
	if sigma <= 0 || meanS <= 0 {
		return time.Duration(meanS * float64(time.Second))
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	x := h.Sum64() ^ seed*0x9e3779b97f4a7c15
	u1 := float64(splitmix(&x)>>11+1) / (1 << 53)
	u2 := float64(splitmix(&x)>>11) / (1 << 53)
	z := math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
	return time.Duration(meanS * math.Exp(sigma*z-sigma*sigma/2) * float64(time.Second))
}

// ServiceSpread is the spread of the time on scene that Config.ServiceSigma
// asks for: 0 is the default 0.5, a negative value none (every incident
// takes exactly its type's mean).
func ServiceSpread(sigma float64) float64 {
	if sigma == 0 {
		return 0.5
	}
	return max(sigma, 0)
}

// TurnoutTime is the turnout that Config.Turnout asks for: 0 is the default
// 60 s, a negative value none.
func TurnoutTime(turnout time.Duration) time.Duration {
	if turnout == 0 {
		return 60 * time.Second
	}
	return max(turnout, 0)
}

func splitmix(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
