package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

func ids[T any](xs []T, id func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	slices.Sort(out)
	return out
}

func incID(r dispatch.IncidentRecord) string { return r.ID }
func unitID(u teams.UnitView) string         { return u.ID }
func depotID(d resources.DepotView) string   { return d.ID }

func TestHealthReadyMetrics(t *testing.T) {
	e := startEnv(t, envOpts{})
	if resp, body := e.request("GET", "/healthz", "", "", nil); resp.StatusCode != 200 || body != "ok" {
		t.Errorf("healthz: %d %q", resp.StatusCode, body)
	}
	if resp, _ := e.request("GET", "/readyz", "", "", nil); resp.StatusCode != 200 {
		t.Errorf("readyz: %d", resp.StatusCode)
	}
	e.be.mu.Lock()
	e.be.readyErr = errBoom
	e.be.mu.Unlock()
	if resp, body := e.request("GET", "/readyz", "", "", nil); resp.StatusCode != 503 || !strings.Contains(body, "boom") {
		t.Errorf("readyz when the backend is down: %d %q", resp.StatusCode, body)
	}
	resp, body := e.request("GET", "/metrics", "", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `dispatch_http_requests_total{code="503",route="/readyz"} 1`) || !strings.Contains(body, "dispatch_consoles 0") {
		t.Errorf("metrics: %d\n%s", resp.StatusCode, body)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if resp, _ := e.request("GET", "/api/nope", e.tokens["desk"], "", nil); resp.StatusCode != 404 {
		t.Errorf("unknown API route: %d", resp.StatusCode)
	}
}

func TestAPIAuth(t *testing.T) {
	e := startEnv(t, envOpts{})
	routes := []string{"/api/me", "/api/incidents", "/api/incidents/I-SHIQI", "/api/units", "/api/depots"}
	for _, r := range routes {
		for name, hdr := range map[string]map[string]string{
			"missing":     nil,
			"forged":      {"Authorization": "Bearer forged"},
			"expired":     {"Authorization": "Bearer " + e.tokens["old"]},
			"not bearer":  {"Authorization": "Basic " + e.tokens["desk"]},
			"cookie junk": {"Cookie": cookieName + "=junk"},
		} {
			resp, body := e.request("GET", r, "", "", hdr)
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s: %d %s", name, r, resp.StatusCode, body)
			}
		}
	}
	resp, _ := e.request("POST", "/api/actions", "", `{"kind":"confirm","incident":"I-SHIQI"}`, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("action without token: %d", resp.StatusCode)
	}
}

