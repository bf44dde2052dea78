package web

import (
	"errors"
	"slices"
	"testing"

	"github.com/zs110/dispatch/dispatch"
)

func TestVisible(t *testing.T) {
	desk := Principal{Name: "desk", Role: RoleDispatcher}
	shiqi := Principal{Name: "s", Role: RoleDispatcher, Towns: []string{"shiqi", "dongqu"}}
	fire := Principal{Name: "f", Role: RoleTeamLeader, Team: "fire"}
	noTeam := Principal{Name: "n", Role: RoleTeamLeader}
	drillA := Principal{Name: "a", Role: RoleDrill, Drill: "a"}
	noDrill := Principal{Name: "d", Role: RoleDrill}
	bogus := Principal{Name: "x", Role: "admin"}

	live := func(town string, teams ...string) dispatch.Event {
		return dispatch.Event{Kind: "k", Town: town, Teams: teams}
	}
	drill := func(d, town string, teams ...string) dispatch.Event {
		return dispatch.Event{Kind: "k", Drill: d, Town: town, Teams: teams}
	}
	cases := []struct {
		name string
		p    Principal
		ev   dispatch.Event
		want bool
	}{
		{"all-towns dispatcher, town event", desk, live("shiqi"), true},
		{"all-towns dispatcher, no town", desk, live(""), true},
		{"all-towns dispatcher, team event", desk, live("xiaolan", "fire"), true},
		{"all-towns dispatcher, drill event", desk, drill("a", "shiqi"), false},
		{"town dispatcher, own town", shiqi, live("shiqi"), true},
		{"town dispatcher, second town", shiqi, live("dongqu", "police"), true},
		{"town dispatcher, other town", shiqi, live("xiaolan"), false},
		{"town dispatcher, no town", shiqi, live(""), true},
		{"town dispatcher, town prefix is not the town", shiqi, live("shiqi2"), false},
		{"town dispatcher, drill in own town", shiqi, drill("a", "shiqi"), false},
		{"leader, own team", fire, live("shiqi", "fire"), true},
		{"leader, own team among others", fire, live("shiqi", "police", "fire"), true},
		{"leader, other team", fire, live("shiqi", "police"), false},
		{"leader, no teams", fire, live("shiqi"), false},
		{"leader, city-wide event", fire, live(""), false},
		{"leader, drill event of own team", fire, drill("a", "shiqi", "fire"), false},
		{"leader without team, event with empty team", noTeam, live("shiqi", ""), false},
		{"drill, own drill", drillA, drill("a", "shiqi"), true},
		{"drill, own drill any team", drillA, drill("a", "", "fire"), true},
		{"drill, other drill", drillA, drill("b", "shiqi"), false},
		{"drill, live event", drillA, live("shiqi", "fire"), false},
		{"drill token without drill, live event", noDrill, live("shiqi"), false},
		{"unknown role", bogus, live("shiqi", "fire"), false},
		{"zero principal", Principal{}, live(""), false},
	}
	for _, tc := range cases {
		if got := Visible(tc.p, tc.ev); got != tc.want {
			t.Errorf("%s: Visible = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestIncidentAndUnitVisibility(t *testing.T) {
	teamOf := func(u string) string {
		return map[string]string{"FIRE-1": "fire", "POL-1": "police", "BOAT-1": "boat"}[u]
	}
	rec := &dispatch.IncidentRecord{Town: "shiqi", Rec: &dispatch.Recommendation{Units: []dispatch.UnitPick{pick("FIRE-1", "fire")}}, Assigned: []string{"BOAT-1"}}
	bare := &dispatch.IncidentRecord{Town: ""}
	cases := []struct {
		name string
		p    Principal
		rec  *dispatch.IncidentRecord
		want bool
	}{
		{"leader, recommended", Principal{Role: RoleTeamLeader, Team: "fire"}, rec, true},
		{"leader, assigned (added unit)", Principal{Role: RoleTeamLeader, Team: "boat"}, rec, true},
		{"leader, not on it", Principal{Role: RoleTeamLeader, Team: "police"}, rec, false},
		{"leader, no recommendation", Principal{Role: RoleTeamLeader, Team: "police"}, bare, false},
		{"town dispatcher, own", Principal{Role: RoleDispatcher, Towns: []string{"shiqi"}}, rec, true},
		{"town dispatcher, other", Principal{Role: RoleDispatcher, Towns: []string{"dongqu"}}, rec, false},
		{"town dispatcher, manual without town", Principal{Role: RoleDispatcher, Towns: []string{"dongqu"}}, bare, true},
		{"drill", Principal{Role: RoleDrill, Drill: "a"}, rec, true},
	}
	for _, tc := range cases {
		if got := incidentVisible(tc.p, tc.rec, teamOf); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	u := unitView("FIRE-1", "fire", "shiqi", "available")
	for _, tc := range []struct {
		p    Principal
		want bool
	}{
		{Principal{Role: RoleTeamLeader, Team: "fire"}, true},
		{Principal{Role: RoleTeamLeader, Team: "police"}, false},
		{Principal{Role: RoleDispatcher, Towns: []string{"dongqu"}}, false},
		{Principal{Role: RoleDispatcher}, true},
	} {
		if got := unitVisible(tc.p, &u); got != tc.want {
			t.Errorf("unit for %+v: %v, want %v", tc.p, got, tc.want)
		}
	}
}

func TestAuthorizeKind(t *testing.T) {
	desk := Principal{Name: "desk", Role: RoleDispatcher}
	fire := Principal{Name: "lead", Role: RoleTeamLeader, Team: "fire"}
	drillA := Principal{Name: "planner", Role: RoleDrill, Drill: "a"}
	cases := []struct {
		name string
		p    Principal
		a    dispatch.Action
		err  error
		want dispatch.Action // By, Team, Drill after
	}{
		{"dispatcher confirm", desk, dispatch.Action{Kind: "confirm", Incident: "I"}, nil, dispatch.Action{By: "desk"}},
		{"dispatcher all its kinds", desk, dispatch.Action{Kind: "locate", Incident: "I"}, nil, dispatch.Action{By: "desk"}},
		{"dispatcher accept", desk, dispatch.Action{Kind: "accept", Unit: "U"}, dispatch.ErrForbidden, dispatch.Action{}},
		{"dispatcher en route", desk, dispatch.Action{Kind: "en_route", Unit: "U"}, dispatch.ErrForbidden, dispatch.Action{}},
		{"dispatcher into a drill", desk, dispatch.Action{Kind: "confirm", Drill: "a"}, dispatch.ErrForbidden, dispatch.Action{}},
		{"unknown kind", desk, dispatch.Action{Kind: "delete"}, errMalformed, dispatch.Action{}},
		{"leader accept", fire, dispatch.Action{Kind: "accept", Unit: "U"}, nil, dispatch.Action{By: "lead", Team: "fire"}},
		{"leader clear", fire, dispatch.Action{Kind: "clear", Unit: "U"}, nil, dispatch.Action{By: "lead", Team: "fire"}},
		{"leader without unit", fire, dispatch.Action{Kind: "on_scene"}, errMalformed, dispatch.Action{}},
		{"leader confirm", fire, dispatch.Action{Kind: "confirm"}, dispatch.ErrForbidden, dispatch.Action{}},
		{"leader cancel", fire, dispatch.Action{Kind: "cancel"}, dispatch.ErrForbidden, dispatch.Action{}},
		{"drill confirm", drillA, dispatch.Action{Kind: "confirm"}, nil, dispatch.Action{By: "planner", Drill: "a"}},
		{"drill accept", drillA, dispatch.Action{Kind: "accept", Unit: "U"}, nil, dispatch.Action{By: "planner", Drill: "a"}},
		{"drill own drill named", drillA, dispatch.Action{Kind: "swap", Drill: "a", Unit: "U"}, nil, dispatch.Action{By: "planner", Drill: "a"}},
		{"swap without unit", desk, dispatch.Action{Kind: "swap"}, errMalformed, dispatch.Action{}},
		{"dispatcher decline", desk, dispatch.Action{Kind: "decline", Unit: "U"}, nil, dispatch.Action{By: "desk"}},
		{"dispatcher decline without unit", desk, dispatch.Action{Kind: "decline"}, errMalformed, dispatch.Action{}},
		{"dispatcher escalate", desk, dispatch.Action{Kind: "escalate", Incident: "I"}, nil, dispatch.Action{By: "desk"}},
		{"dispatcher returning", desk, dispatch.Action{Kind: "returning", Unit: "U"}, dispatch.ErrForbidden, dispatch.Action{}},
		{"leader returning", fire, dispatch.Action{Kind: "returning", Unit: "U"}, nil, dispatch.Action{By: "lead", Team: "fire"}},
		{"leader available", fire, dispatch.Action{Kind: "available", Unit: "U"}, nil, dispatch.Action{By: "lead", Team: "fire"}},
		{"leader escalate", fire, dispatch.Action{Kind: "escalate", Incident: "I"}, dispatch.ErrForbidden, dispatch.Action{}},
		{"drill escalate", drillA, dispatch.Action{Kind: "escalate", Incident: "I"}, nil, dispatch.Action{By: "planner", Drill: "a"}},
		{"drill other drill", drillA, dispatch.Action{Kind: "swap", Drill: "b"}, dispatch.ErrForbidden, dispatch.Action{}},
		{"unknown role", Principal{Name: "x", Role: "root"}, dispatch.Action{Kind: "confirm"}, dispatch.ErrForbidden, dispatch.Action{}},
	}
	for _, tc := range cases {
		a := tc.a
		err := authorizeKind(tc.p, &a)
		if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
			continue
		}
		if err == nil && (a.By != tc.want.By || a.Team != tc.want.Team || a.Drill != tc.want.Drill) {
			t.Errorf("%s: By=%q Team=%q Drill=%q, want %+v", tc.name, a.By, a.Team, a.Drill, tc.want)
		}
	}
}

func TestKindsOf(t *testing.T) {
	for role, want := range map[string][]string{
		RoleDispatcher: {"add", "cancel", "classify", "confirm", "decline", "escalate", "locate", "relocate", "swap"},
		RoleTeamLeader: {"accept", "available", "clear", "decline", "en_route", "on_scene", "returning"},
		RoleDrill:      {"accept", "add", "available", "cancel", "classify", "clear", "confirm", "decline", "en_route", "escalate", "locate", "on_scene", "relocate", "returning", "swap"},
		"root":         {},
	} {
		if got := KindsOf(role); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", role, got, want)
		}
	}
}
