package dispatch

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Console and terminal actions (Action.Kind).
const (
	ActConfirm  = "confirm"  // dispatcher: dispatch a recommendation awaiting confirmation
	ActSwap     = "swap"     // dispatcher: replace Unit by NewUnit
	ActAdd      = "add"      // dispatcher: add NewUnit to the incident
	ActCancel   = "cancel"   // dispatcher: cancel the incident, free its units and stock
	ActAccept   = "accept"   // team leader: the unit accepts its assignment
	ActDecline  = "decline"  // team leader: the unit declines (Reason); the engine offers the next unit
	ActEnRoute  = "en_route" // team leader: the unit is on its way
	ActOnScene  = "on_scene" // team leader: the unit arrived
	ActClear    = "clear"    // team leader: the unit is done and available again
	ActClassify = "classify" // dispatcher: set the type of a flagged incident (Type) and decide it
	// ActLocate (dispatcher): give a manual incident a position and decide
	// it: Source LocatedPlace (Place, a gazetteer ref), LocatedMap (Lat,
	// Lng of a click) or LocatedCoords ("" too: typed Lat, Lng).
	ActLocate = "locate"
	// ActEscalate (dispatcher): call the city command team: the available
	// command-team unit of least ETA is added to the incident.
	ActEscalate = "escalate"
	// ActReturning (team leader): the unit has cleared the scene and is
	// driving back (a unit status report; Incident may be empty).
	ActReturning = "returning"
	// ActAvailable (team leader): the unit is available again: from on
	// scene it clears its incident, from returning or out of service it is
	// a unit status report (Incident may be empty).
	ActAvailable = "available"
	// ActRelocate (dispatcher): the unit (idle, or on its way back) goes to
	// wait at Station: a move-up the engine proposed (unit.moveup), or the
	// dispatcher's own.
	ActRelocate = "relocate"
)

// Role is who sends an action: the server sets Action.Role from the
// console's token.
type Role string

// Roles of the people who act.
const (
	RoleDispatcher Role = "dispatcher"  // a 110 dispatcher
	RoleTeamLeader Role = "team_leader" // the leader of one team: only that team's units
	RoleDrill      Role = "drill"       // a drill planner: both, in the drill's world
)

// roleActions is the one table of which role may send which action (the
// consoles get it from /api/config). A dispatcher's decline takes an
// assigned unit off the incident with a reason, as its team leader's would.
var roleActions = map[Role][]string{
	RoleDispatcher: {ActAdd, ActCancel, ActClassify, ActConfirm, ActDecline, ActEscalate, ActLocate, ActRelocate, ActSwap},
	RoleTeamLeader: {ActAccept, ActAvailable, ActClear, ActDecline, ActEnRoute, ActOnScene, ActReturning},
}

// Actions returns the action kinds the role may send, sorted (a drill
// planner: every kind; an unknown role: none).
func (r Role) Actions() []string {
	if r == RoleDrill {
		out := slices.Concat(roleActions[RoleDispatcher], roleActions[RoleTeamLeader])
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Clone(roleActions[r])
}

// May reports whether the role may send an action of this kind. An
// unknown kind: nobody may.
func (r Role) May(kind string) bool { return slices.Contains(r.Actions(), kind) }

// unitKind reports whether kind is a unit status report, which names a
// unit and may name no incident.
func unitKind(kind string) bool {
	return kind == ActReturning || kind == ActAvailable || kind == ActRelocate
}

// Action errors.
var (
	// ErrBadAction: the action is malformed or not allowed in the incident's state.
	ErrBadAction = errors.New("bad action")
	// ErrForbidden: the actor may not act on this unit or incident (another team's unit).
	ErrForbidden = errors.New("forbidden")
	// ErrChanged: a confirm named an older recommendation than the one the
	// incident has now (its unit was taken elsewhere): the dispatcher is
	// shown the new one instead of having it sent. It is an ErrBadAction.
	ErrChanged = fmt.Errorf("recommendation changed: %w", ErrBadAction)
)

// Action is a dispatcher's or team leader's command, from a console or a
// vehicle terminal.
type Action struct {
	Drill    string  `json:"drill,omitempty"`
	Kind     string  `json:"kind"`
	Incident string  `json:"incident"`
	Unit     string  `json:"unit,omitempty"`     // the unit acted on
	NewUnit  string  `json:"new_unit,omitempty"` // swap in / add
	Reason   string  `json:"reason,omitempty"`   // decline, cancel
	Type     string  `json:"type,omitempty"`     // classify
	Lat      float64 `json:"lat,omitempty"`      // locate
	Lng      float64 `json:"lng,omitempty"`      // locate
	Source   string  `json:"source,omitempty"`   // locate: "place", "map", "coords" ("": coords)
	Place    string  `json:"place,omitempty"`    // locate by place: a gazetteer ref ("place:qijiang-bridge")
	// Version (confirm) is the incident version the dispatcher saw: a
	// recommendation made since is not sent but refused with ErrChanged.
	// 0: not checked.
	Version int `json:"version,omitempty"`
	// Station (relocate) is where the unit is to wait.
	Station string `json:"station,omitempty"`
	// By names the console (token name) for the audit trail; set by the server.
	By string `json:"-"`
	// Team restricts a team leader to units of that team; set by the server
	// from the token, "" for dispatchers.
	Team string `json:"-"`
	// Role is who acts, set by the server from the token. Empty: a team
	// leader when Team is set, else a drill planner (anything goes).
	Role Role `json:"-"`
	// escalated marks the add an escalation makes (its pick's reason).
	escalated bool
}

// maxActionText bounds the free text of an action (a reason, a type code).
const maxActionText = 1024

// checkText refuses free text the store could not keep (NUL) or that is
// too long, with ErrBadAction.
func (a *Action) checkText() error {
	for _, f := range []struct{ name, v string }{{"reason", a.Reason}, {"type", a.Type}, {"incident", a.Incident}, {"unit", a.Unit}, {"place", a.Place}, {"source", a.Source}} {
		if len(f.v) > maxActionText {
			return fmt.Errorf("%s longer than %d bytes: %w", f.name, maxActionText, ErrBadAction)
		}
		if strings.IndexByte(f.v, 0) >= 0 || !utf8.ValidString(f.v) {
			return fmt.Errorf("%s: NUL character or invalid UTF-8: %w", f.name, ErrBadAction)
		}
	}
	return nil
}
