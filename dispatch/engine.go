package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

// EngineConfig configures an Engine.
type EngineConfig struct {
	// Scenario is the city: towns, teams, units, depots, incident types. Required.
	Scenario *scenario.Scenario
	// Store is the durable truth the engine is rebuilt from and writes to. Required.
	Store Store
	// Rank configures the ranker (coverage weight, index kind). Defaults as in RankConfig.
	Rank RankConfig
	// ConfirmFrom is the first priority whose recommendations wait for a
	// dispatcher's confirmation: priorities below it are dispatched at once.
	// Default 3 (P1 and P2 dispatched at once, P3 and P4 recommended).
	// Set 5 to dispatch every priority at once.
	ConfirmFrom int
	// LinkRadiusM is how close a new call must be to an open incident of the
	// same type family to be linked to it as a duplicate. Default 150 m.
	// Negative disables linking.
	LinkRadiusM float64
	// LinkWindow is how recent (by reported_at) the open incident must be.
	// Default 10 minutes.
	LinkWindow time.Duration
	// Clock gives the engine's time (decided_at, event times). Default time.Now.
	// Drills pass a virtual clock so that a replay is deterministic.
	Clock func() time.Time
	// OnCommit is called, outside the engine lock, after outcomes are durable
	// (the hub and the outbox relay are woken from it). Optional.
	OnCommit func(outs []*Outcome)
	// OnReload is called, under the engine lock (it must not call the
	// engine), each time the worlds are dropped to be reloaded from the
	// store, with the cause: ReloadError (a store error: a write that may
	// or may not have committed), ReloadGap (the log cannot fill the gap,
	// follow.go), or ReloadConflict and ReloadStale when setting the rows
	// of a refused write back from the store failed. A conflict or a
	// refused input otherwise refreshes only the rows concerned
	// (OnRefresh). Optional; main counts them in a metric.
	OnReload func(cause string)
	// OnRefresh is called, under the engine lock (it must not call the
	// engine), after each refresh of a world from the store's log that
	// read events of other writers or set rows (follow.go). Optional;
	// main counts refreshes and rows and observes the lag.
	OnRefresh func(Refresh)
	// FollowEvery is how often Follow reads what other writers committed.
	// Default 5 ms.
	FollowEvery time.Duration
	// MaxRetries bounds how often a batch is re-decided after ErrConflict.
	// Default 5.
	MaxRetries int
	// FillOnClear makes every step offer the units that came free in it to
	// the open incidents still missing units, most urgent first (the live
	// queue; drills run their own queue and leave it off). Default off.
	FillOnClear bool
	// FillScan bounds the incidents a freed unit is offered to. Default 8.
	FillScan int
	// MoveUp is what the engine does to keep the city covered when units
	// leave their stations (DMEXCLP, see moveup.go): MoveUpOff (default),
	// MoveUpRecommend (unit.moveup events for a dispatcher to confirm) or
	// MoveUpAuto (drills: the engine moves the units).
	MoveUp string
	// Divert lets a P1 that no unit reaches within its target take a unit
	// on its way to a call of priority DivertFrom or lower (divert.go).
	// Default off.
	Divert bool
	// DivertFrom is the highest priority a unit may be diverted from.
	// Default 3 (P3 and P4 calls).
	DivertFrom int
	// NoHistory leaves out the history of incidents (Outcome.History,
	// Engine.History answers what the store has). Default off: every change
	// is kept with who made it.
	NoHistory bool
	// MoveUpPerDay caps the move-ups of one unit a day. Default 2.
	MoveUpPerDay int
	// MoveUpMinGain is the least gain of expected covered demand, as a
	// share of the city's (town populations), a move-up must bring.
	// Default 0.002.
	MoveUpMinGain float64
	// MoveUpDetourS is how much longer than the drive to its own station a
	// unit on its way back may drive to the station a move-up sends it to
	// (it is not available on the way). Default 120 s.
	MoveUpDetourS float64
	// Logger. Default slog.Default().
	Logger *slog.Logger
}

// Engine errors.
var (
	// ErrUnknownUnit: a unit event or action names a unit the scenario
	// does not have. It is teams.ErrUnknownUnit.
	ErrUnknownUnit = teams.ErrUnknownUnit
	// ErrIllegalStatus: a unit event asks for a status change the state machine refuses.
	ErrIllegalStatus = errors.New("illegal status change")
	// ErrStaleReport: a refused unit event (ErrIllegalStatus too) was made
	// before the unit's last change: a report delivered again.
	ErrStaleReport = errors.New("stale report")
)