func TestAPIRoles(t *testing.T) {
	e := startEnv(t, envOpts{})
	var me Principal
	if code := e.getJSON("/api/me", "leader-fire", &me); code != 200 || me.Role != RoleTeamLeader || me.Team != "fire" || me.Name != "leader-fire" {
		t.Errorf("me: %d %+v", code, me)
	}
	incidents := map[string][]string{
		"desk":          {"I-DONGQU", "I-MANUAL", "I-SHIQI"},
		"desk-shiqi":    {"I-MANUAL", "I-SHIQI"},
		"leader-fire":   {"I-SHIQI"},
		"leader-police": {"I-DONGQU", "I-SHIQI"},
		"drill-a":       {"I-DRILL-A"},
		"drill-b":       {},
	}
	for console, want := range incidents {
		var got []dispatch.IncidentRecord
		if code := e.getJSON("/api/incidents", console, &got); code != 200 {
			t.Fatalf("%s: %d", console, code)
		}
		if g := ids(got, incID); !slices.Equal(g, want) {
			t.Errorf("%s incidents %v, want %v", console, g, want)
		}
	}
	// one incident: visible, hidden (404), and a drill's
	var rec dispatch.IncidentRecord
	for _, tc := range []struct {
		console, id string
		want        int
	}{
		{"desk", "I-DONGQU", 200}, {"desk-shiqi", "I-DONGQU", 404}, {"leader-fire", "I-DONGQU", 404},
		{"leader-fire", "I-SHIQI", 200}, {"desk", "I-DRILL-A", 404}, {"drill-a", "I-DRILL-A", 200},
		{"drill-a", "I-SHIQI", 404}, {"desk", "NOPE", 404},
	} {
		if code := e.getJSON("/api/incidents/"+tc.id, tc.console, &rec); code != tc.want {
			t.Errorf("%s GET %s: %d, want %d", tc.console, tc.id, code, tc.want)
		}
	}
	// ?drill= only for the console's own drill
	for _, tc := range []struct {
		console, q string
		want       int
	}{{"drill-a", "?drill=a", 200}, {"drill-a", "?drill=b", 403}, {"desk", "?drill=a", 403}, {"desk", "?drill=", 200}} {
		var got []dispatch.IncidentRecord
		if code := e.getJSON("/api/incidents"+tc.q, tc.console, &got); code != tc.want {
			t.Errorf("%s incidents%s: %d, want %d", tc.console, tc.q, code, tc.want)
		}
	}

	units := []struct {
		console, q string
		want       []string
	}{
		{"desk", "", []string{"FIRE-1", "POL-1", "POL-2"}},
		{"desk", "?town=shiqi", []string{"FIRE-1", "POL-1"}},
		{"desk", "?team=police&status=on_scene", []string{"POL-2"}},
		{"desk-shiqi", "", []string{"FIRE-1", "POL-1"}},
		{"desk-shiqi", "?town=dongqu", []string{}},
		{"leader-police", "", []string{"POL-1", "POL-2"}},
		{"leader-police", "?team=fire", []string{}},
		{"drill-a", "", []string{"FIRE-1"}},
	}
	for _, tc := range units {
		var got []teams.UnitView
		if code := e.getJSON("/api/units"+tc.q, tc.console, &got); code != 200 {
			t.Fatalf("units: %d", code)
		}
		if g := ids(got, unitID); !slices.Equal(g, tc.want) {
			t.Errorf("%s units%s: %v, want %v", tc.console, tc.q, g, tc.want)
		}
	}
	var depots []resources.DepotView
	e.getJSON("/api/depots", "desk-shiqi", &depots)
	if g := ids(depots, depotID); !slices.Equal(g, []string{"DEP-CITY", "DEP-SHIQI"}) {
		t.Errorf("town dispatcher depots %v", g)
	}
	e.getJSON("/api/depots", "desk", &depots)
	if len(depots) != 3 {
		t.Errorf("dispatcher depots %v", ids(depots, depotID))
	}
}

func TestAPIActions(t *testing.T) {
	e := startEnv(t, envOpts{})
	post := func(console, body string, hdr map[string]string) (int, string) {
		resp, b := e.request("POST", "/api/actions", e.tokens[console], body, hdr)
		return resp.StatusCode, b
	}
	cases := []struct {
		name, console, body string
		want                int
	}{
		{"bad JSON", "desk", `{"kind":`, 400},
		{"unknown field", "desk", `{"kind":"confirm","incident":"I-SHIQI","unit_id":"X"}`, 400},
		{"trailing data", "desk", `{"kind":"confirm","incident":"I-SHIQI"} {}`, 400},
		{"unknown kind", "desk", `{"kind":"delete","incident":"I-SHIQI"}`, 400},
		{"no incident", "desk", `{"kind":"confirm"}`, 400},
		{"dispatcher accepts", "desk", `{"kind":"accept","incident":"I-SHIQI","unit":"FIRE-1"}`, 403},
		{"town dispatcher, other town", "desk-shiqi", `{"kind":"confirm","incident":"I-DONGQU"}`, 403},
		{"dispatcher into a drill", "desk", `{"kind":"confirm","incident":"I-DRILL-A","drill":"a"}`, 403},
		{"leader confirms", "leader-fire", `{"kind":"confirm","incident":"I-SHIQI"}`, 403},
		{"leader, other team's unit", "leader-fire", `{"kind":"accept","incident":"I-SHIQI","unit":"POL-1"}`, 403},
		{"leader, unknown unit", "leader-fire", `{"kind":"accept","incident":"I-SHIQI","unit":"NOPE"}`, 404},
		{"unknown incident", "desk", `{"kind":"confirm","incident":"NOPE"}`, 404},
		{"town dispatcher confirms own", "desk-shiqi", `{"kind":"confirm","incident":"I-SHIQI"}`, 200},
		{"confirm twice", "desk", `{"kind":"confirm","incident":"I-SHIQI"}`, 409},
		{"leader accepts own", "leader-fire", `{"kind":"accept","incident":"I-SHIQI","unit":"FIRE-1"}`, 200},
		{"drill confirms in its drill", "drill-a", `{"kind":"confirm","incident":"I-DRILL-A"}`, 200},
	}
	for _, tc := range cases {
		if code, body := post(tc.console, tc.body, nil); code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.want)
		} else if code != 200 && !strings.Contains(body, `"error"`) {
			t.Errorf("%s: error body %s", tc.name, body)
		}
	}
	e.be.mu.Lock()
	acts := slices.Clone(e.be.acts)
	e.be.mu.Unlock()
	var accept, drill dispatch.Action
	for _, a := range acts {
		if a.Kind == dispatch.ActAccept && a.By == "leader-fire" {
			accept = a
		}
		if a.By == "drill-a" {
			drill = a
		}
	}
	if accept.Team != "fire" || drill.Drill != "a" {
		t.Errorf("server-owned fields: accept %+v, drill %+v", accept, drill)
	}

	// 413: a body over 64 KiB
	big := `{"kind":"cancel","incident":"I-DONGQU","reason":"` + strings.Repeat("x", 70<<10) + `"}`
	if code, _ := post("desk", big, nil); code != http.StatusRequestEntityTooLarge {
		t.Errorf("big body: %d", code)
	}
	// 415 for a non-JSON body
	if code, _ := post("desk", `kind=confirm`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); code != http.StatusUnsupportedMediaType {
		t.Errorf("form body: %d", code)
	}
}

