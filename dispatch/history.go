package dispatch

import (
	"context"
	"fmt"
	"time"
)

// History kinds (HistoryEntry.What) besides the action kinds (ActConfirm,
// ActSwap, ... when a person acted): what the engine did by itself.
const (
	HistDecided    = "decided"     // the first decision (State says which)
	HistLinked     = "linked"      // a duplicate call was linked to the incident
	HistUpdated    = "updated"     // re-ranked, filled from the queue, a unit diverted away
	HistClosed     = "closed"      // every unit cleared
	HistLate       = "late"        // an assigned unit was reported not accepting in time (Unit)
	HistUnitStatus = "unit_status" // a unit's status changed on the incident (Unit, From, To)
	HistLinkedTo   = "linked_to"   // this call was linked to another incident (Other)
	HistCancelled  = "cancelled"   // cancelled
	HistTerminal   = "terminal"    // By of a unit status reported by the vehicle terminal
	HistEngine     = ""            // By of what the engine did by itself
)

// HistoryEntry is one change of an incident: who, when and what. The
// engine makes them in its write step (Outcome.History); the stores keep
// them in the order written.
type HistoryEntry struct {
	Incident string    `json:"incident"`
	Drill    string    `json:"drill,omitempty"`
	At       time.Time `json:"at"`
	// By is the person named by the console's token; "" for the engine
	// itself, "terminal" for a vehicle terminal's report.
	By   string `json:"by,omitempty"`
	Role Role   `json:"role,omitempty"`
	// What is the action kind when a person acted, else a History* kind.
	What string `json:"what"`
	// Version and State are the incident's after the change.
	Version int    `json:"version"`
	State   string `json:"state"`
	Unit    string `json:"unit,omitempty"`
	NewUnit string `json:"new_unit,omitempty"`
	From    string `json:"from,omitempty"` // unit status before (unit_status)
	To      string `json:"to,omitempty"`   // unit status after (unit_status)
	Reason  string `json:"reason,omitempty"`
	Type    string `json:"type,omitempty"` // classify: the new type
	Other   string `json:"other,omitempty"`
	Station string `json:"station,omitempty"`
	// Lat, Lng: locate (the position given, from a place too).
	Lat float64 `json:"lat,omitempty"`
	Lng float64 `json:"lng,omitempty"`
	// Located: locate, how (a place, the map, typed; approximate or not).
	Located *Located `json:"located,omitempty"`
}

// History returns every change of an incident of a drill ("" = live),
// oldest first: ErrNotFound when the store knows no such incident.
func (e *Engine) History(ctx context.Context, drill, id string) ([]HistoryEntry, error) {
	hs, err := e.store.History(ctx, drill, id)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return hs, nil
}

// addHistory gives each outcome on an incident its history entries: the
// action of the person (t.actor) on the incident it names, what the engine
// did on the others, and each unit status change.
func (e *Engine) addHistory(t *txn, outs []*Outcome) {
	now := e.cfg.Clock()
	acted := false
	for i, o := range outs {
		rec := o.Incident
		if rec == nil {
			continue
		}
		report := i < t.reports // from a vehicle terminal's report
		h := HistoryEntry{Incident: rec.ID, Drill: o.Drill, At: now, Version: rec.Version, State: rec.State}
		a := t.actor
		mine := a != nil && a.Incident == rec.ID && a.Drill == o.Drill
		by, role := HistEngine, Role("")
		if mine {
			by, role = a.By, a.Role
		}
		switch {
		case mine && !acted:
			acted = true
			h.What, h.By, h.Role = a.Kind, by, role
			h.Unit, h.NewUnit, h.Reason, h.Station = a.Unit, a.NewUnit, a.Reason, a.Station
			switch a.Kind {
			case ActClassify:
				h.Type = a.Type
			case ActLocate:
				h.Lat, h.Lng = rec.Lat, rec.Lng
				if rec.Located != nil {
					l := *rec.Located
					h.Located = &l
				}
			}
			if a.Kind == ActEscalate && len(rec.Assigned) > 0 {
				h.NewUnit = rec.Assigned[len(rec.Assigned)-1]
			}
		default:
			h.What, h.By, h.Role = whatOf(o), by, role
			if report {
				h.By = HistTerminal
			}
			for i := range o.Events {
				if o.Events[i].Kind == EvAssignmentEscalated {
					h.What, h.Unit = HistLate, o.Events[i].Unit
				}
			}
			if h.What == HistLinkedTo {
				h.Other = rec.LinkedTo
			}
		}
		if !report || h.What != HistUpdated || len(o.Units) == 0 {
			o.History = append(o.History, h) // a report says it by its unit entries
		}
		for _, c := range o.Units {
			if c.OldStatus == c.NewStatus {
				continue // a position report
			}
			u := HistoryEntry{Incident: rec.ID, Drill: o.Drill, At: c.At, By: by, Role: role, What: HistUnitStatus,
				Version: rec.Version, State: rec.State, Unit: c.UnitID, From: string(c.OldStatus), To: string(c.NewStatus)}
			if u.At.IsZero() {
				u.At = now
			}
			if report {
				u.By = HistTerminal
			}
			o.History = append(o.History, u)
		}
	}
}

// whatOf names what the engine did in an outcome by its incident event.
func whatOf(o *Outcome) string {
	if o.NewIncident {
		if o.Incident.State == StateLinked {
			return HistLinkedTo
		}
		return HistDecided
	}
	for i := range o.Events {
		switch o.Events[i].Kind {
		case EvIncidentClosed:
			return HistClosed
		case EvIncidentCancelled:
			return HistCancelled
		case EvIncidentLinked:
			return HistLinked
		}
	}
	return HistUpdated
}