// Engine decides incidents, applies unit events and console actions, and
// writes every change durably through its Store before it is visible. It is
// safe for concurrent use: one mutex serialises all changes (the decision
// path is microseconds; the store write is batched).
type Engine struct {
	cfg    EngineConfig
	sc     *scenario.Scenario
	store  Store
	log    *slog.Logger
	types  map[string]*scenario.IncidentType
	places map[string]scenario.Entry // the gazetteer by ref (ActLocate by place)
	mu     sync.Mutex                // guards worlds and everything inside them; taken before vmu
	worlds map[string]*world
	gen    uint64                // bumped (under mu) by every commit and refresh: Follow's check
	vmu    sync.Mutex            // guards views; never held across a store call
	views  map[string]*viewState // the read side of each world (view.go)
}

// world is the working state of one drill ("" = live).
type world struct {
	drill string
	state *State
	open  map[string]*IncidentRecord // incidents not closed or cancelled, linked calls apart
	// linked holds the duplicate calls linked to an open incident: they
	// close with it.
	linked map[string]*IncidentRecord
	// awaiting holds the open incidents whose recommendation waits for a
	// dispatcher (queue.go keeps them fresh).
	awaiting map[string]*IncidentRecord
	// cover is the move-up model (nil: EngineConfig.MoveUp off).
	cover *coverState
	links *linkIndex
	// backlog: the units the open incidents wait for (queue.go).
	backlog backlogCount
	// stored holds, for every open incident, the version the store has (as
	// loaded or as last written): the BaseVersion of the next change.
	stored map[string]int
	// seen is the store's last event Seq this world reflects (loaded with
	// it, refreshed up to it, or written by this engine right after it);
	// own are the Seqs past seen this engine wrote itself (a refresh skips
	// them). See follow.go.
	seen int64
	own  []SeqRange
	// extra collects outcomes a step produced for other incidents (linked
	// calls closed with their incident); drained by takeExtra.
	extra []*Outcome
}

func (w *world) takeExtra() []*Outcome {
	x := w.extra
	w.extra = nil
	return x
}

// freeze replaces the incident records of outs by copies, so that the store
// sees each outcome as it was when the step ended.
func freeze(outs []*Outcome) {
	for _, o := range outs {
		if o.Incident != nil {
			o.Incident = cloneRecord(o.Incident)
		}
	}
}

// Reject is an input the engine refused: Err says why (dispatch/wire
// turns it into the dead-letter reason).
type Reject struct {
	Incident bool // true: Incidents[Index]; false: Units[Index]
	Index    int
	Err      error
}

// NewEngine validates cfg, fills defaults and builds the engine. Worlds
// (live and drills) are loaded from the store on first use.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	if cfg.Scenario == nil {
		return nil, errors.New("engine: no scenario")
	}
	if cfg.Store == nil {
		return nil, errors.New("engine: no store")
	}
	if cfg.ConfirmFrom == 0 {
		cfg.ConfirmFrom = 3
	}
	if cfg.ConfirmFrom < 1 || cfg.ConfirmFrom > 5 {
		return nil, fmt.Errorf("engine: confirm-from priority %d out of 1-5", cfg.ConfirmFrom)
	}
	if cfg.LinkRadiusM == 0 {
		cfg.LinkRadiusM = 150
	}
	if cfg.LinkWindow == 0 {
		cfg.LinkWindow = 10 * time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 5
	}
	if cfg.FollowEvery <= 0 {
		cfg.FollowEvery = 5 * time.Millisecond
	}
	if cfg.FillScan <= 0 {
		cfg.FillScan = 8
	}
	switch cfg.MoveUp {
	case "":
		cfg.MoveUp = MoveUpOff
	case MoveUpOff, MoveUpRecommend, MoveUpAuto:
	default:
		return nil, fmt.Errorf("engine: move-up %q: want off, recommend or auto", cfg.MoveUp)
	}
	if cfg.DivertFrom <= 0 {
		cfg.DivertFrom = 3
	}
	if cfg.MoveUpPerDay <= 0 {
		cfg.MoveUpPerDay = 2
	}
	if cfg.MoveUpMinGain <= 0 {
		cfg.MoveUpMinGain = 0.002
	}
	if cfg.MoveUpDetourS <= 0 {
		cfg.MoveUpDetourS = 120
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	e := &Engine{
		cfg:    cfg,
		sc:     cfg.Scenario,
		store:  cfg.Store,
		log:    cfg.Logger.With("component", "engine"),
		types:  map[string]*scenario.IncidentType{},
		worlds: map[string]*world{},
		views:  map[string]*viewState{},
	}
	for i := range e.sc.Types {
		e.types[e.sc.Types[i].Code] = &e.sc.Types[i]
	}
	e.places = placesByRef(e.sc)
	if _, ok := e.types[e.sc.Fallback]; !ok {
		return nil, fmt.Errorf("engine: fallback type %q not in catalogue", e.sc.Fallback)
	}
	// Build one state now so that a bad scenario fails at start, not at the first call.
	if _, err := NewState(e.sc, cfg.Rank); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	return e, nil
}

