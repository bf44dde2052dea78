package dispatch

import (
	"errors"
	"fmt"
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
	ActLocate   = "locate"   // dispatcher: give a manual incident a location (Lat, Lng) and decide it
)

// Action errors.
var (
	// ErrBadAction: the action is malformed or not allowed in the incident's state.
	ErrBadAction = errors.New("bad action")
	// ErrForbidden: the actor may not act on this unit or incident (another team's unit).
	ErrForbidden = errors.New("forbidden")
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
	// By names the console (token name) for the audit trail; set by the server.
	By string `json:"-"`
	// Team restricts a team leader to units of that team; set by the server
	// from the token, "" for dispatchers.
	Team string `json:"-"`
}

// maxActionText bounds the free text of an action (a reason, a type code).
const maxActionText = 1024

// checkText refuses free text the store could not keep (NUL) or that is
// too long, with ErrBadAction.
func (a *Action) checkText() error {
	for _, f := range []struct{ name, v string }{{"reason", a.Reason}, {"type", a.Type}, {"incident", a.Incident}, {"unit", a.Unit}} {
		if len(f.v) > maxActionText {
			return fmt.Errorf("%s longer than %d bytes: %w", f.name, maxActionText, ErrBadAction)
		}
		if strings.IndexByte(f.v, 0) >= 0 || !utf8.ValidString(f.v) {
			return fmt.Errorf("%s: NUL character or invalid UTF-8: %w", f.name, ErrBadAction)
		}
	}
	return nil
}
