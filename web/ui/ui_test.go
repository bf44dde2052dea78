package ui_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/zs110/dispatch/web/ui"
)

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(ui.Handler())
	defer srv.Close()
	tests := []struct {
		method, path string
		code         int
		ctype        string
		contains     string
	}{
		{"GET", "/", 200, "text/html", `<script type="module" src="/static/app.js">`},
		{"GET", "/index.html", 200, "text/html", `id="app"`},
		{"GET", "/static/app.js", 200, "javascript", "new Connection"},
		{"GET", "/static/style.css", 200, "text/css", ".prio.p1"},
		{"GET", "/static/towns.js", 200, "javascript", "tanzhou"},
		{"HEAD", "/static/model.js", 200, "javascript", ""},
		{"GET", "/", 200, "text/html", `<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">`},
		{"GET", "/static/favicon.svg", 200, "image/svg+xml", "<svg"},
		{"GET", "/favicon.ico", 200, "image/svg+xml", "<svg"},
		{"GET", "/static/", 404, "", ""},
		{"GET", "/static/missing.js", 404, "", ""},
		{"GET", "/api/anything", 404, "", ""},
		{"POST", "/", 405, "", ""},
	}
	for _, tc := range tests {
		req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.code {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, res.StatusCode, tc.code)
			continue
		}
		if tc.ctype != "" && !strings.Contains(res.Header.Get("Content-Type"), tc.ctype) {
			t.Errorf("%s %s: content type %q, want %q", tc.method, tc.path, res.Header.Get("Content-Type"), tc.ctype)
		}
		if tc.contains != "" && !strings.Contains(string(body), tc.contains) {
			t.Errorf("%s %s: body lacks %q", tc.method, tc.path, tc.contains)
		}
	}
}