// Scenario returns the engine's scenario (read only).
func (e *Engine) Scenario() *scenario.Scenario { return e.sc }

// Start loads the live world from the store (seeding it on first start), so
// that a bad database fails fast rather than at the first incident.
func (e *Engine) Start(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, err := e.worldLocked(ctx, "")
	return err
}

// worldLocked returns the world of a drill, loading it from the store on first use.
func (e *Engine) worldLocked(ctx context.Context, drill string) (*world, error) {
	if w, ok := e.worlds[drill]; ok {
		return w, nil
	}
	w, err := e.load(ctx, drill)
	if err != nil {
		return nil, err
	}
	e.worlds[drill] = w
	e.installViewLocked(w)
	return w, nil
}

// load rebuilds a world from the store; a world the store has never seen is
// seeded with the scenario's defaults (units at their stations, full stock).
func (e *Engine) load(ctx context.Context, drill string) (*world, error) {
	st, err := NewState(e.sc, e.cfg.Rank)
	if err != nil {
		return nil, fmt.Errorf("load %q: %w", drill, err)
	}
	// Seed what the store has never seen, so constraints have rows to hold.
	var units []teams.UnitState
	for _, u := range st.unitViews() {
		units = append(units, teams.UnitState{ID: u.ID, Status: u.Status, Lat: u.Lat, Lng: u.Lng, Since: u.Since})
	}
	if err := e.store.SeedUnits(ctx, drill, units); err != nil {
		return nil, fmt.Errorf("seed units: %w", err)
	}
	var levels []resources.Level
	for _, l := range st.Inventory().Levels() {
		levels = append(levels, resources.Level{Depot: l.Depot, Item: l.Item, OnHand: l.OnHand, Reserved: l.Reserved})
	}
	if err := e.store.SeedStock(ctx, drill, levels); err != nil {
		return nil, fmt.Errorf("seed stock: %w", err)
	}
	snap, err := e.store.Load(ctx, drill)
	if err != nil {
		return nil, fmt.Errorf("load %q: %w", drill, err)
	}
	w := &world{drill: drill, state: st, open: map[string]*IncidentRecord{}, linked: map[string]*IncidentRecord{}, awaiting: map[string]*IncidentRecord{}, stored: map[string]int{},
		links: newLinkIndex(e.cfg.LinkRadiusM, e.cfg.LinkWindow), seen: snap.LastSeq}
	st.tr.Restore(snap.Travel)
	for _, u := range snap.Units {
		if err := st.restore(u); err != nil {
			return nil, fmt.Errorf("restore unit %s: %w", u.ID, err)
		}
	}
	inv := st.Inventory()
	for _, l := range snap.Stock {
		if err := inv.SetLevel(l.Depot, l.Item, l.OnHand, l.Reserved); err != nil {
			return nil, fmt.Errorf("restore stock: %w", err)
		}
	}
	for _, r := range snap.Reservations {
		if err := inv.Restore(reservationOf(r)); err != nil {
			return nil, fmt.Errorf("restore reservation %s: %w", r.Reservation, err)
		}
	}
	if e.cfg.MoveUp != MoveUpOff {
		w.cover = e.newCoverState(st)
	}
	for i := range snap.Open {
		rec := snap.Open[i]
		w.stored[rec.ID] = rec.Version
		if rec.State == StateLinked {
			w.linked[rec.ID] = &rec
			continue
		}
		w.open[rec.ID] = &rec
		w.setAwaiting(&rec)
		w.backlog.set(rec.ID, &rec)
		if rec.HasLocation {
			w.links.add(&rec, e.family(rec.Type))
		}
	}
	return w, nil
}