func TestAPIRateLimit(t *testing.T) {
	e := startEnv(t, envOpts{server: func(c *Config) { c.ActionRate = 0.001; c.ActionBurst = 2 }})
	body := `{"kind":"confirm","incident":"NOPE"}`
	for i, want := range []int{404, 404, 429, 429} {
		resp, _ := e.request("POST", "/api/actions", e.tokens["desk"], body, nil)
		if resp.StatusCode != want {
			t.Errorf("action %d: %d, want %d", i, resp.StatusCode, want)
		}
		if want == 429 && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	// per console: another console still has its bucket
	if resp, _ := e.request("POST", "/api/actions", e.tokens["desk-2"], body, nil); resp.StatusCode != 404 {
		t.Errorf("other console: %d", resp.StatusCode)
	}
}

// TestCookieLogin: /?token= sets the cookie and redirects; the cookie then
// works for the API; a forged token clears it; cookie requests that change
// state need JSON and an allowed Origin.
func TestCookieLogin(t *testing.T) {
	e := startEnv(t, envOpts{})
	resp, _ := e.request("GET", "/?token="+e.tokens["leader-fire"], "", "", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var c *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == cookieName {
			c = k
		}
	}
	if c == nil || c.Value != e.tokens["leader-fire"] || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Fatalf("cookie %+v", c)
	}
	cookie := map[string]string{"Cookie": c.String()}
	resp, body := e.request("GET", "/api/me", "", "", cookie)
	var me Principal
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &me) != nil || me.Name != "leader-fire" {
		t.Fatalf("me with cookie: %d %s", resp.StatusCode, body)
	}
	// the page itself
	resp, body = e.request("GET", "/", "", "", cookie)
	if resp.StatusCode != 200 || !strings.Contains(body, `<script type="module" src="/static/app.js">`) {
		t.Errorf("page: %d %.200s", resp.StatusCode, body)
	}
	for _, path := range []string{"/static/app.js", "/static/style.css"} {
		if resp, _ := e.request("GET", path, "", "", nil); resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: %d, CSP %q", path, resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
		}
	}
	// a forged token clears the cookie
	resp, _ = e.request("GET", "/?token=forged", "", "", cookie)
	cleared := false
	for _, k := range resp.Cookies() {
		cleared = cleared || (k.Name == cookieName && k.MaxAge < 0)
	}
	if resp.StatusCode != http.StatusSeeOther || !cleared {
		t.Errorf("forged sign-in: %d, cookie cleared %v", resp.StatusCode, cleared)
	}
	// state changes with the cookie
	act := `{"kind":"accept","incident":"I-SHIQI","unit":"FIRE-1"}`
	noCT := map[string]string{"Cookie": c.String(), "Content-Type": ""}
	if resp, _ := e.request("POST", "/api/actions", "", act, noCT); resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("cookie action without content type: %d", resp.StatusCode)
	}
	evil := map[string]string{"Cookie": c.String(), "Origin": "https://evil.example"}
	if resp, _ := e.request("POST", "/api/actions", "", act, evil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cookie action from a foreign origin: %d", resp.StatusCode)
	}
	same := map[string]string{"Cookie": c.String(), "Origin": "http://" + e.addr}
	if resp, body := e.request("POST", "/api/actions", "", act, same); resp.StatusCode != http.StatusConflict {
		// FIRE-1 is not assigned yet: the fixture refuses with 409, past every check of the server
		t.Errorf("cookie action from the page: %d %s", resp.StatusCode, body)
	}
}
