package dispatch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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
	// store, with the cause: ReloadConflict (the store refused a write made
	// from a stale copy: another engine shares the store), ReloadStale (an
	// input refused against memory is tried again from the store) or
	// ReloadError (a store error). Optional; main counts them in a metric.
	OnReload func(cause string)
	// MaxRetries bounds how often a batch is re-decided after ErrConflict.
	// Default 5.
	MaxRetries int
	// Logger. Default slog.Default().
	Logger *slog.Logger
}

// Engine errors.
var (
	// ErrUnknownUnit: a unit event or action names a unit the scenario does not have.
	ErrUnknownUnit = errors.New("unknown unit")
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
	mu     sync.Mutex // guards worlds and everything inside them
	worlds map[string]*world
	// jsonBuf is the scratch buffer of event JSON, recJSON the JSON of
	// recent recommendations (both guarded by mu).
	jsonBuf []byte
	recJSON recCache
}

// world is the working state of one drill ("" = live).
type world struct {
	drill string
	state *State
	open  map[string]*IncidentRecord // incidents not closed or cancelled
	links *linkIndex
	// stored holds, for every open incident, the version the store has (as
	// loaded or as last written): the BaseVersion of the next change.
	stored map[string]int
	// seen is the store's last event Seq this world is known to reflect
	// (loaded with it, or written by this engine right after it); gap is
	// set when the engine's own events showed that another writer came in
	// between. Neither: nobody else has changed the store since (see
	// mayBeStaleLocked).
	seen int64
	gap  bool
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

// Reject is an input the engine refused, with the reason for the dead-letter record.
type Reject struct {
	Incident bool // true: Incidents[Index]; false: Units[Index]
	Index    int
	Reason   string
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
	}
	for i := range e.sc.Types {
		e.types[e.sc.Types[i].Code] = &e.sc.Types[i]
	}
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
	var units []UnitState
	for _, u := range st.Units() {
		units = append(units, UnitState{ID: u.ID, Status: u.Status, Lat: u.Lat, Lng: u.Lng, Since: u.Since})
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
	w := &world{drill: drill, state: st, open: map[string]*IncidentRecord{}, stored: map[string]int{},
		links: newLinkIndex(e.cfg.LinkRadiusM, e.cfg.LinkWindow), seen: snap.LastSeq}
	for _, u := range snap.Units {
		if err := st.Restore(u); err != nil {
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
	for i := range snap.Open {
		rec := snap.Open[i]
		w.open[rec.ID] = &rec
		w.stored[rec.ID] = rec.Version
		if rec.State != StateLinked && rec.HasLocation {
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
	if e.cfg.OnReload != nil {
		e.cfg.OnReload(cause)
	}
}

// errStale: a step refused an input that another engine sharing the store
// may have made legal; the step is undone and taken again from the store.
var errStale = errors.New("memory may be stale")

// commitLocked writes outs durably. Every outcome on an existing incident
// carries the version the engine read it at, so that a change made
// meanwhile by another engine on the same store fails with ErrConflict
// instead of being overwritten. On failure the worlds are reloaded (memory
// is ahead of the store); on success the stored versions move on.
func (e *Engine) commitLocked(ctx context.Context, outs []*Outcome) error {
	for _, o := range outs {
		if o.Incident != nil && !o.NewIncident {
			if w := e.worlds[o.Drill]; w != nil {
				o.BaseVersion = w.stored[o.Incident.ID]
			}
		}
	}
	freeze(outs)
	if err := e.store.Apply(ctx, outs); err != nil {
		cause := ReloadError
		if errors.Is(err, ErrConflict) {
			cause = ReloadConflict
		}
		e.reloadLocked(cause)
		return fmt.Errorf("store: %w", err)
	}
	var lo, hi int64 // the Seqs this write took (one block: the store numbers a write's events together)
	for _, o := range outs {
		for i := range o.Events {
			if sq := o.Events[i].Seq; sq > 0 {
				lo, hi = min(cmp.Or(lo, sq), sq), max(hi, sq)
			}
		}
		if o.Incident == nil {
			continue
		}
		w := e.worlds[o.Drill]
		if w == nil {
			continue
		}
		if _, open := w.open[o.Incident.ID]; open {
			w.stored[o.Incident.ID] = o.Incident.Version
		} else {
			delete(w.stored, o.Incident.ID)
		}
	}
	if hi > 0 {
		for _, w := range e.worlds {
			if lo == w.seen+1 {
				w.seen = hi
			} else {
				w.gap = true // somebody else wrote events since this world was read
			}
		}
	}
	return nil
}

// mayBeStaleLocked reports whether another writer may have changed the
// store since w was read: then an input refused against w may be legal
// against the store. With one engine on its store it is false (one cheap
// read), and a refused input costs no reload.
func (e *Engine) mayBeStaleLocked(ctx context.Context, w *world) bool {
	if w.gap {
		return true
	}
	n, err := e.store.LastSeq(ctx)
	return err != nil || n != w.seen
}

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
	var lastErr error
	fresh := false // the worlds were loaded from the store for this batch
	for attempt := 0; attempt <= e.cfg.MaxRetries; {
		rejects, outs, err := e.processOnce(ctx, incs, evs, fresh)
		if err == nil {
			if e.cfg.OnCommit != nil && len(outs) > 0 {
				e.cfg.OnCommit(outs)
			}
			return rejects, nil
		}
		lastErr = err
		fresh = true
		if errors.Is(err, errStale) {
			continue
		}
		if !errors.Is(err, ErrConflict) {
			return nil, err
		}
		attempt++
		e.log.Info("conflict, re-deciding the batch from the store", "err", err, "attempt", attempt)
	}
	return nil, fmt.Errorf("process: gave up after %d conflicts: %w", e.cfg.MaxRetries, lastErr)
}

func (e *Engine) processOnce(ctx context.Context, incs []Incident, evs []UnitEvent, fresh bool) ([]Reject, []*Outcome, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var (
		rejects []Reject
		outs    []*Outcome
	)
	// Unit events first: a status report that arrived in the same batch as an
	// incident makes the unit (un)available before the incident is ranked.
	for i := range evs {
		w, err := e.worldLocked(ctx, evs[i].Drill)
		if err != nil {
			return nil, nil, err
		}
		out, err := e.applyUnitEvent(w, &evs[i])
		if err != nil {
			// A report older than the unit's last change in memory is
			// older than the store's too: no reload can make it legal.
			if !fresh && errors.Is(err, ErrIllegalStatus) && !errors.Is(err, ErrStaleReport) && e.mayBeStaleLocked(ctx, w) {
				// Undo the step (nothing is written yet) and take it
				// again from the store, which may know better.
				e.reloadLocked(ReloadStale)
				return nil, nil, errStale
			}
			rejects = append(rejects, Reject{Index: i, Reason: rejectReason(err), Err: err})
			continue
		}
		if out != nil {
			outs = append(outs, out)
		}
		outs = append(outs, w.takeExtra()...)
	}
	// Incidents: skip those already decided (a redelivery after a crash).
	byDrill := map[string][]string{}
	for i := range incs {
		byDrill[incs[i].Drill] = append(byDrill[incs[i].Drill], incs[i].ID)
	}
	decided := map[string]map[string]bool{}
	for drill, ids := range byDrill {
		if _, err := e.worldLocked(ctx, drill); err != nil {
			return nil, nil, err
		}
		d, err := e.store.Decided(ctx, drill, ids)
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
	if len(outs) == 0 {
		return rejects, nil, nil
	}
	if err := e.commitLocked(ctx, outs); err != nil {
		return nil, nil, err
	}
	return rejects, outs, nil
}

// Act applies a dispatcher's or team leader's action and returns the
// incident as it is after the action, once the change is durable. As in
// Process, an action refused against memory not just loaded, or refused by
// the store as made from a stale copy, is taken again from the store.
func (e *Engine) Act(ctx context.Context, a Action) (*IncidentRecord, error) {
	if err := a.checkText(); err != nil {
		return nil, err
	}
	fresh := false
	for attempt := 0; ; attempt++ {
		rec, outs, err := e.actOnce(ctx, a, fresh)
		if err == nil {
			if e.cfg.OnCommit != nil && len(outs) > 0 {
				e.cfg.OnCommit(outs)
			}
			return rec, nil
		}
		if !errors.Is(err, errStale) && (!errors.Is(err, ErrConflict) || attempt >= e.cfg.MaxRetries) {
			return nil, err
		}
		fresh = true
	}
}

func (e *Engine) actOnce(ctx context.Context, a Action, fresh bool) (*IncidentRecord, []*Outcome, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	w, err := e.worldLocked(ctx, a.Drill)
	if err != nil {
		return nil, nil, err
	}
	outs, err := e.act(w, &a)
	if err != nil {
		// act validates before it mutates, so memory is untouched here.
		if !fresh && e.mayBeStaleLocked(ctx, w) {
			e.reloadLocked(ReloadStale)
			return nil, nil, fmt.Errorf("%w: %w", errStale, err)
		}
		return nil, nil, err
	}
	outs = append(outs, w.takeExtra()...)
	if err := e.commitLocked(ctx, outs); err != nil {
		return nil, nil, err
	}
	rec := w.open[a.Incident]
	if rec == nil {
		// closed or cancelled by this action: return what was written
		for _, o := range outs {
			if o.Incident != nil && o.Incident.ID == a.Incident {
				rec = o.Incident
			}
		}
	}
	if rec == nil {
		return nil, nil, fmt.Errorf("act: %w", ErrNotFound)
	}
	cp := cloneRecord(rec)
	return cp, outs, nil
}

// Incidents returns the open incidents of a drill, most urgent first
// (priority, then oldest first).
func (e *Engine) Incidents(drill string) []IncidentRecord {
	e.mu.Lock()
	defer e.mu.Unlock()
	w, ok := e.worlds[drill]
	if !ok {
		return nil
	}
	out := make([]IncidentRecord, 0, len(w.open))
	for _, r := range w.open {
		out = append(out, *cloneRecord(r))
	}
	slices.SortFunc(out, func(a, b IncidentRecord) int {
		if a.Priority != b.Priority {
			return a.Priority - b.Priority
		}
		if c := a.ReportedAt.Compare(b.ReportedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// Incident returns one incident of a drill, open (from memory) or closed
// (from the store).
func (e *Engine) Incident(ctx context.Context, drill, id string) (*IncidentRecord, error) {
	e.mu.Lock()
	if w, ok := e.worlds[drill]; ok {
		if r, ok := w.open[id]; ok {
			cp := cloneRecord(r)
			e.mu.Unlock()
			return cp, nil
		}
	}
	e.mu.Unlock()
	return e.store.Incident(ctx, drill, id)
}

// Units returns every unit of a drill's world, sorted by id.
func (e *Engine) Units(drill string) []UnitView {
	e.mu.Lock()
	defer e.mu.Unlock()
	w, ok := e.worlds[drill]
	if !ok {
		return nil
	}
	return w.state.Units()
}

// Depots returns every depot of a drill's world with what is available now.
func (e *Engine) Depots(drill string) []DepotView {
	e.mu.Lock()
	defer e.mu.Unlock()
	w, ok := e.worlds[drill]
	if !ok {
		return nil
	}
	return w.state.Depots()
}

// Drills returns the drills the engine holds a world for, sorted ("" excluded).
func (e *Engine) Drills() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for d := range e.worlds {
		if d != "" {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

// applyUnitEvent applies a status and/or position report. A refused report
// older than the unit's last change is marked ErrStaleReport.
func (e *Engine) applyUnitEvent(w *world, ev *UnitEvent) (*Outcome, error) {
	out, err := e.applyUnitEventAt(w, ev)
	if err != nil && errors.Is(err, ErrIllegalStatus) && !ev.At.IsZero() {
		if u, ok := w.state.Unit(ev.UnitID); ok && ev.At.Before(u.Since) {
			err = fmt.Errorf("%w (made %s, before the unit's last change %s): %w", ErrStaleReport,
				ev.At.Format(time.RFC3339Nano), u.Since.Format(time.RFC3339Nano), err)
		}
	}
	return out, err
}

func (e *Engine) applyUnitEventAt(w *world, ev *UnitEvent) (*Outcome, error) {
	u, ok := w.state.Unit(ev.UnitID)
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
		if err := teams.Transition(teams.Status(u.Status), to); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrIllegalStatus, err)
		}
		if to.Active() && u.Incident == "" && ev.Incident == "" {
			return nil, fmt.Errorf("%w: unit %s reported %s with no incident", ErrIllegalStatus, u.ID, to)
		}
		// A report that names another incident than the unit's is stale
		// (a terminal resending, or intake redelivering after a crash): it
		// must not move or clear the unit on the incident it is on now.
		if ev.Incident != "" && ev.Incident != u.Incident && ev.Status != u.Status {
			return nil, fmt.Errorf("%w: unit %s reported %s for incident %s but is %s on %q", ErrIllegalStatus, u.ID, to, ev.Incident, u.Status, u.Incident)
		}
	}
	if ev.HasPosition {
		ch, err := w.state.SetPosition(ev.UnitID, pointOf(ev.Lat, ev.Lng), at)
		if err != nil {
			return nil, fmt.Errorf("position: %w", err)
		}
		out.Units = append(out.Units, ch)
	}
	if ev.Status != "" && ev.Status != u.Status {
		outs, err := e.unitStatus(w, u.ID, teams.Status(ev.Status), at, "terminal")
		if err != nil {
			return nil, err
		}
		for _, o := range outs {
			out.Units = append(out.Units, o.Units...)
			out.Stock = append(out.Stock, o.Stock...)
			out.Events = append(out.Events, o.Events...)
			out.Outbox = append(out.Outbox, o.Outbox...)
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

func rejectReason(err error) string {
	switch {
	case errors.Is(err, ErrUnknownUnit):
		return ReasonUnknownUnit
	case errors.Is(err, ErrStaleReport):
		return ReasonStaleReport
	case errors.Is(err, ErrIllegalStatus):
		return ReasonIllegal
	default:
		return "rejected"
	}
}
