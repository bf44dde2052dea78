package dispatch

import (
	"errors"
	"fmt"
	"time"

	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

// Trip is one unit's completed trip to a scene, as its reports told it: from
// where it was when dispatched (From) to the incident (To), en route at
// Depart, on scene at Arrive. It travels in Outcome.Trips; a store that
// keeps what was learned adds Obs when Learned.
type Trip struct {
	Unit, Incident string
	From, To       geo.Point
	Depart, Arrive time.Time
	// ActualS is Arrive - Depart; PredictedS the travel time the engine
	// predicts for the trip when it arrives (before learning from it), from
	// Source (with Trips trips behind a learned correction).
	ActualS, PredictedS float64
	Source              geo.Source
	Trips               int
	// Learned: the trip passed the filter (geo.Travel.Observe) and was
	// learned from (Obs); Bad says why not when it did not pass.
	Learned bool
	Obs     geo.Observation
	Bad     string
}

// tripStart is what the state remembers of a unit's trip under way.
type tripStart struct {
	from   geo.Point
	at     int64 // dispatched (unix ns); 0: no trip
	depart int64 // en route (unix ns); 0: not yet
}

// placeCache is a unit's position and its travel cells.
type placeCache struct {
	p  geo.Point
	pl geo.Place
	ok bool
}

// Travel returns the world's travel-time rule (model, matrix, learned).
func (s *State) Travel() *geo.Travel { return s.tr }

// placeOf returns the travel cells of unit i's position (cached).
func (s *State) placeOf(i int32) geo.Place {
	p := s.fleet.Record(i).Position()
	c := &s.places[i]
	if !c.ok || c.p != p {
		*c = placeCache{p: p, pl: s.tr.PlaceOf(p), ok: true}
	}
	return c.pl
}

// unitSeconds is unit i's travel time over d metres from its position to q
// at local hour h: the ranker's ETA (without activation).
func (s *State) unitSeconds(i int32, d float64, h int, q geo.Place) float64 {
	return s.tr.Seconds(d, s.fleet.Record(i).Profile(), h, s.placeOf(i), q)
}

// trackTrip follows a unit's status for the trips it learns from.
func (s *State) trackTrip(id string, to teams.Status, at time.Time) {
	i, ok := s.fleet.Number(id)
	if !ok {
		return
	}
	t := &s.trips[i]
	switch to {
	case teams.StatusDispatched:
		*t = tripStart{from: s.fleet.Record(i).Position(), at: at.UnixNano()}
	case teams.StatusEnRoute:
		if t.at != 0 {
			t.depart = at.UnixNano()
		}
	case teams.StatusOnScene:
	default:
		*t = tripStart{}
	}
}

// restoreTrip rebuilds the trip under way of a unit loaded from the store:
// a dispatched or en route unit has not moved in the store since it was
// dispatched (it moves to the scene on scene), so its position is where the
// trip starts, and an en route unit's Since is its departure.
func (s *State) restoreTrip(u teams.UnitState) {
	i, ok := s.fleet.Number(u.ID)
	if !ok || u.Since.IsZero() {
		return
	}
	p := geo.Point{Lat: u.Lat, Lng: u.Lng}
	switch u.Status {
	case teams.StatusDispatched:
		s.trips[i] = tripStart{from: p, at: u.Since.UnixNano()}
	case teams.StatusEnRoute:
		s.trips[i] = tripStart{from: p, at: u.Since.UnixNano(), depart: u.Since.UnixNano()}
	}
}

// arrived completes the trip of a unit that reported on scene at the
// incident to at now: the error of the ETA, and (unless RankConfig.NoLearn)
// what to learn from it once the step is committed. ok is false when the unit had no trip
// under way (no dispatch, no en route report).
func (s *State) arrived(id, incident string, to geo.Point, now time.Time) (Trip, bool) {
	i, ok := s.fleet.Number(id)
	if !ok {
		return Trip{}, false
	}
	t := s.trips[i]
	s.trips[i] = tripStart{}
	if t.at == 0 || t.depart == 0 {
		return Trip{}, false
	}
	r := s.fleet.Record(i)
	dep := time.Unix(0, t.depart)
	pa, pb := s.tr.PlaceOf(t.from), s.tr.PlaceOf(to)
	est := s.tr.Between(pa, pb, r.Profile(), dep)
	tr := Trip{Unit: id, Incident: incident, From: t.from, To: to, Depart: dep, Arrive: now,
		ActualS: now.Sub(dep).Seconds(), PredictedS: est.Seconds, Source: est.Source, Trips: est.Trips}
	obs, err := s.tr.ObserveAt(geo.Trip{From: t.from, To: to, Depart: dep, Arrive: now, Profile: r.Profile()}, pa, pb)
	switch {
	case errors.Is(err, geo.ErrBadTrip):
		tr.Bad = err.Error()
	case err == nil && !s.cfg.NoLearn:
		tr.Learned, tr.Obs = true, obs // learned once committed (learnCommitted)
	}
	return tr, true
}

// learnCommitted adds the learned trips of a committed batch to the
// worlds' travel times, per world, as the stores add them.
func (e *Engine) learnCommitted(outs []*Outcome) {
	var by map[string][]geo.Observation
	for _, o := range outs {
		for i := range o.Trips {
			if o.Trips[i].Learned {
				if by == nil {
					by = map[string][]geo.Observation{}
				}
				by[o.Drill] = append(by[o.Drill], o.Trips[i].Obs)
			}
		}
	}
	for drill, obs := range by {
		if w := e.worlds[drill]; w != nil {
			w.state.tr.LearnBatch(obs)
		}
	}
}

// ETA returns the travel time of a unit of speed profile profile from one
// point to another leaving at at, in a drill's world ("" live), with where
// it came from (model, learned with its trips, matrix). It never waits on
// the store. Errors wrap ErrNotFound (no such world loaded) or
// geo.ErrUnknownProfile.
func (e *Engine) ETA(drill string, from, to geo.Point, profile string, at time.Time) (geo.Estimate, error) {
	e.vmu.Lock()
	v := e.views[drill]
	e.vmu.Unlock()
	if v == nil || v.travel == nil {
		return geo.Estimate{}, fmt.Errorf("eta: world %q: %w", drill, ErrNotFound)
	}
	p, err := v.travel.ETA().Profile(profile)
	if err != nil {
		return geo.Estimate{}, fmt.Errorf("eta: %w", err)
	}
	return v.travel.Estimate(from, to, p, at), nil
}
