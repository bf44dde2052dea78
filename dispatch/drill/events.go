package drill

import (
	"slices"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

// Kinds of simulation events.
const (
	evEnRoute uint8 = iota
	evOnScene
	evReturning
	evAvailable
	evRestock
)

// simEvent is a future change: a unit's next status, or a delivery.
type simEvent struct {
	at   int64 // unix ns
	seq  uint64
	kind uint8
	unit int32
	gen  uint32 // the unit's plan it belongs to: a newer plan drops it (move-up)
	inc  string
}

// evHeap is a binary min-heap of events by (at, seq).
type evHeap struct{ a []simEvent }

func (h *evHeap) Len() int       { return len(h.a) }
func (h *evHeap) min() *simEvent { return &h.a[0] }
func (h *evHeap) less(i, j int) bool {
	if h.a[i].at != h.a[j].at {
		return h.a[i].at < h.a[j].at
	}
	return h.a[i].seq < h.a[j].seq
}

func (h *evHeap) push(e simEvent) {
	h.a = append(h.a, e)
	i := len(h.a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.a[i], h.a[p] = h.a[p], h.a[i]
		i = p
	}
}

func (h *evHeap) pop() simEvent {
	top := h.a[0]
	n := len(h.a) - 1
	h.a[0] = h.a[n]
	h.a = h.a[:n]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h.less(l, m) {
			m = l
		}
		if r < n && h.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h.a[i], h.a[m] = h.a[m], h.a[i]
		i = m
	}
	return top
}

func (d *Drill) push(e simEvent) uint64 {
	d.seq++
	e.seq = d.seq
	if e.kind != evRestock {
		e.gen = d.units[e.unit].gen
	}
	d.heap.push(e)
	return e.seq
}

// purge drops the cancelled events at the top of the heap.
func (d *Drill) purge() {
	for len(d.cancelled) > 0 && d.heap.Len() > 0 && d.cancelled[d.heap.min().seq] {
		delete(d.cancelled, d.heap.pop().seq)
	}
}

// stale reports whether a unit's event belongs to a plan since replaced
// (the engine moved the unit up, or re-dispatched it while relocating).
func (d *Drill) stale(e simEvent) bool {
	return e.kind != evRestock && e.gen != d.units[e.unit].gen
}

// base is where a unit waits now: its station, or where the engine moved
// it up to.
func (d *Drill) base(ui int32) geo.Point {
	if b := d.units[ui].base; b != nil {
		return *b
	}
	return d.fleet.Record(ui).Home()
}

// unitEvent is the terminal report a simulation event stands for.
func (d *Drill) unitEvent(e simEvent) dispatch.UnitEvent {
	u := d.fleet.Record(e.unit)
	ev := dispatch.UnitEvent{UnitID: u.ID(), At: time.Unix(0, e.at).In(cst), Drill: d.cfg.Drill, Incident: e.inc}
	switch e.kind {
	case evEnRoute:
		ev.Status = string(teams.StatusEnRoute)
	case evOnScene:
		ev.Status = string(teams.StatusOnScene)
	case evReturning:
		ev.Status = string(teams.StatusReturning)
		ev.Incident = ""
	case evAvailable:
		// back at the station
		ev.Status = string(teams.StatusAvailable)
		ev.Incident = ""
		home := d.base(e.unit)
		ev.HasPosition, ev.Lat, ev.Lng = true, home.Lat, home.Lng
	}
	return ev
}

// observe follows the engine's committed outcomes: it registers decisions,
// schedules each assigned unit's trip, work and return, keeps the queue of
// incidents waiting for units, and feeds the statistics.
func (d *Drill) observe(outs []*dispatch.Outcome) {
	for _, o := range outs {
		if o.Drill != d.cfg.Drill {
			continue
		}
		rec := o.Incident
		if rec != nil && o.NewIncident {
			d.decision(rec)
		}
		for i := range o.Units {
			d.unitChange(&o.Units[i], rec)
		}
		for i := range o.Stock {
			d.stats.stock(&o.Stock[i], d.now.UnixNano())
		}
		for i := range o.Trips {
			d.stats.trip(&o.Trips[i])
		}
		if rec != nil {
			d.incidentChange(rec)
		}
	}
}

