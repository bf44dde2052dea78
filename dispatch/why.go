package dispatch

import (
	"errors"
	"fmt"
	"strings"
)

// Reason codes (Why.Code): what a person reads, as a code with parameters
// that the consoles render in their language; the English text (picks'
// Reasons, shortfalls' Reason, errors) stays for Kafka records and logs.
const (
	WhyETA          = "eta"              // EtaS over DistanceM
	WhySubstitute   = "substitute"       // substitute for Capability
	WhyReserve      = "reserve"          // reserve team, ActivationS included; professionals miss the P(Priority) target TargetS
	WhyCoverage     = "coverage"         // coverage cost CostS: last available unit of a capability in Town
	WhyFirst        = "first"            // first responder AheadS ahead of the first Capability unit (EtaS); late past TargetS
	WhyFirstNone    = "first_none"       // first responder: no Capability unit can come now
	WhyQueue        = "queue"            // assigned from the queue: the plan was missing this unit
	WhyReranked     = "reranked"         // re-ranked: a recommended unit was taken elsewhere
	WhyRerankedConf = "reranked_confirm" // re-ranked at confirmation: a recommended unit was taken elsewhere
	WhySwappedIn    = "swapped_in"       // swapped in by By
	WhyAdded        = "added"            // added by By
	WhyReplaces     = "replaces"         // replaces Unit (declined: Reason)
	WhyDiverted     = "diverted"         // diverted from P(Priority) incident Incident
	WhyNoUnit       = "no_unit"          // shortfall: no available unit with Capability (or Substitutes)
	WhyNoStock      = "no_stock"         // shortfall: only Have of Need Item in stock
	WhyDivertedAway = "diverted_away"    // shortfall: Unit diverted to P1 incident Incident
	WhyCommandTeam  = "command_team"     // a command-team unit called by escalation
)

// Refusal codes (the Why of an action or report the engine refused: ReasonOf).
const (
	WhyBadState       = "bad_state" // Action cannot be done while the incident is State
	WhyUnitBusy       = "unit_busy" // Unit is Status, not available
	WhyNotOnInc       = "not_on_incident"
	WhyOnIncident     = "already_on_incident"
	WhyOnScene        = "already_on_scene"
	WhyAccepted       = "already_accepted"
	WhyAlready        = "already_status"     // Unit is already Status
	WhyTransition     = "illegal_transition" // From -> To
	WhyUnknownType    = "unknown_type"
	WhyUnknownUnit    = "unknown_unit"
	WhyNoCommand      = "no_command_unit"
	WhyNoLocation     = "no_location"
	WhyChanged        = "changed"
	WhyOtherTeam      = "other_team"
	WhyDeclineInstead = "decline_instead" // Unit is Status on Incident: decline the assignment with a reason instead
	WhyBadAction      = "bad_action"      // any other refusal
	WhyForbidden      = "forbidden"
	WhyNotFound       = "not_found"
)

// Why is a reason as a code with parameters (docs/protocol.md, "why"). Only
// the parameters of the code are set.
type Why struct {
	Code        string   `json:"code"`
	EtaS        float64  `json:"eta_s,omitempty"`
	DistanceM   float64  `json:"distance_m,omitempty"`
	AheadS      float64  `json:"ahead_s,omitempty"`
	TargetS     float64  `json:"target_s,omitempty"`
	ActivationS float64  `json:"activation_s,omitempty"`
	CostS       float64  `json:"cost_s,omitempty"`
	Priority    int      `json:"priority,omitempty"`
	Capability  string   `json:"capability,omitempty"`
	Substitutes []string `json:"substitutes,omitempty"`
	Item        string   `json:"item,omitempty"`
	Have        int      `json:"have,omitempty"`
	Need        int      `json:"need,omitempty"`
	Town        string   `json:"town,omitempty"`
	Unit        string   `json:"unit,omitempty"`
	Incident    string   `json:"incident,omitempty"`
	By          string   `json:"by,omitempty"`
	Reason      string   `json:"reason,omitempty"` // a person's own words
	Action      string   `json:"action,omitempty"`
	State       string   `json:"state,omitempty"`
	Status      string   `json:"status,omitempty"`
	From        string   `json:"from,omitempty"`
	To          string   `json:"to,omitempty"`
	Type        string   `json:"type,omitempty"`
	// Source and Trips (eta): where the ETA came from when not the model
	// ("learned" from Trips trips, "matrix", "override").
	Source string `json:"source,omitempty"`
	Trips  int    `json:"trips,omitempty"`
}

