package drill

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/zs110/dispatch/dispatch"
)

// The queue: incidents the engine could not fully staff wait for units.
// Each capability keeps the list of queued incidents that could use a unit
// with it, most urgent first (priority, then call time, then id), so that
// the units an instant frees are offered to the few incidents at the head
// of their capabilities' lists, however long the queue.

// urgency orders queued incidents.
func urgency(a, b *incState) int {
	if a.priority != b.priority {
		return a.priority - b.priority
	}
	if a.reported != b.reported {
		return cmp.Compare(a.reported, b.reported)
	}
	return cmp.Compare(a.id, b.id)
}

// incidentChange keeps the queue and the open set in step with an
// incident's state after a change.
func (d *Drill) incidentChange(rec *dispatch.IncidentRecord) {
	st := d.inflight[rec.ID]
	if st == nil {
		return
	}
	switch rec.State {
	case dispatch.StateClosed, dispatch.StateCancelled:
		delete(d.inflight, rec.ID)
		d.dequeue(st)
		d.stats.finish(st)
		return
	}
	st.needs = st.needs[:0]
	if rec.State == dispatch.StateDispatched && rec.Rec != nil {
		for _, s := range rec.Rec.Shortfalls {
			if s.Kind == "unit" {
				for _, c := range st.typ.fillers[s.What] {
					if !slices.Contains(st.needs, c) {
						st.needs = append(st.needs, c)
					}
				}
			}
		}
	}
	if len(st.needs) == 0 {
		d.dequeue(st)
		return
	}
	if st.queued == 0 {
		st.queued = d.now.UnixNano()
		st.everQueued = true
		d.stats.queueCount++
		d.queue[st.id] = st
		d.stats.queueLen(len(d.queue), st.queued)
	}
	d.unlist(st)
	for _, c := range st.needs {
		for int(c) >= len(d.byCap) {
			d.byCap = append(d.byCap, nil)
		}
		l := d.byCap[c]
		i, _ := slices.BinarySearchFunc(l, st, urgency)
		d.byCap[c] = slices.Insert(l, i, st)
		st.listed = append(st.listed, c)
	}
}

// unlist takes an incident out of its capability lists.
func (d *Drill) unlist(st *incState) {
	for _, c := range st.listed {
		l := d.byCap[c]
		if i, ok := slices.BinarySearchFunc(l, st, urgency); ok {
			d.byCap[c] = slices.Delete(l, i, i+1)
		}
	}
	st.listed = st.listed[:0]
}

func (d *Drill) dequeue(st *incState) {
	if st.queued == 0 {
		return
	}
	st.queued = 0
	d.unlist(st)
	delete(d.queue, st.id)
	d.stats.queueLen(len(d.queue), d.now.UnixNano())
}

// fill offers the units that became available to the most urgent queued
// incidents that could use them: FillScan per unit, from the heads of the
// lists of the units' capabilities.
func (d *Drill) fill(ctx context.Context) error {
	n := d.cfg.FillScan * len(d.released)
	var cands []*incState
	seenCap := map[int32]bool{}
	for _, u := range d.released {
		for _, c := range d.fleet.Record(u).Capabilities() {
			if seenCap[c] || int(c) >= len(d.byCap) {
				continue
			}
			seenCap[c] = true
			for _, st := range d.byCap[c][:min(n, len(d.byCap[c]))] {
				if !slices.Contains(cands, st) {
					cands = append(cands, st)
				}
			}
		}
	}
	if len(cands) == 0 {
		return nil
	}
	slices.SortFunc(cands, urgency)
	ids := make([]string, min(n, len(cands)))
	for i := range ids {
		ids[i] = cands[i].id
	}
	if _, err := d.eng.FillShortfalls(ctx, d.cfg.Drill, ids); err != nil {
		return fmt.Errorf("drill: fill: %w", err)
	}
	return d.err
}