// decision registers a new incident.
func (d *Drill) decision(rec *dispatch.IncidentRecord) {
	d.stats.call(rec)
	if rec.State == dispatch.StateLinked || rec.State == dispatch.StateManual {
		return
	}
	typ := d.types[rec.Type]
	if typ == nil {
		typ = d.fall
	}
	town, ok := d.towns[rec.Town]
	if !ok {
		town = -1
	}
	st := &incState{id: rec.ID, lat: rec.Lat, lng: rec.Lng, typ: typ, priority: rec.Priority, town: town,
		reported: rec.ReportedAt.UnixNano(), service: d.serviceTime(rec.ID, typ.service)}
	d.inflight[rec.ID] = st
}

// unitChange schedules what a unit does next.
func (d *Drill) unitChange(u *teams.UnitChange, rec *dispatch.IncidentRecord) {
	ui, ok := d.fleet.Number(u.UnitID)
	if !ok {
		return
	}
	if u.OldStatus == u.NewStatus {
		if u.Station != "" { // a unit on its way back sent to another station
			d.movedUp(ui, u, u.At.UnixNano())
		}
		return
	}
	unit, ur := &d.units[ui], d.fleet.Record(ui)
	at := u.At.UnixNano()
	d.stats.touch(at)
	if u.Station != "" {
		d.movedUp(ui, u, at)
	}
	if u.OldStatus == teams.StatusAvailable {
		unit.since = at
		d.busy++
	}
	switch u.NewStatus {
	case teams.StatusDispatched:
		st := d.inflight[u.Incident]
		if st == nil || rec == nil || rec.Rec == nil {
			d.fail("unit %s dispatched to untracked incident %s", u.UnitID, u.Incident)
			return
		}
		eta := -1.0
		var pick *dispatch.UnitPick
		for i, p := range rec.Rec.Units {
			if p.UnitID == u.UnitID {
				eta, pick = p.EtaS, &rec.Rec.Units[i]
				if p.DivertedFrom != "" {
					d.stats.diversions++
				}
			}
		}
		if eta < 0 {
			d.fail("unit %s dispatched to %s without a pick", u.UnitID, u.Incident)
			return
		}
		unit.inc, unit.req, unit.first, unit.primary = u.Incident, pick.Requirement, pick.FirstResponder,
			!pick.FirstResponder && pick.Capability == pick.Requirement
		if unit.first {
			st.firsts++
		}
		if st.firstAssign == 0 {
			st.firstAssign = at
		}
		if ur.Reserve() {
			d.stats.reserve(unit.team, st.priority, at)
		}
		unit.gen++ // a new plan: what was scheduled for a relocation goes
		leave := at + int64(d.cfg.Turnout)
		depart := leave + int64(ur.ActivationDelay())
		arrive := leave + int64(eta*float64(time.Second))
		if d.truth != nil {
			// the unit drives by the truth from where the engine has it
			from, to := geo.Point{Lat: u.Lat, Lng: u.Lng}, geo.Point{Lat: st.lat, Lng: st.lng}
			arrive = depart + int64(d.truth.Trip(from, to, ur.Profile(), time.Unix(0, depart), u.UnitID, u.Incident))
		}
		d.push(simEvent{at: depart, kind: evEnRoute, unit: ui, inc: u.Incident})
		d.push(simEvent{at: arrive, kind: evOnScene, unit: ui, inc: u.Incident})
	case teams.StatusOnScene:
		st := d.inflight[u.Incident]
		if st == nil {
			d.fail("unit %s on scene of untracked incident %s", u.UnitID, u.Incident)
			return
		}
		if st.firstOnScene == 0 {
			st.firstOnScene = at
		}
		if unit.primary && st.firstPrimary == 0 {
			st.firstPrimary = at
		}
		switch {
		case unit.first && slices.Contains(st.relieved, unit.req):
			d.leave(ui, st, at) // the requirement's unit is there already
		case unit.first:
			d.leave(ui, st, at+int64(st.service)) // work, unless relieved
			st.frs = append(st.frs, ui)
		default:
			d.leave(ui, st, at+int64(st.service)) // work, then drive back to the station
			if st.firsts > 0 && !slices.Contains(st.relieved, unit.req) {
				st.relieved = append(st.relieved, unit.req)
				d.relieve(st, unit.req, at)
			}
		}
	case teams.StatusReturning:
		d.dropFirst(ui)
	case teams.StatusAvailable:
		d.dropFirst(ui)
		if unit.since != 0 {
			d.stats.busyTime(unit.team, unit.since, at)
			unit.since = 0
			d.busy--
		}
		d.released = append(d.released, ui)
	}
}