// text is the English text of the reason (Kafka records, logs).
func (w *Why) text() string {
	switch w.Code {
	case WhyETA:
		return etaReason(w.EtaS, w.DistanceM, w.Source, w.Trips)
	case WhySubstitute:
		return "substitute for " + w.Capability
	case WhyReserve:
		return fmt.Sprintf("reserve team, %s activation included: professionals cannot cover within the P%d target of %s",
			fmtSeconds(w.ActivationS), w.Priority, fmtSeconds(w.TargetS))
	case WhyCoverage:
		return fmt.Sprintf("coverage cost %s: last available unit of a capability in %s", fmtSeconds(w.CostS), w.Town)
	case WhyFirstNone:
		return fmt.Sprintf("first responder: no %s unit can come now", w.Capability)
	case WhyFirst:
		r := fmt.Sprintf("first responder: %s ahead of the first %s unit (ETA %s)", fmtSeconds(w.AheadS), w.Capability, fmtSeconds(w.EtaS))
		if w.Priority > 0 {
			r += fmt.Sprintf(", which misses the P%d target of %s", w.Priority, fmtSeconds(w.TargetS))
		}
		return r
	case WhyQueue:
		return "assigned from the queue: the plan was missing this unit"
	case WhyReranked:
		return "re-ranked: a recommended unit was taken elsewhere"
	case WhyRerankedConf:
		return "re-ranked at confirmation: a recommended unit was taken elsewhere"
	case WhySwappedIn, WhyAdded:
		verb := map[string]string{WhySwappedIn: "swapped in", WhyAdded: "added"}[w.Code]
		if w.By == "" {
			return verb + " by a dispatcher"
		}
		return verb + " by " + w.By
	case WhyReplaces:
		return fmt.Sprintf("replaces %s (declined: %s)", w.Unit, w.Reason)
	case WhyDiverted:
		return fmt.Sprintf("diverted from P%d incident %s: no unit reached this P1 within its target", w.Priority, w.Incident)
	case WhyNoUnit:
		r := fmt.Sprintf("no available unit with capability %s", w.Capability)
		if len(w.Substitutes) > 0 {
			r += fmt.Sprintf(" or its substitutes (%v)", w.Substitutes)
		}
		return r
	case WhyNoStock:
		return fmt.Sprintf("only %d of %d %s in stock in all depots", w.Have, w.Need, w.Item)
	case WhyDivertedAway:
		return fmt.Sprintf("unit %s diverted to P1 incident %s", w.Unit, w.Incident)
	case WhyCommandTeam:
		if w.By == "" {
			return "escalated: the city command team"
		}
		return "escalated by " + w.By + ": the city command team"
	case WhyBadState:
		return fmt.Sprintf("%s: incident %s is %s", w.Action, w.Incident, w.State)
	case WhyUnitBusy:
		return fmt.Sprintf("unit %s is %s, not available", w.Unit, w.Status)
	case WhyNotOnInc:
		return fmt.Sprintf("unit %s is not on incident %s", w.Unit, w.Incident)
	case WhyOnIncident:
		return fmt.Sprintf("unit %s is already on incident %s", w.Unit, w.Incident)
	case WhyOnScene:
		return fmt.Sprintf("unit %s is already on scene", w.Unit)
	case WhyAccepted:
		return fmt.Sprintf("unit %s already accepted", w.Unit)
	case WhyAlready:
		return fmt.Sprintf("unit %s is already %s", w.Unit, w.Status)
	case WhyTransition:
		return fmt.Sprintf("%s: unit %s cannot go from %s to %s", w.Action, w.Unit, w.From, w.To)
	case WhyUnknownType:
		return fmt.Sprintf("unknown type %q", w.Type)
	case WhyUnknownUnit:
		return fmt.Sprintf("unknown unit %q", w.Unit)
	case WhyNoCommand:
		return "no available unit of the city command team"
	case WhyNoLocation:
		return fmt.Sprintf("incident %s has no location: locate it first", w.Incident)
	case WhyDeclineInstead:
		return fmt.Sprintf("unit %s is %s on incident %s: decline the assignment with a reason instead", w.Unit, w.Status, w.Incident)
	case WhyChanged:
		return "the recommendation changed: check the new one"
	case WhyOtherTeam:
		return fmt.Sprintf("unit %s belongs to another team", w.Unit)
	}
	if w.Reason != "" {
		return w.Code + ": " + w.Reason
	}
	return strings.ReplaceAll(w.Code, "_", " ")
}

// because adds a reason to a pick, in both forms.
func (p *UnitPick) because(w Why) {
	p.Why = append(p.Why, w)
	p.Reasons = append(p.Reasons, w.text())
}

// shortfall is a shortfall with its reason in both forms.
func shortfall(kind, what string, missing int, w Why) Shortfall {
	return Shortfall{Kind: kind, What: what, Missing: missing, Reason: w.text(), Why: &w}
}

// refusal is an action or report the engine refused, with the reason as a
// code with parameters (ReasonOf; web answers {"error": text, "reason":
// Why}). It wraps the sentinel (ErrBadAction, ErrForbidden, ErrNotFound...)
// and the cause, if any.
type refusal struct {
	Why   Why
	Is    error // the sentinel
	Cause error // optional underlying error
}

// Error is the reason's text.
func (r *refusal) Error() string {
	s := r.Why.text()
	if r.Cause != nil {
		s += ": " + r.Cause.Error()
	}
	return s + ": " + r.Is.Error()
}

// Unwrap makes errors.Is hold for the sentinel and the cause.
func (r *refusal) Unwrap() []error {
	if r.Cause != nil {
		return []error{r.Is, r.Cause}
	}
	return []error{r.Is}
}

// refuse is a refusal.
func refuse(is error, w Why) error { return &refusal{Why: w, Is: is} }

// ReasonOf returns the reason of an engine error as a code with
// parameters: the refusal's own where the rule lives, else a code for the
// sentinel it wraps.
func ReasonOf(err error) Why {
	var r *refusal
	if errors.As(err, &r) {
		return r.Why
	}
	switch {
	case errors.Is(err, ErrChanged):
		return Why{Code: WhyChanged}
	case errors.Is(err, ErrUnknownUnit):
		return Why{Code: WhyUnknownUnit}
	case errors.Is(err, ErrForbidden):
		return Why{Code: WhyForbidden}
	case errors.Is(err, ErrNotFound):
		return Why{Code: WhyNotFound}
	}
	return Why{Code: WhyBadAction}
}