// TestAssetsOffline: nothing is fetched from the internet, no inline script
// (the server's CSP is default-src 'self'), and no data reaches innerHTML.
func TestAssetsOffline(t *testing.T) {
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/`)
	n := 0
	err := fs.WalkDir(ui.FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		b, err := fs.ReadFile(ui.FS(), path)
		if err != nil {
			return err
		}
		s := strings.ReplaceAll(string(b), `xmlns="http://www.w3.org/2000/svg"`, "") // a name, never fetched
		if m := external.FindString(s); m != "" {
			t.Errorf("%s refers to an outside address %q", path, m)
		}
		if strings.Contains(s, "innerHTML") || strings.Contains(s, "outerHTML") || strings.Contains(s, "insertAdjacentHTML") || strings.Contains(s, "document.write") {
			t.Errorf("%s writes HTML from strings", path)
		}
		if strings.HasSuffix(path, ".html") && regexp.MustCompile(`<script(?:[^>]*)>\s*[^<\s]`).MatchString(s) {
			t.Errorf("%s has an inline script", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("only %d assets embedded", n)
	}
}

// modelChecks runs the pure functions of model.js, dom.js and i18n.js in the
// browser and returns the failures.
const modelChecks = `(async () => {
  const m = await import("/static/model.js");
  const dom = await import("/static/dom.js");
  const fails = [];
  const eq = (name, got, want) => { const g = JSON.stringify(got), w = JSON.stringify(want); if (g !== w) fails.push(name + ": got " + g + ", want " + w); };

  const md = new m.Model();
  md.setIncidents([
    {id: "a", priority: 3, reported_at: "2026-01-01T00:00:00Z", state: "awaiting_confirmation", version: 1},
    {id: "b", priority: 1, reported_at: "2026-01-01T00:05:00Z", state: "dispatched", version: 2, assigned: ["U2"]},
    {id: "c", priority: 3, reported_at: "2026-01-01T00:02:00Z", state: "linked", linked_to: "a", version: 1},
    {id: "d", priority: 3, reported_at: "2025-12-31T23:59:00Z", state: "manual", version: 1, flags: ["no_location"]},
    {id: "e", priority: 1, reported_at: "2026-01-01T00:01:00Z", state: "dispatched", version: 1},
  ]);
  eq("queue order: priority then age, linked calls grouped", md.queue().map(g => [g.rec.id, g.calls.map(c => c.id)]), [["e", []], ["b", []], ["d", []], ["a", ["c"]]]);
  eq("new event applied", md.apply({seq: 10, kind: "incident.updated", data: {id: "a", version: 2, state: "dispatched", priority: 3}}), true);
  eq("same seq twice is dropped", md.apply({seq: 10, kind: "incident.updated", data: {id: "a", version: 3, state: "cancelled"}}), false);
  eq("record replaced", md.incidents.get("a").state, "dispatched");
  md.apply({seq: 11, kind: "incident.updated", data: {id: "b", version: 1, state: "awaiting_confirmation"}});
  eq("older version ignored", md.incidents.get("b").state, "dispatched");
  md.apply({seq: 12, kind: "incident.closed", data: {id: "b", version: 3, state: "closed"}});
  eq("closed incident leaves the queue", md.incidents.has("b"), false);
  eq("closed incident is kept for its detail", md.closed.get("b")?.state, "closed");
  md.apply({kind: "incident.updated", data: {id: "b", version: 2, state: "dispatched"}});
  eq("an older open version does not reopen it", md.incidents.has("b"), false);
  md.apply({seq: 13, kind: "assignment.escalated", incident: "a", unit: "U9", data: {incident: "a", unit: "U9", waited_s: 120}});
  eq("escalation alert", md.alerts.map(a => [a.incident, a.unit, a.waited]), [["a", "U9", 120]]);
  md.apply({seq: 14, kind: "incident.cancelled", data: {id: "a", version: 9, state: "cancelled"}});
  eq("alert dropped with its incident", md.alerts.length, 0);
  eq("last seq", md.lastSeq, 14);
  md.setUnits([{id: "U1", team: "fire", status: "available", since: "2026-01-01T00:00:00Z", capabilities: ["fire_engine"]}]);
  md.apply({seq: 15, kind: "unit.status", data: {unit_id: "U1", team: "fire", old_status: "available", new_status: "dispatched", incident: "e", at: "2026-01-01T00:06:00Z"}});
  eq("unit status applied", [md.units.get("U1").status, md.units.get("U1").incident, md.units.get("U1").capabilities], ["dispatched", "e", ["fire_engine"]]);
  md.apply({seq: 16, kind: "unit.status", data: {unit_id: "U1", team: "fire", new_status: "available", at: "2026-01-01T00:01:00Z"}});
  eq("older unit change ignored", md.units.get("U1").status, "dispatched");
  md.apply({seq: 17, kind: "assignment.new", incident: "e", unit: "U1", data: {incident: {id: "e", priority: 1, state: "dispatched", version: 2, assigned: ["U1", "P7"]}, unit: {unit_id: "U1", team: "fire", eta_s: 90}}});
  eq("team leader sees own team's assignment", md.assignments("fire").map(a => [a.rec.id, a.unitId, a.pick.eta_s]), [["e", "U1", 90]]);

  eq("invalid record", m.needsAction({state: "manual", flags: ["invalid_record"]}), ["manual", "invalid"]);
  eq("needs action", [m.needsAction({state: "manual", flags: ["no_location"]}), m.needsAction({state: "dispatched", type_known: false, flags: ["unknown_type"]}), m.needsAction({state: "awaiting_confirmation", recommendation: {shortfalls: [{}]}})], [["manual"], ["unknown_type"], ["confirm", "shortfall"]]);
  eq("dispatcher actions awaiting", m.dispatcherActions({state: "awaiting_confirmation", lat: 22.5, lng: 113.4, recommendation: {units: []}}), {confirm: true, swap: true, add: true, escalate: true, cancel: true, classify: false, locate: false});
  eq("dispatcher actions manual", m.dispatcherActions({state: "manual", type_known: false}), {confirm: false, swap: false, add: false, escalate: false, cancel: true, classify: true, locate: true});
  eq("dispatcher actions closed", m.dispatcherActions({state: "closed", lat: 22.5, lng: 113.4, recommendation: {units: []}}), {confirm: false, swap: false, add: false, escalate: false, cancel: false, classify: false, locate: false});
  eq("decline an assigned unit", [m.unitDeclinable({state: "dispatched", assigned: ["U"]}, "U", "dispatched"), m.unitDeclinable({state: "dispatched", assigned: ["U"]}, "U", "en_route"), m.unitDeclinable({state: "awaiting_confirmation"}, "U", "available"), m.unitDeclinable({state: "dispatched", assigned: ["U"]}, "V", "")], [true, false, false, false]);
  eq("leader dispatched", m.leaderActions("dispatched", false), {accept: true, decline: true, en_route: true, on_scene: false, returning: false, available: false});
  eq("leader accepted", m.leaderActions("dispatched", true), {accept: false, decline: true, en_route: true, on_scene: false, returning: false, available: false});
  eq("leader en route", m.leaderActions("en_route", true), {accept: false, decline: false, en_route: false, on_scene: true, returning: false, available: false});
  eq("leader on scene", m.leaderActions("on_scene", true), {accept: false, decline: false, en_route: false, on_scene: false, returning: true, available: true});
  eq("leader returning", m.leaderActions("returning", true), {accept: false, decline: false, en_route: false, on_scene: false, returning: false, available: true});
  eq("leader available", m.leaderActions("available", true), {accept: false, decline: false, en_route: false, on_scene: false, returning: false, available: false});

  eq("eta", [m.fmtEta(0), m.fmtEta(59.6), m.fmtEta(212.4), m.fmtEta(3725), m.fmtEta(NaN)], ["0:00", "1:00", "3:32", "1:02:05", "–"]);
  eq("km", [m.fmtKm(1634.2), m.fmtKm(50)], ["1.6 km", "0.1 km"]);
  eq("Asia/Shanghai time", [m.fmtTime("2013-05-31T12:14:03Z", "en"), m.fmtTime("2013-05-31T20:14:03+08:00", "zh"), m.fmtTime("2013-05-31T23:59:59Z", "en", true)], ["20:14:03", "20:14:03", "01/06/2013, 07:59:59"]);
  // names.js: names, reasons and refusals in both languages
  const n = await import("/static/names.js");
  const i18n = await import("/static/i18n.js");
  const was = i18n.getLang();
  n.useNames({types: [{code: "fire.building", name_zh: "建筑火灾", name_en: "Building fire"}],
    capabilities: [{code: "fire_engine", name_zh: "消防车", name_en: "Fire engine"}, {code: "boat", name_zh: "救生艇", name_en: "Rescue boat"}],
    items: [{code: "sandbag", name_zh: "沙袋", name_en: "Sandbags"}], depots: [{id: "DEP-X", name_zh: "X仓库", name_en: "X depot"}]});
  i18n.setLang("en");
  eq("names en", [n.typeName("fire.building"), n.capName("fire_engine"), n.itemName("sandbag"), n.depotName("DEP-X"), n.capName("nope"), n.statusName("en_route")],
    ["Building fire", "Fire engine", "Sandbags", "X depot", "nope", "en route"]);
  eq("eta reason en", n.whyText({code: "eta", eta_s: 226, distance_m: 1200}), "ETA 3m46s over 1.2 km");
  eq("learned eta en", n.whyText({code: "eta", eta_s: 226, distance_m: 1200, source: "learned", trips: 12}), "ETA 3m46s over 1.2 km (learned from 12 trips)");
  eq("reasons of a pick", n.pickReasons({why: [{code: "eta", eta_s: 60, distance_m: 500}, {code: "substitute", capability: "boat"}]}), "ETA 1m0s over 0.5 km; substitute for Rescue boat");
  eq("shortfall unit en", n.shortfallText({kind: "unit", what: "fire_engine", missing: 2, why: {code: "no_unit", capability: "fire_engine"}}), "2 × Fire engine short: no available Fire engine");
  eq("shortfall material en", n.shortfallText({kind: "material", what: "sandbag", missing: 150, why: {code: "no_stock", item: "sandbag", have: 50, need: 200}}), "150 Sandbags short: only 50 of 200 Sandbags in all depots");
  eq("refusal en", n.errorText({status: 409, reason: {code: "illegal_transition", unit: "U1", from: "dispatched", to: "on_scene"}}), "unit U1 cannot go from dispatched to on scene");
  eq("error by status", [n.errorText({status: 403}), n.errorText({status: 500}), n.errorText({status: 409})], ["not allowed for this console", "internal error", "the action was refused"]);
  eq("swapped in by a person", n.whyText({code: "swapped_in", by: "Wang Wei"}), "swapped in by Wang Wei");
  i18n.setLang("zh");
  eq("names zh", [n.typeName("fire.building"), n.capName("fire_engine"), n.itemName("sandbag"), n.statusName("on_scene")], ["建筑火灾", "消防车", "沙袋", "到场"]);
  eq("eta reason zh", n.whyText({code: "eta", eta_s: 226, distance_m: 1200}), "预计 3分46秒 到达，距离 1.2 km");
  eq("matrix eta zh", n.whyText({code: "eta", eta_s: 226, distance_m: 1200, source: "matrix"}), "预计 3分46秒 到达，距离 1.2 km（机构行程时间表）");
  eq("refusal zh", n.errorText({status: 409, reason: {code: "illegal_transition", unit: "U1", from: "dispatched", to: "on_scene"}}), "单位 U1 不能从「已派」变为「到场」");
  eq("unknown code: a word, never the code", [n.whyText({code: "zzz_new"}), n.invalidName("zzz")], ["其他原因", "记录被拒收"]);
  i18n.setLang(was);

  const s = new m.Sequencer(10);
  eq("resume: first event continues", s.check({seq: 11, prev: 10}), "ok");
  eq("next", s.check({seq: 14, prev: 11}), "ok");
  eq("gap detected", s.check({seq: 16, prev: 15}), "gap");
  s.reset();
  eq("after reconnect a replayed old event is a duplicate", s.check({seq: 13, prev: 0}), "dup");
  eq("then new ones", s.check({seq: 15, prev: 13}), "ok");
  const s2 = new m.Sequencer(20);
  eq("first event on a connection that skipped some", s2.check({seq: 25, prev: 22}), "gap");

  const el = dom.h("div", {}, "<script>window.pwned = 1</script>", dom.h("b", {}, "<img src=x onerror=alert(1)>"));
  eq("text stays text", [el.querySelectorAll("script, img").length, el.textContent], [0, "<script>window.pwned = 1</script><img src=x onerror=alert(1)>"]);
  eq("priority badge says P1..P4", [dom.prioBadge(1).textContent, dom.prioBadge(7).textContent, dom.prioBadge(1).className], ["P1", "P4", "prio p1"]);
  return fails;
})()`

func TestModel(t *testing.T) {
	srv := httptest.NewServer(ui.Handler())
	defer srv.Close()
	ctx := newBrowser(t)
	do(t, ctx, "open", chromedp.Navigate(srv.URL+"/"))
	// Without the server's API the page asks for a token.
	waitJS(t, ctx, "sign-in form", `document.querySelector("#signin #token-input") !== null`)
	fails := eval[[]string](t, ctx, modelChecks)
	for _, f := range fails {
		t.Error(f)
	}
}

// TestLanguage: Chinese by default, the switch is remembered in localStorage.
func TestLanguage(t *testing.T) {
	srv := httptest.NewServer(ui.Handler())
	defer srv.Close()
	ctx := newBrowser(t)
	do(t, ctx, "open", chromedp.Navigate(srv.URL+"/"))
	waitJS(t, ctx, "Chinese sign-in", `document.querySelector("#signin h2")?.textContent === "登录"`)
	do(t, ctx, "switch", chromedp.Click("#lang"))
	waitJS(t, ctx, "English sign-in", `document.querySelector("#signin h2")?.textContent === "Sign in"`)
	do(t, ctx, "reload", chromedp.Reload())
	waitJS(t, ctx, "English remembered", `document.querySelector("#signin h2")?.textContent === "Sign in" && document.documentElement.lang === "en"`)
	do(t, ctx, "help", chromedp.Evaluate[chromedp.Void](`document.body.dispatchEvent(new KeyboardEvent("keydown", {key: "?", bubbles: true}))`))
	waitJS(t, ctx, "help shows the shortcuts", `!document.getElementById("help").hidden && document.getElementById("help").textContent.includes("j / k")`)
}

// TestMap: the offline map pans and zooms from the keyboard and draws
// incidents, units and depots from the model.
func TestMap(t *testing.T) {
	srv := httptest.NewServer(ui.Handler())
	defer srv.Close()
	ctx := newBrowser(t)
	do(t, ctx, "open", chromedp.Navigate(srv.URL+"/"))
	waitJS(t, ctx, "page", `document.querySelector("#signin") !== null`)
	fails := eval[[]string](t, ctx, `(async () => {
  const {MapView} = await import("/static/map.js");
  const {Model} = await import("/static/model.js");
  const {TOWNS} = await import("/static/towns.js");
  const fails = [];
  const c = document.createElement("canvas");
  c.style.width = "600px"; c.style.height = "400px"; c.tabIndex = 0;
  document.body.appendChild(c);
  const mv = new MapView(c, {});
  const key = (k) => c.dispatchEvent(new KeyboardEvent("keydown", {key: k, bubbles: true}));
  const lng0 = mv.center.lng, lat0 = mv.center.lat, z0 = mv.zoom;
  key("ArrowRight");
  if (!(mv.center.lng > lng0)) fails.push("ArrowRight did not pan east");
  key("ArrowUp");
  if (!(mv.center.lat > lat0)) fails.push("ArrowUp did not pan north");
  key("+");
  if (!(mv.zoom > z0)) fails.push("+ did not zoom in");
  key("0");
  if (mv.zoom !== z0 || mv.center.lng !== lng0) fails.push("0 did not reset");
  const md = new Model();
  md.setIncidents([{id: "a", priority: 1, lat: 22.522, lng: 113.379, state: "dispatched", version: 1}]);
  md.setUnits([{id: "u", team: "fire", status: "available", lat: 22.53, lng: 113.38}]);
  md.setDepots([{id: "d", name: "D", location: {lat: 22.51, lng: 113.37}, available: {}}]);
  mv.update(md, "a");
  const [x, y] = mv.screen(22.522, 113.379);
  const px = c.getContext("2d").getImageData(Math.round(x * devicePixelRatio), Math.round(y * devicePixelRatio) + 6, 1, 1).data;
  if (!(px[0] > 150 && px[1] < 80 && px[2] < 80)) fails.push("no red P1 dot at the incident: " + Array.from(px));
  if (mv.cells.length !== 24) fails.push("town areas: " + mv.cells.length);
  for (const t of TOWNS) if (mv.townAt(t.lat, t.lng) !== t.code) fails.push(t.code + " centre lies in " + mv.townAt(t.lat, t.lng));
  if (mv.townAt(22.53, 113.3795) !== "shiqi") fails.push("a point near Shiqi's centre is in " + mv.townAt(22.53, 113.3795));
  if (mv.townAt(23.5, 114.5) !== "") fails.push("a point far outside the city is in " + mv.townAt(23.5, 114.5));
  const [tx, ty] = mv.screen(22.5220, 113.3790);
  if (Math.abs(tx - 300) > 80 || Math.abs(ty - 200) > 80) fails.push("Shiqi is not near the centre: " + tx + "," + ty);
  return fails;
})()`)
	for _, f := range fails {
		t.Error(f)
	}
}