// leave schedules a unit's return: it clears at clear and drives back to
// its station.
func (d *Drill) leave(ui int32, st *incState, clear int64) {
	unit, ur := &d.units[ui], d.fleet.Record(ui)
	back := d.drive(geo.Point{Lat: st.lat, Lng: st.lng}, d.base(ui), ur.Profile(), clear)
	unit.ret = d.push(simEvent{at: clear, kind: evReturning, unit: ui})
	unit.back = d.push(simEvent{at: clear + int64(back*float64(time.Second)), kind: evAvailable, unit: ui})
}

// relieve sends back, at at, the first responders on scene of st for the
// requirement req: a unit picked for it has arrived and secures the scene.
func (d *Drill) relieve(st *incState, req string, at int64) {
	st.frs = slices.DeleteFunc(st.frs, func(ui int32) bool {
		if d.units[ui].req != req {
			return false
		}
		d.cancelled[d.units[ui].ret], d.cancelled[d.units[ui].back] = true, true
		d.leave(ui, st, at)
		return true
	})
}

// dropFirst forgets a first responder that left its incident.
func (d *Drill) dropFirst(ui int32) {
	unit := &d.units[ui]
	if unit.first {
		if st := d.inflight[unit.inc]; st != nil {
			st.frs = slices.DeleteFunc(st.frs, func(u int32) bool { return u == ui })
		}
	}
	unit.inc, unit.req, unit.first, unit.primary = "", "", false, false
}

// fail records the first inconsistency between the engine and the simulation.
func (d *Drill) fail(format string, args ...any) {
	if d.err == nil {
		d.err = errorf(format, args...)
	}
}

// movedUp follows a move-up the engine made: the unit now waits at another
// station, and drives there from where it is (it arrives available).
func (d *Drill) movedUp(ui int32, u *teams.UnitChange, at int64) {
	p, ok := d.stations[u.Station]
	if !ok {
		d.fail("unit %s moved up to unknown station %s", u.UnitID, u.Station)
		return
	}
	unit := &d.units[ui]
	unit.base = &p
	unit.gen++
	d.stats.moveUp(at)
	from := geo.Point{Lat: u.Lat, Lng: u.Lng}
	back := d.drive(from, p, d.fleet.Record(ui).Profile(), at)
	d.push(simEvent{at: at + int64(back*float64(time.Second)), kind: evAvailable, unit: ui})
}

// drive is the time in seconds of a drive back or to another station,
// leaving at at: by the truth (without its spread) when the drill has one,
// else by the ETA model.
func (d *Drill) drive(from, to geo.Point, profile int, at int64) float64 {
	h := d.eta.Hour(time.Unix(0, at))
	if d.truth != nil {
		return d.truth.Expected(from, to, profile, h)
	}
	return d.eta.Seconds(geo.DistanceM(from, to), profile, h)
}
