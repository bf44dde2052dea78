package dispatch

import (
	"fmt"
	"maps"
)

// CheckBacklog compares the drill's kept count of missing units
// (backlogCount) with a recount over its open incidents: the brute-force
// oracle of the incremental count.
func (e *Engine) CheckBacklog(drill string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	w := e.worlds[drill]
	if w == nil {
		return nil // not loaded yet: nothing counted
	}
	want := map[string]int{}
	for _, rec := range w.open {
		for capab, n := range missingUnits(rec) {
			want[capab] += n
		}
	}
	for capab, n := range want {
		if n == 0 {
			delete(want, capab)
		}
	}
	if !maps.Equal(w.backlog.units, want) && (len(want) > 0 || len(w.backlog.units) > 0) {
		return fmt.Errorf("backlog %v, recount %v", w.backlog.units, want)
	}
	return nil
}
