package web

// Tests of the server's own action kinds (escalate, returning, available),
// the dispatcher's decline and GET /api/config against the real engine
// (dispatch.NewEngine on memstore with the default Zhongshan scenario).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/teams"
)

// engineBackend is the engine as the server's backend; in memory nothing
// can be unreachable.
type engineBackend struct{ *dispatch.Engine }

func (engineBackend) Ready(context.Context) error { return nil }

// startEngineEnv runs the server over a real engine; the hub tails the
// engine's store.
func startEngineEnv(t *testing.T, server func(*Config)) (*env, *dispatch.Engine) {
	t.Helper()
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New(memstore.Config{})
	eng, err := dispatch.NewEngine(dispatch.EngineConfig{Scenario: sc, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := startEnv(t, envOpts{
		hub: func(c *HubConfig) { c.Source = store },
		server: func(c *Config) {
			c.Backend = engineBackend{eng}
			if server != nil {
				server(c)
			}
		},
	})
	return e, eng
}

// shiqiIncident is an incident of type typ near the centre of Shiqi.
func shiqiIncident(id, typ string) dispatch.Incident {
	return dispatch.Incident{ID: id, Type: typ, ReportedAt: time.Now(), Lat: 22.5220, Lng: 113.3790, HasLocation: true}
}

func process(t *testing.T, eng *dispatch.Engine, incs ...dispatch.Incident) {
	t.Helper()
	if _, err := eng.Process(context.Background(), incs, nil); err != nil {
		t.Fatal(err)
	}
}

func record(t *testing.T, eng *dispatch.Engine, id string) *dispatch.IncidentRecord {
	t.Helper()
	r, err := eng.Incident(context.Background(), "", id)
	if err != nil {
		t.Fatalf("incident %s: %v", id, err)
	}
	return r
}

func unitStatus(eng *dispatch.Engine, id string) string {
	for _, u := range eng.Units("") {
		if u.ID == id {
			return string(u.Status)
		}
	}
	return ""
}

// post sends an action as a console and returns the status and the body.
func (e *env) post(console, action string) (int, string) {
	e.t.Helper()
	resp, body := e.request("POST", "/api/actions", e.tokens[console], action, nil)
	return resp.StatusCode, body
}

// assignedOf returns the first unit of team assigned to rec.
func assignedOf(t *testing.T, eng *dispatch.Engine, rec *dispatch.IncidentRecord, team string) string {
	t.Helper()
	for _, p := range rec.Rec.Units {
		if p.Team == team && slices.Contains(rec.Assigned, p.UnitID) {
			return p.UnitID
		}
	}
	t.Fatalf("no %s unit assigned to %s: %+v", team, rec.ID, rec.Assigned)
	return ""
}

func TestConfigRoute(t *testing.T) {
	e, _ := startEngineEnv(t, func(c *Config) { c.TileURL = "https://tiles.example/{z}/{x}/{y}.png" })
	if resp, _ := e.request("GET", "/api/config", "", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("config without a token: %d", resp.StatusCode)
	}
	var c ConsoleConfig
	if code := e.getJSON("/api/config", "desk", &c); code != 200 {
		t.Fatalf("config: %d", code)
	}
	if c.Role != RoleDispatcher || len(c.Towns) != 24 || len(c.Teams) != 13 || len(c.Types) < 20 || c.FallbackType == "" || c.TownRadiusM <= 0 {
		t.Errorf("config: role %q, %d towns, %d teams, %d types, fallback %q, radius %v", c.Role, len(c.Towns), len(c.Teams), len(c.Types), c.FallbackType, c.TownRadiusM)
	}
	shiqi := slices.IndexFunc(c.Towns, func(t ConfigTown) bool { return t.Code == "shiqi" })
	if shiqi < 0 || c.Towns[shiqi].NameZH != "石岐区" || c.Towns[shiqi].Lat < 22.4 || c.Towns[shiqi].Lng < 113.3 {
		t.Errorf("shiqi: %+v", c.Towns)
	}
	if !slices.ContainsFunc(c.Types, func(x ConfigType) bool { return x.Code == "fire.building" && x.Priority == 1 }) {
		t.Error("no fire.building P1 in the types")
	}
	if !slices.Equal(c.Actions, KindsOf(RoleDispatcher)) || !slices.Contains(c.Statuses, "returning") || c.TileURL != "https://tiles.example/{z}/{x}/{y}.png" {
		t.Errorf("actions %v, statuses %v, tile %q", c.Actions, c.Statuses, c.TileURL)
	}
	if code := e.getJSON("/api/config", "leader-fire", &c); code != 200 || c.Role != RoleTeamLeader || !slices.Equal(c.Actions, KindsOf(RoleTeamLeader)) {
		t.Errorf("leader config: %d %q %v", code, c.Role, c.Actions)
	}
	if code := e.getJSON("/api/config?drill=a", "drill-a", &c); code != 200 || c.Role != RoleDrill {
		t.Errorf("drill config: %d %q", code, c.Role)
	}
	if code := e.getJSON("/api/config?drill=b", "drill-a", &c); code != http.StatusForbidden {
		t.Errorf("another drill's config: %d", code)
	}
	resp, _ := e.request("GET", "/api/config", e.tokens["desk"], "", nil)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' https://tiles.example") {
		t.Errorf("CSP with a tile server: %q", csp)
	}
}

// TestConfigWithoutScenario: a backend that cannot name its scenario still
// answers, with empty lists (the pages use the towns they embed).
func TestConfigWithoutScenario(t *testing.T) {
	e := startEnv(t, envOpts{})
	resp, body := e.request("GET", "/api/config", e.tokens["leader-police"], "", nil)
	var c ConsoleConfig
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &c) != nil || c.Towns == nil || len(c.Towns) != 0 || c.Role != RoleTeamLeader {
		t.Errorf("config: %d %s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "img-src") {
		t.Errorf("CSP without a tile server: %q", csp)
	}
}

func TestEscalate(t *testing.T) {
	e, eng := startEngineEnv(t, nil)
	process(t, eng, shiqiIncident("E-1", "fire.building"), dispatch.Incident{ID: "E-MANUAL", Type: "fire.building", ReportedAt: time.Now()})
	if code, body := e.post("leader-fire", `{"kind":"escalate","incident":"E-1"}`); code != http.StatusForbidden {
		t.Errorf("team leader escalates: %d %s", code, body)
	}
	if code, body := e.post("desk", `{"kind":"escalate","incident":"E-MANUAL"}`); code != http.StatusConflict {
		t.Errorf("escalating an incident without location: %d %s", code, body)
	}
	if code, body := e.post("desk", `{"kind":"escalate","incident":"NOPE"}`); code != http.StatusNotFound {
		t.Errorf("escalating an unknown incident: %d %s", code, body)
	}
	before := record(t, eng, "E-1")
	code, body := e.post("desk", `{"kind":"escalate","incident":"E-1"}`)
	if code != 200 {
		t.Fatalf("escalate: %d %s", code, body)
	}
	after := record(t, eng, "E-1")
	var added []string
	for _, p := range after.Rec.Units {
		if p.Team == "command" {
			added = append(added, p.UnitID)
		}
	}
	if len(added) != 1 || len(after.Assigned) != len(before.Assigned)+1 || !slices.Contains(after.Assigned, added[0]) {
		t.Fatalf("after escalating: command units %v, assigned %v (before %v)", added, after.Assigned, before.Assigned)
	}
	if st := unitStatus(eng, added[0]); st != "dispatched" {
		t.Errorf("command unit %s is %s", added[0], st)
	}
	// A second escalation calls another command unit.
	if code, body := e.post("desk", `{"kind":"escalate","incident":"E-1"}`); code != 200 {
		t.Fatalf("second escalate: %d %s", code, body)
	}
	n := 0
	for _, p := range record(t, eng, "E-1").Rec.Units {
		if p.Team == "command" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d command units after two escalations", n)
	}
}

// TestLeaderStatus: a team leader moves a unit through en route, on scene,
// returning and available; illegal changes answer 409 with the reason.
func TestLeaderStatus(t *testing.T) {
	e, eng := startEngineEnv(t, nil)
	process(t, eng, shiqiIncident("S-1", "fire.building"))
	rec := record(t, eng, "S-1")
	unit := assignedOf(t, eng, rec, "fire")
	act := func(kind string) string {
		return fmt.Sprintf(`{"kind":%q,"incident":"S-1","unit":%q}`, kind, unit)
	}
	illegal := func(console, kind, wantInError string) {
		t.Helper()
		code, body := e.post(console, act(kind))
		if code != http.StatusConflict || !strings.Contains(body, wantInError) {
			t.Errorf("%s while %s: %d %s, want 409 with %q", kind, unitStatus(eng, unit), code, body, wantInError)
		}
	}
	illegal("leader-fire", "returning", `illegal transition from \"dispatched\" to \"returning\"`)
	illegal("leader-fire", "available", "decline the assignment with a reason instead")
	illegal("leader-fire", "on_scene", `illegal transition from \"dispatched\" to \"on_scene\"`)
	if code, body := e.post("leader-police", act("returning")); code != http.StatusForbidden {
		t.Errorf("another team's unit: %d %s", code, body)
	}
	if code, body := e.post("leader-fire", `{"kind":"returning","unit":"NOPE"}`); code != http.StatusNotFound {
		t.Errorf("unknown unit: %d %s", code, body)
	}
	if code, body := e.post("desk", act("returning")); code != http.StatusForbidden {
		t.Errorf("dispatcher reports a status: %d %s", code, body)
	}
	for _, step := range []struct{ kind, status string }{{"accept", "dispatched"}, {"en_route", "en_route"}, {"on_scene", "on_scene"}, {"returning", "returning"}} {
		if code, body := e.post("leader-fire", act(step.kind)); code != 200 {
			t.Fatalf("%s: %d %s", step.kind, code, body)
		}
		if st := unitStatus(eng, unit); st != step.status {
			t.Fatalf("after %s the unit is %s, want %s", step.kind, st, step.status)
		}
	}
	rec = record(t, eng, "S-1")
	if slices.Contains(rec.Assigned, unit) || !slices.Contains(rec.Cleared, unit) {
		t.Errorf("returning unit still assigned: assigned %v cleared %v", rec.Assigned, rec.Cleared)
	}
	// Returning -> available: no incident any more, the report stands alone.
	illegal("leader-fire", "available", "not on incident S-1")
	if code, body := e.post("leader-fire", fmt.Sprintf(`{"kind":"available","unit":%q}`, unit)); code != 200 || strings.TrimSpace(body) != "null" {
		t.Fatalf("available: %d %s", code, body)
	}
	if st := unitStatus(eng, unit); st != "available" {
		t.Fatalf("unit is %s after available", st)
	}
	code, body := e.post("leader-fire", fmt.Sprintf(`{"kind":"available","unit":%q}`, unit))
	if code != http.StatusConflict || !strings.Contains(body, "already available") {
		t.Errorf("available twice: %d %s", code, body)
	}
	code, body = e.post("leader-fire", fmt.Sprintf(`{"kind":"returning","unit":%q}`, unit))
	if code != http.StatusConflict || !strings.Contains(body, `illegal transition from \"available\" to \"returning\"`) {
		t.Errorf("returning while available: %d %s", code, body)
	}
}

// TestLeaderAvailableFromScene: "available" on scene clears the unit; the
// last unit to clear closes the incident.
func TestLeaderAvailableFromScene(t *testing.T) {
	e, eng := startEngineEnv(t, nil)
	process(t, eng, shiqiIncident("A-1", "theft"))
	if code, body := e.post("desk", `{"kind":"confirm","incident":"A-1"}`); code != 200 {
		t.Fatalf("confirm: %d %s", code, body)
	}
	rec := record(t, eng, "A-1")
	if len(rec.Assigned) != 1 {
		t.Fatalf("theft assigned %v", rec.Assigned)
	}
	unit := rec.Assigned[0]
	for _, k := range []string{"en_route", "on_scene", "available"} {
		if code, body := e.post("leader-police", fmt.Sprintf(`{"kind":%q,"incident":"A-1","unit":%q}`, k, unit)); code != 200 {
			t.Fatalf("%s: %d %s", k, code, body)
		}
	}
	if r := record(t, eng, "A-1"); r.State != dispatch.StateClosed || unitStatus(eng, unit) != "available" {
		t.Errorf("after available on scene: incident %s, unit %s", r.State, unitStatus(eng, unit))
	}
}

// TestDispatcherDecline: a dispatcher takes an assigned unit off with a
// reason and the engine offers the incident to the next unit.
func TestDispatcherDecline(t *testing.T) {
	e, eng := startEngineEnv(t, nil)
	process(t, eng, shiqiIncident("D-1", "fire.building"))
	rec := record(t, eng, "D-1")
	unit := assignedOf(t, eng, rec, "fire")
	code, body := e.post("desk", fmt.Sprintf(`{"kind":"decline","incident":"D-1","unit":%q,"reason":"engine in repair"}`, unit))
	if code != 200 {
		t.Fatalf("decline: %d %s", code, body)
	}
	after := record(t, eng, "D-1")
	if slices.Contains(after.Assigned, unit) || !slices.Contains(after.Declined, unit) || len(after.Assigned) != len(rec.Assigned) {
		t.Errorf("after decline: assigned %v (before %v), declined %v", after.Assigned, rec.Assigned, after.Declined)
	}
	if !slices.ContainsFunc(after.Rec.Units, func(p dispatch.UnitPick) bool {
		return slices.ContainsFunc(p.Reasons, func(r string) bool { return strings.Contains(r, "engine in repair") })
	}) {
		t.Errorf("no replacement names the reason: %+v", after.Rec.Units)
	}
	if st := unitStatus(eng, unit); st != "available" {
		t.Errorf("declined unit is %s", st)
	}
}

// TestETARoute: GET /api/eta gives the model's ETA, then a learned one with
// its trips once a unit's reports told the engine how long the trip took;
// bad points and profiles are 400; a backend without travel times 404.
func TestETARoute(t *testing.T) {
	e, eng := startEngineEnv(t, nil)
	inc := shiqiIncident("I-ETA", "fire.building")
	inc.ReportedAt = time.Date(2013, 5, 31, 12, 0, 0, 0, time.FixedZone("CST", 8*3600))
	process(t, eng, inc)
	rec := record(t, eng, "I-ETA")
	if len(rec.Rec.Units) == 0 {
		t.Fatal("no unit dispatched")
	}
	pick := rec.Rec.Units[0]
	var u teams.UnitView
	for _, v := range eng.Units("") {
		if v.ID == pick.UnitID {
			u = v
		}
	}
	q := fmt.Sprintf("/api/eta?from=%v,%v&to=%v,%v&profile=%s&at=%s", u.Lat, u.Lng, inc.Lat, inc.Lng, u.Profile, url.QueryEscape(inc.ReportedAt.Format(time.RFC3339)))
	var before ETAAnswer
	if code := e.getJSON(q, "desk", &before); code != 200 || before.Source != "model" || !(before.EtaS > 0) || before.EtaS != before.ModelS {
		t.Fatalf("before: %d %+v", code, before)
	}
	dep := inc.ReportedAt.Add(time.Minute)
	arr := dep.Add(time.Duration(3 * before.ModelS * float64(time.Second)))
	if rej, err := eng.Process(context.Background(), nil, []dispatch.UnitEvent{
		{UnitID: u.ID, At: dep, Status: "en_route", Incident: "I-ETA"}, {UnitID: u.ID, At: arr, Status: "on_scene", Incident: "I-ETA"}}); err != nil || len(rej) > 0 {
		t.Fatalf("reports: %v %+v", err, rej)
	}
	var after ETAAnswer
	if code := e.getJSON(q, "leader-fire", &after); code != 200 || after.Source != "learned" || after.Trips != 1 || !(after.EtaS > before.EtaS) || after.ModelS != before.ModelS {
		t.Fatalf("after: %d %+v", code, after)
	}
	for _, bad := range []string{"/api/eta?from=22.5&to=22.6,113.3", "/api/eta?from=91,0&to=22.6,113.3", "/api/eta?from=22.5,113.3&to=22.6,113.3&profile=rocket",
		"/api/eta?from=22.5,113.3&to=22.6,113.3&at=noon"} {
		if resp, _ := e.request("GET", bad, e.tokens["desk"], "", nil); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: %d, want 400", bad, resp.StatusCode)
		}
	}
	if resp, _ := e.request("GET", q, "", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without a token: %d", resp.StatusCode)
	}
	plain := startEnv(t, envOpts{})
	if resp, _ := plain.request("GET", q, plain.tokens["desk"], "", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a backend without travel times: %d, want 404", resp.StatusCode)
	}
}
