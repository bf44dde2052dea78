package web

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/scenario"
)

// TestAPIPlaces: GET /api/places gives a dispatcher and a drill planner the
// gazetteer, refuses a team leader and a console without a token; a
// manual incident located through the API by a place or a map click is
// decided there and marked approximate.
func TestAPIPlaces(t *testing.T) {
	e, eng := startEngineEnv(t, nil)
	if resp, _ := e.request("GET", "/api/places", "", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	if resp, _ := e.request("GET", "/api/places", e.tokens["leader-fire"], "", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("team leader: %d, want 403", resp.StatusCode)
	}
	want := len(eng.Places())
	for _, console := range []string{"desk", "drill-a"} {
		var got []scenario.Entry
		q := map[string]string{"desk": "", "drill-a": "?drill=a"}[console]
		if code := e.getJSON("/api/places"+q, console, &got); code != 200 || len(got) != want || want < 300 {
			t.Fatalf("%s: %d, %d places, want %d", console, code, len(got), want)
		}
	}
	var got []scenario.Entry
	e.getJSON("/api/places", "desk", &got)
	var bridge *scenario.Entry
	for i := range got {
		if got[i].Ref == "place:shenwan-bridge" {
			bridge = &got[i]
		}
	}
	if bridge == nil || bridge.NameZH != "神湾大桥" || bridge.Town != "shenwan" || bridge.Point.Lat == 0 {
		t.Fatalf("Shenwan bridge: %+v", bridge)
	}

	if _, err := eng.Process(context.Background(), []dispatch.Incident{
		{ID: "P-1", Type: "drowning", ReportedAt: time.Now(), Description: "person down under a bridge"},
		{ID: "P-2", Type: "drowning", ReportedAt: time.Now()},
	}, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ id, body, source, town string }{
		{"P-1", `{"kind":"locate","incident":"P-1","source":"place","place":"place:shenwan-bridge"}`, "place", "shenwan"},
		{"P-2", `{"kind":"locate","incident":"P-2","source":"map","lat":22.66,"lng":113.245}`, "map", "xiaolan"},
	} {
		if resp, body := e.request("POST", "/api/actions", e.tokens["desk"], tc.body, nil); resp.StatusCode != 200 {
			t.Fatalf("locate %s: %d %s", tc.id, resp.StatusCode, body)
		}
		r, err := eng.Incident(context.Background(), "", tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != dispatch.StateDispatched || r.Town != tc.town || r.Located == nil || r.Located.Source != tc.source || !r.Located.Approximate || r.Located.By != "desk" {
			t.Errorf("%s after locate: %s in %q located %+v", tc.id, r.State, r.Town, r.Located)
		}
	}
	if resp, body := e.request("POST", "/api/actions", e.tokens["desk"], `{"kind":"locate","incident":"P-1","source":"place","place":"place:nowhere"}`, nil); resp.StatusCode == 200 {
		t.Errorf("an unknown place was taken: %s", body)
	}
}
