package dispatch

import (
	"cmp"
	"context"
	"maps"
	"slices"

	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

// Read views: what Incidents, Incident, Units and Depots answer from. A
// step updates the view of every world it changed right after its commit
// (publishLocked, under Engine.mu and then Engine.vmu); a reader takes only
// Engine.vmu, which is never held across a store call, so reads never wait
// on the store (a hanging PostgreSQL stalls writes, not consoles). A world
// dropped for a reload keeps its last view until it is loaded again.

// viewState is the read side of one world (guarded by Engine.vmu). The
// incident records it holds are the frozen copies the store was given:
// nobody changes them.
type viewState struct {
	open    map[string]*IncidentRecord
	units   []teams.UnitView
	unitAt  map[string]int
	depots  []resources.DepotView
	depotAt map[string]int
	// cur is the sorted incident list built by the first read after a
	// change (nil: to build).
	cur []IncidentRecord
	// travel is the world's travel-time rule: safe for concurrent readers
	// while the write step learns (geo.Travel).
	travel *geo.Travel
}

// newViewLocked builds the view of a world just loaded (under Engine.mu).
func newViewLocked(w *world) *viewState {
	v := &viewState{open: make(map[string]*IncidentRecord, len(w.open)), units: w.state.unitViews(), unitAt: map[string]int{},
		depots: w.state.depotViews(), depotAt: map[string]int{}, travel: w.state.Travel()}
	for id, r := range w.open {
		v.open[id] = cloneRecord(r)
	}
	for i, u := range v.units {
		v.unitAt[u.ID] = i
	}
	for i, d := range v.depots {
		v.depotAt[d.ID] = i
	}
	return v
}

// installViewLocked replaces the view of a world that was (re)loaded.
func (e *Engine) installViewLocked(w *world) {
	v := newViewLocked(w)
	e.vmu.Lock()
	e.views[w.drill] = v
	e.vmu.Unlock()
}

// publishLocked brings the views of the worlds outs changed up to date
// with memory (called under Engine.mu right after a commit).
func (e *Engine) publishLocked(outs []*Outcome) {
	e.vmu.Lock()
	defer e.vmu.Unlock()
	for _, o := range outs {
		w, v := e.worlds[o.Drill], e.views[o.Drill]
		if w == nil || v == nil {
			continue
		}
		if r := o.Incident; r != nil {
			if _, open := w.open[r.ID]; open {
				v.open[r.ID] = r // frozen by commitLocked
			} else {
				delete(v.open, r.ID)
			}
			v.cur = nil
		}
		for i := range o.Units {
			if at, ok := v.unitAt[o.Units[i].UnitID]; ok {
				v.units[at], _ = w.state.unit(o.Units[i].UnitID)
			}
		}
		for i := range o.Stock {
			c := &o.Stock[i]
			at, ok := v.depotAt[c.Depot]
			if !ok {
				continue
			}
			// a new map: readers may hold the old one
			d := v.depots[at]
			av := make(map[string]int, len(d.Available)+1)
			maps.Copy(av, d.Available)
			av[c.Item] = w.state.Inventory().Available(c.Depot, c.Item)
			d.Available = av
			v.depots[at] = d
		}
	}
}

// byUrgency orders incidents most urgent first: priority, then oldest
// reported, then id.
func byUrgency(a, b *IncidentRecord) int {
	return cmp.Or(cmp.Compare(a.Priority, b.Priority), a.ReportedAt.Compare(b.ReportedAt), cmp.Compare(a.ID, b.ID))
}

// Incidents returns the open incidents of a drill ("" = live), most urgent
// first (priority, then oldest first). It never waits on the store. The
// records are shared with other readers: read only.
func (e *Engine) Incidents(drill string) []IncidentRecord {
	e.vmu.Lock()
	defer e.vmu.Unlock()
	v := e.views[drill]
	if v == nil {
		return nil
	}
	if v.cur == nil {
		ptrs := make([]*IncidentRecord, 0, len(v.open))
		for _, r := range v.open {
			ptrs = append(ptrs, r)
		}
		slices.SortFunc(ptrs, byUrgency)
		v.cur = make([]IncidentRecord, len(ptrs))
		for i, r := range ptrs {
			v.cur[i] = *r
		}
	}
	return slices.Clone(v.cur)
}

// Incident returns one incident of a drill: an open one from the read
// view, a closed or cancelled one from the store.
func (e *Engine) Incident(ctx context.Context, drill, id string) (*IncidentRecord, error) {
	e.vmu.Lock()
	var r *IncidentRecord
	if v := e.views[drill]; v != nil {
		r = v.open[id]
	}
	e.vmu.Unlock()
	if r != nil {
		return cloneRecord(r), nil
	}
	return e.store.Incident(ctx, drill, id)
}

// Units returns every unit of a drill's world, sorted by id. It never
// waits on the store.
func (e *Engine) Units(drill string) []teams.UnitView {
	e.vmu.Lock()
	defer e.vmu.Unlock()
	if v := e.views[drill]; v != nil {
		return slices.Clone(v.units)
	}
	return nil
}

// Depots returns every depot of a drill's world with what is available
// now. It never waits on the store. The maps are shared: read only.
func (e *Engine) Depots(drill string) []resources.DepotView {
	e.vmu.Lock()
	defer e.vmu.Unlock()
	if v := e.views[drill]; v != nil {
		return slices.Clone(v.depots)
	}
	return nil
}
