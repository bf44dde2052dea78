package web

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

// StatusBackend is implemented by a Backend that takes unit status reports
// as a vehicle terminal sends them (dispatch.Engine's Process does): the
// team leader's "returning" and "available". Refused status changes come
// back as rejects.
type StatusBackend interface {
	Process(ctx context.Context, incs []dispatch.Incident, evs []dispatch.UnitEvent) ([]dispatch.Reject, error)
}

// errUnsupported: the backend cannot do what the action needs (HTTP 501).
var errUnsupported = errors.New("not supported by this server")

// unitOf returns the live state of one unit of a world.
func (s *Server) unitOf(world, id string) (teams.UnitView, error) {
	for _, u := range s.cfg.Backend.Units(world) {
		if u.ID == id {
			return u, nil
		}
	}
	return teams.UnitView{}, fmt.Errorf("unit %q: %w", id, dispatch.ErrNotFound)
}

// reportStatus applies a team leader's "returning" or "available" for a
// unit. a has passed authorizeKind and the team check. An Incident on the
// action must be the unit's current one (a console acting on stale data
// gets 409).
func (s *Server) reportStatus(ctx context.Context, a dispatch.Action) (*dispatch.IncidentRecord, error) {
	u, err := s.unitOf(a.Drill, a.Unit)
	if err != nil {
		return nil, err
	}
	if a.Incident != "" && u.Incident != a.Incident {
		return nil, fmt.Errorf("%s: unit %s is %s and not on incident %s: %w", a.Kind, u.ID, u.Status, a.Incident, dispatch.ErrBadAction)
	}
	status := teams.StatusReturning
	if a.Kind == KindAvailable {
		status = teams.StatusAvailable
		switch teams.Status(u.Status) {
		case teams.StatusAvailable:
			return nil, fmt.Errorf("available: unit %s is already available: %w", u.ID, dispatch.ErrBadAction)
		case teams.StatusDispatched, teams.StatusEnRoute:
			return nil, fmt.Errorf("available: unit %s is %s on incident %s: decline the assignment with a reason instead: %w", u.ID, u.Status, u.Incident, dispatch.ErrBadAction)
		case teams.StatusOnScene:
			if u.Incident != "" {
				clear := a
				clear.Kind, clear.Incident = dispatch.ActClear, u.Incident
				return s.cfg.Backend.Act(ctx, clear)
			}
		}
	}
	sb, ok := s.cfg.Backend.(StatusBackend)
	if !ok {
		return nil, fmt.Errorf("%s: %w", a.Kind, errUnsupported)
	}
	rejects, err := sb.Process(ctx, nil, []dispatch.UnitEvent{{UnitID: u.ID, Status: string(status), Drill: a.Drill}})
	if err != nil {
		return nil, err
	}
	if len(rejects) > 0 {
		r := rejects[0]
		if errors.Is(r.Err, dispatch.ErrUnknownUnit) {
			return nil, fmt.Errorf("%s: %w: %w", a.Kind, r.Err, dispatch.ErrNotFound)
		}
		return nil, fmt.Errorf("%s: %w: %w", a.Kind, r.Err, dispatch.ErrBadAction)
	}
	if u.Incident == "" {
		return nil, nil
	}
	// The report is applied; the incident is only informative.
	if rec, err := s.cfg.Backend.Incident(ctx, a.Drill, u.Incident); err == nil {
		return rec, nil
	}
	return nil, nil
}

// commandTeams are the teams a dispatcher escalates to: the command teams
// of the scenario, or the team "command" when the backend does not say.
func (s *Server) commandTeams() []string {
	sc := s.scenario()
	if sc == nil {
		return []string{"command"}
	}
	var out []string
	for _, t := range sc.Teams {
		if t.Kind == teams.KindCommand {
			out = append(out, t.ID)
		}
	}
	return out
}

// escalate calls the city command team to an incident: the available unit
// of a command team nearest to the incident is added to it (dispatch.ActAdd,
// so the engine checks the incident's state and records the dispatcher).
func (s *Server) escalate(ctx context.Context, a dispatch.Action) (*dispatch.IncidentRecord, error) {
	rec, err := s.cfg.Backend.Incident(ctx, a.Drill, a.Incident)
	if err != nil {
		return nil, err
	}
	if rec.State != dispatch.StateAwaiting && rec.State != dispatch.StateDispatched {
		return nil, fmt.Errorf("escalate: incident %s is %s: %w", rec.ID, rec.State, dispatch.ErrBadAction)
	}
	if !rec.HasLocation && rec.Lat == 0 && rec.Lng == 0 {
		return nil, fmt.Errorf("escalate: incident %s has no location: locate it first: %w", rec.ID, dispatch.ErrBadAction)
	}
	on := map[string]bool{}
	if rec.Rec != nil {
		for _, p := range rec.Rec.Units {
			on[p.UnitID] = true
		}
	}
	cmd := s.commandTeams()
	at := geo.Point{Lat: rec.Lat, Lng: rec.Lng}
	best, bestD := "", math.Inf(1)
	for _, u := range s.cfg.Backend.Units(a.Drill) {
		if !slices.Contains(cmd, u.Team) || !u.Status.Assignable() || on[u.ID] {
			continue
		}
		if d := geo.DistanceM(at, geo.Point{Lat: u.Lat, Lng: u.Lng}); d < bestD || (d == bestD && u.ID < best) {
			best, bestD = u.ID, d
		}
	}
	if best == "" {
		return nil, fmt.Errorf("escalate: no available unit of the city command team (%v): %w", cmd, dispatch.ErrBadAction)
	}
	add := a
	add.Kind, add.NewUnit, add.Unit = dispatch.ActAdd, best, ""
	return s.cfg.Backend.Act(ctx, add)
}