// Causes of a reload, as passed to EngineConfig.OnReload.
const (
	ReloadConflict = "conflict"
	ReloadStale    = "stale"
	ReloadError    = "error"
)

// reload drops the in-memory worlds so that they are rebuilt from the store:
// used after a failed or conflicting write, when memory may be ahead of the
// truth, and when an input is refused against memory that may be behind it.
func (e *Engine) reloadLocked(cause string) {
	e.worlds = map[string]*world{}
	e.gen++
	if e.cfg.OnReload != nil {
		e.cfg.OnReload(cause)
	}
}

// errStale: a step refused an input that another engine sharing the store
// may have made legal; the step is undone and taken again from the store.
var errStale = errors.New("memory may be stale")

// Process decides a batch of incidents and applies a batch of unit events,
// writes all of it durably in one store transaction, and returns only then.
// Redelivered incidents (already decided) are skipped: the store's unique
// constraint is the guard, checked first with Decided. Entries the engine
// refuses (unknown unit, illegal status change) are returned as rejects and
// change nothing. On a store error nothing is kept in memory either: the
// worlds are reloaded from the store and the caller retries the batch.
//
// Several engines may share one store (a consumer group): the store refuses
// a change made from a stale copy (ErrConflict) and the batch is decided
// again from the store, up to MaxRetries times. A unit event refused
// against memory that was not just loaded is not refused yet: the worlds
// are reloaded once and the batch taken again, since the report may follow
// a change another engine made (a unit it dispatched).
func (e *Engine) Process(ctx context.Context, incs []Incident, evs []UnitEvent) ([]Reject, error) {
	var rejects []Reject
	_, err := e.step(ctx, "process", func(t *txn) ([]*Outcome, error) {
		var outs []*Outcome
		var err error
		rejects, outs, err = e.process(t, incs, evs)
		return outs, err
	})
	if err != nil {
		return nil, err
	}
	return rejects, nil
}

// process is the change of Process.
func (e *Engine) process(t *txn, incs []Incident, evs []UnitEvent) ([]Reject, []*Outcome, error) {
	var (
		rejects []Reject
		outs    []*Outcome
	)
	// Unit events first: a status report that arrived in the same batch as an
	// incident makes the unit (un)available before the incident is ranked.
	for i := range evs {
		w, err := t.world(evs[i].Drill)
		if err != nil {
			return nil, nil, err
		}
		out, err := e.applyUnitEvent(w, &evs[i])
		if err != nil {
			// A report older than the unit's last change in memory is
			// older than the store's too: no reload can make it legal.
			if errors.Is(err, ErrIllegalStatus) && !errors.Is(err, ErrStaleReport) {
				if err := t.refused(w, err); errors.Is(err, errStale) {
					return nil, outs, err // the step sets outs' rows back
				}
			}
			rejects = append(rejects, Reject{Index: i, Err: err})
			continue
		}
		if out != nil {
			outs = append(outs, out)
		}
		outs = append(outs, w.takeExtra()...)
	}
	t.reports = len(outs)
	// Incidents: skip those already decided (a redelivery after a crash).
	byDrill := map[string][]string{}
	for i := range incs {
		byDrill[incs[i].Drill] = append(byDrill[incs[i].Drill], incs[i].ID)
	}
	decided := map[string]map[string]bool{}
	for drill, ids := range byDrill {
		if _, err := t.world(drill); err != nil {
			return nil, nil, err
		}
		d, err := e.store.Decided(t.ctx, drill, ids)
		if err != nil {
			e.reloadLocked(ReloadError)
			return nil, nil, fmt.Errorf("decided: %w", err)
		}
		decided[drill] = d
	}
	seen := map[string]bool{}
	for i := range incs {
		inc := &incs[i]
		key := inc.Drill + "\x00" + inc.ID
		if decided[inc.Drill][inc.ID] || seen[key] {
			continue // idempotent: decided before, or twice in this batch
		}
		seen[key] = true
		w := e.worlds[inc.Drill]
		if _, open := w.open[inc.ID]; open {
			continue
		}
		outs = append(outs, e.decide(w, inc)...)
	}
	return rejects, outs, nil
}

