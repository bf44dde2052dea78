// The console tests against the real server: web.New with its hub and
// token store, serving on a random port of 127.0.0.1, over
// dispatch.NewEngine on memstore with the default Zhongshan scenario.
// Incidents and unit reports go straight into the engine (Engine.Process,
// as the Kafka intake does): Kafka is not what these tests are about.

package ui_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/web"
	"github.com/zs110/dispatch/web/ui"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Places in Zhongshan.
var (
	shiqi   = [2]float64{22.5220, 113.3790}
	torch   = [2]float64{22.5560, 113.4680}
	xiaolan = [2]float64{22.6600, 113.2450}
	sanjiao = [2]float64{22.6800, 113.4200}
	dongqu  = [2]float64{22.5170, 113.4000}
	nanlang = [2]float64{22.4950, 113.5400}
)

// xss is an incident description that must show as text.
const xss = `<script>window.pwned = 1</script><img src=x onerror="window.pwned=2"> smoke from 3rd floor`

// engineBackend is what the server asks of the engine; in memory there is
// no Kafka or database to be unreachable.
type engineBackend struct{ *dispatch.Engine }

func (engineBackend) Ready(context.Context) error { return nil }

type system struct {
	t      *testing.T
	eng    *dispatch.Engine
	sc     *scenario.Scenario
	url    string
	tokens map[string]string // plain tokens by console name
}

