package changelog

import (
	"time"

	"github.com/zs110/dispatch/dispatch"
)

// Named gathers, for a store's Changes, the rows the events of other
// writers name, beside those dispatch.Want asks for.
type Named struct {
	want      dispatch.Want
	units     map[string]struct{}
	incidents map[string]struct{}
	// Units and Incidents are the ids to read, in the order first named.
	Units, Incidents []string
	// Stock is set by Want.Stock or a restock among the events.
	Stock bool
	// Events and FirstWritten are as in Changes.
	Events       int
	FirstWritten time.Time
}

// New starts with what want asks for.
func New(want dispatch.Want) *Named {
	n := &Named{want: want, units: map[string]struct{}{}, incidents: map[string]struct{}{}, Stock: want.Stock}
	for _, u := range want.Units {
		n.unit(u)
	}
	for _, id := range want.Incidents {
		n.incident(id)
	}
	return n
}

// Limit is Want.Limit or its default.
func (n *Named) Limit() int {
	if n.want.Limit > 0 {
		return n.want.Limit
	}
	return 10_000
}

// Covered reports whether every Seq in (after, last] is one of the
// caller's own (Want.Skip): then no event needs reading.
func (n *Named) Covered(after, last int64) bool {
	next := after + 1
	for next <= last {
		found := false
		for _, r := range n.want.Skip {
			if r.From <= next && next <= r.To {
				next, found = r.To+1, true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Add counts one event of the drill, unless its Seq is the caller's own.
func (n *Named) Add(seq int64, written time.Time, kind, incident, unit string) {
	for _, r := range n.want.Skip {
		if r.From <= seq && seq <= r.To {
			return
		}
	}
	n.Events++
	if !written.IsZero() && (n.FirstWritten.IsZero() || written.Before(n.FirstWritten)) {
		n.FirstWritten = written
	}
	if incident != "" {
		n.incident(incident)
	}
	if unit != "" {
		n.unit(unit)
	}
	if kind == dispatch.EvStockRestocked {
		n.Stock = true
	}
}

func (n *Named) unit(id string) {
	if _, ok := n.units[id]; !ok {
		n.units[id] = struct{}{}
		n.Units = append(n.Units, id)
	}
}

func (n *Named) incident(id string) {
	if _, ok := n.incidents[id]; !ok {
		n.incidents[id] = struct{}{}
		n.Incidents = append(n.Incidents, id)
	}
}

// Empty reports whether there is no row to read.
func (n *Named) Empty() bool { return len(n.Units) == 0 && len(n.Incidents) == 0 && !n.Stock }

// HasMaterials reports whether an incident record has materials (its
// reservations move the stock levels: Changes then returns them all).
func HasMaterials(r *dispatch.IncidentRecord) bool { return r.Rec != nil && len(r.Rec.Materials) > 0 }