// Act applies a dispatcher's or team leader's action and returns the
// incident as it is after the action, once the change is durable (nil for
// a unit status report of a unit on no incident). As in Process, an action
// refused against memory not just loaded, or refused by the store as made
// from a stale copy, is taken again from the store.
func (e *Engine) Act(ctx context.Context, a Action) (*IncidentRecord, error) {
	if err := a.checkText(); err != nil {
		return nil, err
	}
	var rec *IncidentRecord
	_, err := e.step(ctx, "act", func(t *txn) ([]*Outcome, error) {
		t.actor = &a
		w, err := t.world(a.Drill)
		if err != nil {
			return nil, err
		}
		outs, err := e.act(w, &a)
		switch {
		case err != nil && len(outs) > 0:
			t.answer = err // written, then refused (ErrChanged)
		case err != nil:
			// act validates before it mutates, so memory is untouched here.
			return nil, t.refused(w, err)
		}
		rec = w.open[a.Incident]
		if rec == nil {
			// closed or cancelled by this action: return what was written
			for _, o := range outs {
				if o.Incident != nil && o.Incident.ID == a.Incident {
					rec = o.Incident
				}
			}
		}
		if rec != nil {
			rec = cloneRecord(rec)
		}
		return outs, nil
	})
	if err != nil {
		return nil, err
	}
	if rec == nil && a.Incident != "" && !unitKind(a.Kind) {
		return nil, fmt.Errorf("act: %w", ErrNotFound)
	}
	return rec, nil
}

// applyUnitEvent applies a status and/or position report. A refused report
// older than the unit's last change is marked ErrStaleReport.
func (e *Engine) applyUnitEvent(w *world, ev *UnitEvent) (*Outcome, error) {
	out, err := e.applyUnitEventAt(w, ev)
	if err != nil && errors.Is(err, ErrIllegalStatus) && !ev.At.IsZero() {
		if u, ok := w.state.unit(ev.UnitID); ok && ev.At.Before(u.Since) {
			err = fmt.Errorf("%w (made %s, before the unit's last change %s): %w", ErrStaleReport,
				ev.At.Format(time.RFC3339Nano), u.Since.Format(time.RFC3339Nano), err)
		}
	}
	return out, err
}

func (e *Engine) applyUnitEventAt(w *world, ev *UnitEvent) (*Outcome, error) {
	u, ok := w.state.unit(ev.UnitID)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownUnit, ev.UnitID)
	}
	out := &Outcome{Drill: w.drill}
	at := ev.At
	if at.IsZero() {
		at = e.cfg.Clock()
	}
	if ev.Status != "" {
		to, err := teams.ParseStatus(ev.Status)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrIllegalStatus, err)
		}
		if err := teams.Transition(u.Status, to); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrIllegalStatus, err)
		}
		if to.Active() && u.Incident == "" && ev.Incident == "" {
			return nil, fmt.Errorf("%w: unit %s reported %s with no incident", ErrIllegalStatus, u.ID, to)
		}
		// A report that names another incident than the unit's is stale
		// (a terminal resending, or intake redelivering after a crash): it
		// must not move or clear the unit on the incident it is on now.
		if ev.Incident != "" && ev.Incident != u.Incident && teams.Status(ev.Status) != u.Status {
			return nil, fmt.Errorf("%w: unit %s reported %s for incident %s but is %s on %q", ErrIllegalStatus, u.ID, to, ev.Incident, u.Status, u.Incident)
		}
	}
	if ev.HasPosition {
		ch, err := w.state.setPosition(ev.UnitID, pointOf(ev.Lat, ev.Lng), at)
		if err != nil {
			return nil, fmt.Errorf("position: %w", err)
		}
		out.Units = append(out.Units, ch)
	}
	if ev.Status != "" && teams.Status(ev.Status) != u.Status {
		outs, err := e.unitStatus(w, u.ID, teams.Status(ev.Status), at, "terminal")
		if err != nil {
			return nil, err
		}
		for _, o := range outs {
			out.Units = append(out.Units, o.Units...)
			out.Stock = append(out.Stock, o.Stock...)
			out.Events = append(out.Events, o.Events...)
			out.Outbox = append(out.Outbox, o.Outbox...)
			out.Trips = append(out.Trips, o.Trips...)
			if o.Incident != nil {
				out.Incident = o.Incident
			}
		}
	}
	if len(out.Units) == 0 && out.Incident == nil {
		return nil, nil
	}
	return out, nil
}
