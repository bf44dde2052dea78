package web

import (
	"net/http"
	"slices"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/scenario"
)

// places answers GET /api/places: the scenario's gazetteer (towns' centres,
// stations, depots, named places: scenario.Entry) a console picks from to
// locate an incident. Only a role that may send locate may read it (403
// otherwise); without a scenario the list is empty.
func (s *Server) places(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if !slices.Contains(KindsOf(p.Role), dispatch.ActLocate) {
		jsonError(w, http.StatusForbidden, "only a console that may locate incidents reads the places")
		return
	}
	out := []scenario.Entry{}
	if sc := s.scenario(); sc != nil {
		out = sc.Gazetteer()
	}
	writeJSON(w, http.StatusOK, out)
}
