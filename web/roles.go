package web

import (
	"fmt"
	"slices"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

// Visible reports whether a console of principal p may see event ev.
// Drill consoles see only their drill's events and live consoles never see
// a drill's; a dispatcher limited to towns sees events in those towns and
// events with no town (city-wide, or manual without a location); a team
// leader sees only events whose Teams include the team.
func Visible(p Principal, ev dispatch.Event) bool {
	switch p.Role {
	case RoleDrill:
		return p.Drill != "" && ev.Drill == p.Drill
	case RoleDispatcher:
		return ev.Drill == "" && townVisible(p, ev.Town)
	case RoleTeamLeader:
		return ev.Drill == "" && p.Team != "" && slices.Contains(ev.Teams, p.Team)
	}
	return false
}

// townVisible: a dispatcher with no towns sees every town; a town-limited
// one sees its towns and what has no town.
func townVisible(p Principal, town string) bool {
	return len(p.Towns) == 0 || town == "" || slices.Contains(p.Towns, town)
}

// incidentVisible reports whether p may see an incident of its world (the
// backend was asked for p.World() only).
// teamOf maps unit ids to teams (only consulted for team leaders).
func incidentVisible(p Principal, rec *dispatch.IncidentRecord, teamOf func(unit string) string) bool {
	switch p.Role {
	case RoleDrill:
		return true
	case RoleDispatcher:
		return townVisible(p, rec.Town)
	case RoleTeamLeader:
		if rec.Rec != nil {
			for _, u := range rec.Rec.Units {
				if u.Team == p.Team {
					return true
				}
			}
		}
		for _, list := range [][]string{rec.Assigned, rec.Accepted, rec.Cleared, rec.Escalated} {
			for _, u := range list {
				if teamOf(u) == p.Team {
					return true
				}
			}
		}
	}
	return false
}

// unitVisible reports whether p may see a unit of its world.
func unitVisible(p Principal, u *teams.UnitView) bool {
	switch p.Role {
	case RoleDrill:
		return true
	case RoleDispatcher:
		return townVisible(p, u.Town)
	case RoleTeamLeader:
		return u.Team == p.Team
	}
	return false
}

// depotVisible reports whether p may see a depot: town-limited dispatchers
// see their towns' depots and the city depots.
func depotVisible(p Principal, d *resources.DepotView) bool {
	switch p.Role {
	case RoleDrill, RoleTeamLeader:
		return true
	case RoleDispatcher:
		return d.Kind == "city" || townVisible(p, d.Town)
	}
	return false
}

// KindsOf returns the action kinds a console of role may send, sorted:
// the engine's table (dispatch.Role.Actions), which /api/config hands to
// the consoles.
func KindsOf(role string) []string {
	out := dispatch.Role(role).Actions()
	if out == nil {
		return []string{}
	}
	return out
}

// authorizeKind checks the action kind against the role and fills the
// fields the server owns: By (the console name), Team (team leaders) and
// Drill (forced from the token: drill consoles act in their drill, the
// others only live). It does not look at the incident or units; see
// Server.act for that.
func authorizeKind(p Principal, a *dispatch.Action) error {
	if !dispatch.RoleDrill.May(a.Kind) {
		return fmt.Errorf("unknown action kind %q: %w", a.Kind, errMalformed)
	}
	if a.Drill != "" && a.Drill != p.World() {
		return fmt.Errorf("drill %q is not this console's: %w", a.Drill, dispatch.ErrForbidden)
	}
	switch p.Role {
	case RoleDispatcher:
		if !dispatch.RoleDispatcher.May(a.Kind) {
			return fmt.Errorf("%s is a team leader's action: %w", a.Kind, dispatch.ErrForbidden)
		}
	case RoleTeamLeader:
		if !dispatch.RoleTeamLeader.May(a.Kind) {
			return fmt.Errorf("%s is a dispatcher's action: %w", a.Kind, dispatch.ErrForbidden)
		}
	case RoleDrill:
	default:
		return dispatch.ErrForbidden
	}
	if a.Unit == "" && (dispatch.RoleTeamLeader.May(a.Kind) || a.Kind == dispatch.ActSwap || a.Kind == dispatch.ActRelocate) {
		return fmt.Errorf("%s needs a unit: %w", a.Kind, errMalformed)
	}
	a.Drill = p.World()
	a.By = p.Name
	a.Role = dispatch.Role(p.Role)
	a.Team = ""
	if p.Role == RoleTeamLeader {
		a.Team = p.Team
	}
	return nil
}