// startSystem runs engine, hub and server until the test ends.
func startSystem(t *testing.T) *system {
	t.Helper()
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	store := memstore.New(memstore.Config{})
	hub, err := web.NewHub(web.HubConfig{Source: store, Logger: log, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := dispatch.NewEngine(dispatch.EngineConfig{
		Scenario: sc, Store: store, Logger: log,
		OnCommit: func([]*dispatch.Outcome) { hub.Notify() },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	s := &system{t: t, eng: eng, sc: sc, tokens: map[string]string{}}
	var entries []web.TokenEntry
	add := func(name, role, team string) {
		plain, e, err := web.GenerateToken(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		e.Name, e.Role, e.Team = name, role, team
		entries = append(entries, e)
		s.tokens[name] = plain
	}
	add("desk-1", web.RoleDispatcher, "")
	for _, tm := range sc.Teams {
		add("leader-"+tm.ID, web.RoleTeamLeader, tm.ID)
	}
	tokens, err := web.NewTokenStore(entries)
	if err != nil {
		t.Fatal(err)
	}
	// The consoles are the server's default (package web/ui).
	srv, err := web.New(web.Config{Backend: engineBackend{eng}, Hub: hub, Tokens: tokens, Logger: log, Registerer: reg, Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.url = "http://" + l.Addr().String()
	hubDone, srvDone := make(chan error, 1), make(chan error, 1)
	go func() { hubDone <- hub.Run(ctx) }()
	go func() { srvDone <- srv.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-srvDone; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := <-hubDone; err != nil {
			t.Errorf("hub: %v", err)
		}
	})
	return s
}

// process puts incidents through the engine as intake would.
func (s *system) process(incs ...dispatch.Incident) {
	s.t.Helper()
	if _, err := s.eng.Process(context.Background(), incs, nil); err != nil {
		s.t.Fatal(err)
	}
}

// outOfService reports every unit with capability cap out of service, as
// their vehicle terminals would.
func (s *system) outOfService(capability string) {
	s.t.Helper()
	var evs []dispatch.UnitEvent
	for _, u := range s.sc.Units {
		if slices.Contains(u.Capabilities, capability) {
			evs = append(evs, dispatch.UnitEvent{UnitID: u.ID, Status: "out_of_service"})
		}
	}
	rejects, err := s.eng.Process(context.Background(), nil, evs)
	if err != nil || len(rejects) > 0 {
		s.t.Fatalf("out of service: %v %+v", err, rejects)
	}
}

func (s *system) incident(id string) *dispatch.IncidentRecord {
	s.t.Helper()
	r, err := s.eng.Incident(context.Background(), "", id)
	if err != nil {
		s.t.Fatalf("incident %s: %v", id, err)
	}
	return r
}

func (s *system) unitStatus(id string) string {
	for _, u := range s.eng.Units("") {
		if u.ID == id {
			return string(u.Status)
		}
	}
	return ""
}

// signIn opens the console in English with the named token through the
// link printed at start-up, and waits until it is live.
func (s *system) signIn(ctx context.Context, name string) {
	s.t.Helper()
	do(s.t, ctx, "open", chromedp.Navigate(s.url+"/"))
	do(s.t, ctx, "english", chromedp.Evaluate[chromedp.Void](`localStorage.setItem("zs110.lang", "en")`))
	do(s.t, ctx, "sign in", chromedp.Navigate(s.url+"/?token="+url.QueryEscape(s.tokens[name])))
	waitJS(s.t, ctx, "signed in and live", `document.body.dataset.synced === "1" && document.getElementById("conn").dataset.state === "connected"`)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		s.t.Fatal(err)
	}
	if strings.Contains(loc, "token=") {
		s.t.Errorf("the token stayed in the address bar: %s", loc)
	}
}

// descriptions are what callers said, by incident type.
var descriptions = map[string][2]string{
	"theft":        {"兴中道 12 号 12 Xingzhong Road", "e-bike stolen outside the market, caller is the owner"},
	"assault":      {"中山四路 30 号 30 Zhongshan 4th Road", "two men fighting outside a restaurant, one bleeding"},
	"flooding":     {"三角镇沙栏东路 Shalan East Road", "street under 40 cm of water, cars stalled"},
	"drowning":     {"小榄水道 Xiaolan waterway", "child fell from the embankment, not seen since"},
	"hazmat":       {"火炬开发区 科技大道 Keji Avenue", "tanker leaking, strong smell of ammonia"},
	"fire.vehicle": {"东区 博爱路 Bo'ai Road", "car on fire in a car park"},
	"ufo.sighting": {"南朗镇 Nanlang", "bright lights over the hills (type not in the catalogue)"},
}

// incidentAt is an incident of type typ at a place; with the xss
// description for the ids that test it, a caller's words otherwise.
func incidentAt(id, typ string, at [2]float64, reported time.Time) dispatch.Incident {
	inc := dispatch.Incident{ID: id, ReportedAt: reported, Type: typ, Lat: at[0], Lng: at[1], HasLocation: true,
		Address: "孙文中路 88 号 Sunwen Road", Description: xss}
	if d, ok := descriptions[typ]; ok && !xssIDs[id] {
		inc.Address, inc.Description = d[0], d[1]
	}
	return inc
}

// xssIDs are the incidents whose description is a script.
var xssIDs = map[string]bool{"Q-FIRE": true, "Q-DUP": true, "T-THEFT": true, "A-THEFT": true, "ZS-P1-1": true}

func sel(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// noMarkup fails when an incident description was run or parsed as HTML.
func noMarkup(t *testing.T, ctx context.Context, scope string) {
	t.Helper()
	if n := eval[int](t, ctx, sel(`document.querySelectorAll("%s script, %s img").length + (window.pwned ? 100 : 0)`, scope, scope)); n != 0 {
		t.Fatalf("an incident description was interpreted as HTML in %s (%d)", scope, n)
	}
}

// TestSignInForm: a browser with a forged token is asked for one; typing
// the token signs in.
func TestSignInForm(t *testing.T) {
	s := startSystem(t)
	ctx := newBrowser(t)
	navigate(t, ctx, "forged link", chromedp.Navigate(s.url+"/?token=forged"))
	waitJS(t, ctx, "token box", `document.querySelector("#signin #token-input") !== null && document.body.dataset.role === "none"`)
	navigate(t, ctx, "submit the token", chromedp.SendKeys(chromedp.CSS("#token-input"), s.tokens["desk-1"]), chromedp.Click(chromedp.CSS(`#signin button[type="submit"]`)))
	waitJS(t, ctx, "dispatcher console", `document.body.dataset.role === "dispatcher" && document.body.dataset.synced === "1"`)
	who := eval[string](t, ctx, `document.getElementById("who").textContent`)
	if !strings.Contains(who, "desk-1") {
		t.Errorf("header %q does not name the console", who)
	}
	if loc := eval[string](t, ctx, `location.href`); strings.Contains(loc, "token=") {
		t.Errorf("the token stayed in the address bar: %s", loc)
	}
}

// TestDispatcherQueue: incidents appear within a second, sorted by
// priority then age, duplicates under their incident, manual and unknown
// types flagged; the detail shows units (team, capability, ETA, distance,
// reasons, substitutions), materials from depots and shortfalls; the map
// draws the towns and the incidents.
func TestDispatcherQueue(t *testing.T) {
	s := startSystem(t)
	s.outOfService("env_monitor") // a hazmat incident will be short of one
	s.outOfService("boat")        // a drowning gets a rescue unit in place of a boat
	desk := newBrowser(t)
	s.signIn(desk, "desk-1")

	now := time.Now()
	noLoc := dispatch.Incident{ID: "Q-NOLOC", Type: "theft", ReportedAt: now.Add(-3 * time.Minute), Address: "somewhere on the 105 road", Description: "caller could not say where"}
	sent := time.Now()
	s.process(
		incidentAt("Q-THEFT", "theft", dongqu, now.Add(-10*time.Minute)),
		incidentAt("Q-UNK", "ufo.sighting", nanlang, now.Add(-5*time.Minute)),
		incidentAt("Q-FLOOD", "flooding", sanjiao, now.Add(-4*time.Minute)),
		noLoc,
		incidentAt("Q-DROWN", "drowning", xiaolan, now.Add(-2*time.Minute)),
		incidentAt("Q-HAZ", "hazmat", torch, now.Add(-time.Minute)),
		incidentAt("Q-FIRE", "fire.building", shiqi, now.Add(-30*time.Second)),
	)
	waitFor(t, desk, time.Second, "every incident in the queue within 1 s", `document.querySelectorAll("#queue li.item[data-id]").length === 7`)
	t.Logf("7 incidents shown %v after they were sent", time.Since(sent).Round(time.Millisecond))
	dupSent := time.Now()
	s.process(incidentAt("Q-DUP", "fire.building", [2]float64{shiqi[0] + 0.0003, shiqi[1]}, now.Add(-20*time.Second)))
	waitFor(t, desk, time.Second, "the duplicate call under its incident within 1 s", `document.querySelector('#queue [data-id="Q-FIRE"] > .calls > [data-id="Q-DUP"]') !== null`)
	t.Logf("linked call shown %v after it was sent", time.Since(dupSent).Round(time.Millisecond))
	if r := s.incident("Q-DUP"); r.State != dispatch.StateLinked || r.LinkedTo != "Q-FIRE" {
		t.Fatalf("engine: Q-DUP is %s linked to %q", r.State, r.LinkedTo)
	}

	order := eval[[]string](t, desk, `[...document.querySelectorAll("#queue > li.item")].map(li => li.dataset.id)`)
	want := []string{"Q-DROWN", "Q-HAZ", "Q-FIRE", "Q-UNK", "Q-FLOOD", "Q-THEFT", "Q-NOLOC"}
	if !slices.Equal(order, want) {
		t.Errorf("queue order %v, want %v (priority, then oldest first)", order, want)
	}
	for _, id := range want {
		r := s.incident(id)
		badge := eval[string](t, desk, sel(`document.querySelector('#queue [data-id=%q] .prio').textContent`, id))
		if badge != fmt.Sprintf("P%d", r.Priority) {
			t.Errorf("%s shows %s, engine says P%d", id, badge, r.Priority)
		}
	}
	waitJS(t, desk, "manual and unknown types flagged",
		`document.querySelector('#queue [data-id="Q-NOLOC"] .tag-manual') !== null && document.querySelector('#queue [data-id="Q-UNK"] .tag-unknown_type') !== null`)
	noMarkup(t, desk, "#queue")

	// The P1 hazmat: units, materials from depots, a shortfall.
	clickJS(t, desk, "open Q-HAZ", `#queue [data-id="Q-HAZ"]`)
	waitJS(t, desk, "hazmat detail", `document.querySelectorAll("#detail .units-table tbody tr[data-unit]").length >= 5`)
	haz := s.incident("Q-HAZ")
	rows := eval[[][]string](t, desk, `[...document.querySelectorAll("#detail .units-table tbody tr[data-unit]")].map(tr => [tr.dataset.unit, ...["team", "cap", "eta", "dist", "ustatus", "reasons"].map(c => tr.querySelector("td." + c).textContent)])`)
	if len(rows) != len(haz.Rec.Units) {
		t.Fatalf("%d unit rows, engine recommends %d", len(rows), len(haz.Rec.Units))
	}
	capEN := map[string]string{}
	for _, c := range s.sc.CapabilityNames() {
		capEN[c.Code] = c.NameEN
	}
	for i, p := range haz.Rec.Units {
		r := rows[i]
		eta := fmt.Sprintf("%d:%02d", int(p.EtaS+0.5)/60, int(p.EtaS+0.5)%60)
		km := fmt.Sprintf("%.1f km", p.DistanceM/1000)
		if r[0] != p.UnitID || r[2] != capEN[p.Capability] || capEN[p.Capability] == "" || r[3] != eta || r[4] != km || !strings.Contains(r[6], p.Reasons[0]) || r[1] == "" {
			t.Errorf("row %d %q, engine %s %s %s %s %s %q", i, r, p.UnitID, p.Team, p.Capability, eta, km, p.Reasons)
		}
	}
	mats := eval[[]string](t, desk, `[...document.querySelectorAll("#detail .materials-table tbody tr")].map(tr => tr.textContent)`)
	if len(mats) != len(haz.Rec.Materials) || len(mats) == 0 || !strings.Contains(strings.Join(mats, " "), "foam") {
		t.Errorf("materials %q, engine %+v", mats, haz.Rec.Materials)
	}
	short := eval[string](t, desk, `document.querySelector("#detail .shortfalls")?.textContent || ""`)
	if len(haz.Rec.Shortfalls) == 0 || !strings.Contains(short, "Environmental monitoring short") {
		t.Errorf("shortfalls shown %q, engine %+v", short, haz.Rec.Shortfalls)
	}
	screenshot(t, desk, "dispatcher-detail", false) // the README's picture is TestQueueOf300's

	// The drowning: a rescue unit substitutes for the boats out of service.
	clickJS(t, desk, "open Q-DROWN", `#queue [data-id="Q-DROWN"]`)
	waitJS(t, desk, "substitution shown", `[...document.querySelectorAll("#detail .units-table .tag")].some(x => x.textContent.includes("Rescue boat → Rescue"))`)

	// The map: the 24 town areas, and the P1 drawn red where it is.
	fails := eval[[]string](t, desk, `(() => {
  const mv = zs110.view.map, fails = [];
  if (mv.cells.length !== 24) fails.push("town areas: " + mv.cells.length);
  const [x, y] = mv.screen(22.6600, 113.2450);
  const px = mv.canvas.getContext("2d").getImageData(Math.round(x * devicePixelRatio), Math.round((y + 7) * devicePixelRatio), 1, 1).data;
  if (!(px[0] > 150 && px[1] < 80 && px[2] < 80)) fails.push("no red P1 at the drowning: " + Array.from(px));
  return fails;
})()`)
	for _, f := range fails {
		t.Error(f)
	}
}

// TestP1AlertAndResume: a P1 flashes and beeps; after the socket drops the
// page resumes from its last sequence number, misses nothing and shows
// nothing twice.
func TestP1AlertAndResume(t *testing.T) {
	s := startSystem(t)
	desk := newBrowser(t)
	s.signIn(desk, "desk-1")
	do(t, desk, "enable sound", chromedp.Click(chromedp.CSS("#queue")))
	now := time.Now()
	s.process(incidentAt("ZS-P1-1", "fire.building", shiqi, now))
	waitJS(t, desk, "P1 alert", `document.querySelector('#alerts .p1-alert') !== null && document.querySelector('#queue [data-id="ZS-P1-1"].flash') !== null`)
	waitJS(t, desk, "beep", `Number(document.body.dataset.beeps || 0) >= 1`)
	screenshot(t, desk, "dispatcher-p1", false)

	before := eval[int](t, desk, `zs110.conn.lastSeq`)
	// Drop the socket, and decide an incident while the page is away.
	do(t, desk, "drop", chromedp.Evaluate[chromedp.Void](`zs110.conn.ws.close()`))
	waitJS(t, desk, "reconnecting shown", `document.getElementById("conn").dataset.state !== "connected"`)
	s.process(incidentAt("ZS-P3-2", "theft", dongqu, now))
	waitJS(t, desk, "resumed", `document.getElementById("conn").dataset.state === "resumed"`)
	waitJS(t, desk, "missed incident arrives", `document.querySelector('#queue [data-id="ZS-P3-2"]') !== null`)
	after := eval[int](t, desk, `zs110.conn.lastSeq`)
	if after <= before {
		t.Errorf("seq %d after resume, %d before", after, before)
	}
	if eval[bool](t, desk, `(() => { const s = zs110.model.log.map(e => e.seq); return new Set(s).size !== s.length })()`) {
		t.Error("an event was applied twice across the resume")
	}
	text := eval[string](t, desk, `document.getElementById("conn").textContent`)
	if !strings.Contains(text, "resumed at seq") {
		t.Errorf("connection state shows %q", text)
	}
}

// TestPageRoutesExist: every API route the pages call exists on the real
// server, refuses a request without a token and answers each role.
func TestPageRoutesExist(t *testing.T) {
	s := startSystem(t)
	routes := map[string]bool{}
	re := regexp.MustCompile(`"(/api/[a-z/]+)`)
	err := fs.WalkDir(ui.FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(path, ".js") {
			return err
		}
		b, err := fs.ReadFile(ui.FS(), path)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			routes[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/api/me", "/api/config", "/api/incidents", "/api/units", "/api/depots", "/api/actions"} {
		if !routes[want] {
			t.Errorf("the pages no longer call %s: update this test", want)
		}
	}
	// The history of an incident: the pages build its path from the id.
	if routes["/api/incidents/"] {
		delete(routes, "/api/incidents/")
		s.process(incidentAt("R-FIRE", "fire.building", shiqi, time.Now()))
		routes["/api/incidents/R-FIRE/history"] = true
	} else {
		t.Error("the pages no longer call /api/incidents/{id}/history: update this test")
	}
	call := func(route, token string) int {
		method, body := http.MethodGet, io.Reader(nil)
		if route == "/api/actions" {
			method, body = http.MethodPost, strings.NewReader(`{"kind":"confirm","incident":"NOPE"}`)
		}
		req, err := http.NewRequest(method, s.url+route, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for route := range routes {
		if code := call(route, ""); code != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d", route, code)
		}
		for _, console := range []string{"desk-1", "leader-fire"} {
			code := call(route, s.tokens[console])
			want := http.StatusOK
			if route == "/api/actions" {
				want = map[string]int{"desk-1": http.StatusNotFound, "leader-fire": http.StatusForbidden}[console]
			}
			if route == "/api/places" && console == "leader-fire" {
				want = http.StatusForbidden // only a console that may locate reads the gazetteer
			}
			if code != want {
				t.Errorf("%s as %s: %d, want %d", route, console, code, want)
			}
		}
	}
}
