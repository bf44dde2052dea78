package web

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/zs110/dispatch/dispatch"
)

// TestHistoryRoute: GET /api/incidents/{id}/history answers the history of
// an incident to the consoles that may see the incident, with the person
// who acted; the others get 404 as for the incident itself.
func TestHistoryRoute(t *testing.T) {
	e, eng := startEngineEnv(t, nil)
	process(t, eng, shiqiIncident("HR-FIRE", "fire.building"), shiqiIncident("HR-THEFT", "theft"))
	far := shiqiIncident("HR-FAR", "theft")
	far.Lat, far.Lng = 22.6600, 113.2450 // Xiaolan
	process(t, eng, far)
	fire := record(t, eng, "HR-FIRE")
	unit := ""
	for _, u := range fire.Assigned {
		if teamOfUnit(eng, u) == "fire" {
			unit = u
			break
		}
	}
	if unit == "" {
		t.Fatalf("no fire unit on %+v", fire.Assigned)
	}
	if code, body := e.post("leader-fire", fmt.Sprintf(`{"kind":"accept","incident":"HR-FIRE","unit":%q}`, unit)); code != 200 {
		t.Fatalf("accept: %d %s", code, body)
	}
	var hs []dispatch.HistoryEntry
	if code := e.getJSON("/api/incidents/HR-FIRE/history", "desk", &hs); code != 200 {
		t.Fatalf("desk: %d", code)
	}
	if len(hs) < 3 || hs[0].What != dispatch.HistDecided || hs[0].Incident != "HR-FIRE" {
		t.Fatalf("history %+v", hs)
	}
	last := hs[len(hs)-1]
	if last.What != dispatch.ActAccept || last.By != "leader-fire" || last.Unit != unit || last.Role != dispatch.RoleTeamLeader {
		t.Errorf("last entry %+v, want leader-fire's accept of %s", last, unit)
	}
	for _, c := range []struct {
		console, path string
		want          int
	}{
		{"leader-fire", "/api/incidents/HR-FIRE/history", 200},  // their unit is on it
		{"leader-fire", "/api/incidents/HR-THEFT/history", 404}, // no unit of theirs
		{"desk-shiqi", "/api/incidents/HR-THEFT/history", 200},  // their town
		{"desk-shiqi", "/api/incidents/HR-FAR/history", 404},    // another town
		{"drill-a", "/api/incidents/HR-FIRE/history", 404},      // another world
		{"desk", "/api/incidents/NOPE/history", 404},            // no such incident
		{"", "/api/incidents/HR-FIRE/history", 401},             // no token
	} {
		var got []dispatch.HistoryEntry
		if code := e.getJSON(c.path, c.console, &got); code != c.want {
			t.Errorf("%s GET %s: %d, want %d", c.console, c.path, code, c.want)
		} else if code == 200 && len(got) == 0 {
			t.Errorf("%s GET %s: empty history", c.console, c.path)
		}
	}
	if code, _ := e.request(http.MethodPost, "/api/incidents/HR-FIRE/history", e.tokens["desk"], "", nil); code.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST history: %d", code.StatusCode)
	}
}

func teamOfUnit(eng *dispatch.Engine, id string) string {
	for _, u := range eng.Units("") {
		if u.ID == id {
			return u.Team
		}
	}
	return ""
}
