// The consoles on a busy shift, against the real server (startSystem):
// locating a call without a position by a map click or a place, the alarm
// bar (one bar per incident, P1 distinct, the queue not pushed down, late
// assignments on the team leader's cards), and a queue of 300 incidents
// filtered, searched and measured; TestBusyModel runs the pure functions of
// queue.js, alarms.js, locate.js and maplayers.js in the browser.

package ui_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/web/ui"
)

// TestLocateByMapAndPlace: a P1 without coordinates ("person down under a
// bridge") is placed by a click on the map and dispatched; another by
// picking a named place. Both are marked approximate, on the page and in
// the engine.
func TestLocateByMapAndPlace(t *testing.T) {
	s := startSystem(t)
	desk := newBrowser(t)
	s.signIn(desk, "desk-1")
	now := time.Now()
	s.process(
		dispatch.Incident{ID: "L-MAP", Type: "drowning", ReportedAt: now.Add(-2 * time.Minute), Description: "person down under a bridge", Address: "a bridge over the Xiaolan waterway"},
		dispatch.Incident{ID: "L-PLACE", Type: "drowning", ReportedAt: now.Add(-time.Minute), Description: "person down under a bridge", Address: "under the Qijiang bridge"},
	)
	waitJS(t, desk, "two manual P1s", `document.querySelectorAll('#queue li.item .tag-manual').length === 2`)

	// A click on the map, near Xiaolan's centre.
	start := time.Now()
	clickJS(t, desk, "open L-MAP", `#queue [data-id="L-MAP"]`)
	clickJS(t, desk, "place on the map", `#locate-map`)
	waitJS(t, desk, "the map waits for a click", `zs110.view.map.picking !== null && !document.getElementById("tab-map").hidden`)
	xy := eval[[]float64](t, desk, `(() => { const mv = zs110.view.map, r = mv.canvas.getBoundingClientRect(); const [x, y] = mv.screen(22.6600, 113.2450); return [r.left + x, r.top + y] })()`)
	do(t, desk, "click on the map", chromedp.MouseClickXY(xy[0], xy[1]))
	waitJS(t, desk, "L-MAP dispatched", `document.querySelector('#queue [data-id="L-MAP"] .state.s-dispatched') !== null && document.querySelector("#detail .units-table tbody tr[data-unit]") !== null`)
	t.Logf("located by a map click and dispatched %v after opening it", time.Since(start).Round(time.Millisecond))
	r := s.incident("L-MAP")
	if r.State != dispatch.StateDispatched || r.Town != "xiaolan" || r.Located == nil || r.Located.Source != "map" || !r.Located.Approximate || len(r.Assigned) == 0 {
		t.Fatalf("engine: L-MAP %s in %q located %+v assigned %v", r.State, r.Town, r.Located, r.Assigned)
	}
	if d := (r.Lat-22.66)*(r.Lat-22.66) + (r.Lng-113.245)*(r.Lng-113.245); d > 0.002*0.002 {
		t.Errorf("the click put L-MAP at %.5f, %.5f, not near Xiaolan's centre", r.Lat, r.Lng)
	}
	waitJS(t, desk, "approximate position shown", `document.querySelector('#detail .located.approx[data-source="map"]')?.textContent.includes("approximate")`)

	// A place of the gazetteer, found by a part of its name.
	start = time.Now()
	clickJS(t, desk, "open L-PLACE", `#queue [data-id="L-PLACE"]`)
	waitJS(t, desk, "locate panel", `document.getElementById("locate-place") !== null`)
	do(t, desk, "search a place", chromedp.SendKeys(chromedp.CSS("#locate-place"), "qijiang bri"))
	waitJS(t, desk, "the bridge offered", `document.querySelector('#locate-places .btn-place[data-ref="place:qijiang-bridge"]') !== null`)
	clickJS(t, desk, "pick the bridge", `#locate-places .btn-place[data-ref="place:qijiang-bridge"]`)
	waitJS(t, desk, "L-PLACE dispatched", `document.querySelector('#queue [data-id="L-PLACE"] .state.s-dispatched') !== null`)
	t.Logf("located by a place and dispatched %v after opening it", time.Since(start).Round(time.Millisecond))
	r = s.incident("L-PLACE")
	if r.State != dispatch.StateDispatched || r.Town != "shiqi" || r.Located == nil || r.Located.Place != "place:qijiang-bridge" || !r.Located.Approximate || r.Located.By != "desk-1" {
		t.Fatalf("engine: L-PLACE %s in %q located %+v", r.State, r.Town, r.Located)
	}
	waitJS(t, desk, "the place named in the detail", `document.querySelector('#detail .located.approx[data-source="place"]')?.textContent.includes("Qijiang Bridge")`)
	waitJS(t, desk, "and in the history", `[...document.querySelectorAll('#history li[data-what="locate"]')].some(li => li.textContent.includes("Qijiang Bridge") && li.textContent.includes("desk-1"))`)
	hs, err := s.eng.History(context.Background(), "", "L-PLACE")
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(hs, func(h dispatch.HistoryEntry) bool { return h.What == dispatch.ActLocate }); i < 0 || hs[i].Located == nil || hs[i].Located.Place != "place:qijiang-bridge" || hs[i].By != "desk-1" || hs[i].Lat == 0 {
		t.Errorf("history of L-PLACE: %+v", hs)
	}
}

// TestEscalationBar: two P1 fires, each with several units that do not
// accept in time: one escalation bar per incident naming every late unit,
// the two P1 alerts stay bars of their own, the queue does not move down,
// and the fire team's leader sees the late assignments flagged.
func TestEscalationBar(t *testing.T) {
	s := startSystem(t)
	desk := newBrowser(t)
	s.signIn(desk, "desk-1")
	fire := newBrowser(t)
	s.signIn(fire, "leader-fire")
	do(t, desk, "enable sound", chromedp.Click(chromedp.CSS("#queue")))
	top0 := eval[float64](t, desk, `document.getElementById("queue").getBoundingClientRect().top`)
	now := time.Now()
	fire1, fire2 := incidentAt("E-FIRE-1", "fire.building", shiqi, now.Add(-time.Minute)), incidentAt("E-FIRE-2", "fire.building", xiaolan, now)
	fire1.Address, fire1.Description = "孙文中路 88 号 88 Sunwen Road", "smoke from the 3rd floor, two people at a window"
	fire2.Address, fire2.Description = "小榄镇 升平中路 Shengping Road", "workshop on fire, workers outside"
	s.process(fire1, fire2)
	waitJS(t, desk, "two P1 bars", `document.querySelectorAll('#alerts .p1-alert').length === 2`)
	if _, err := s.eng.EscalateOverdue(context.Background(), "", 0); err != nil {
		t.Fatal(err)
	}
	late := map[string]int{}
	total := 0
	for _, id := range []string{"E-FIRE-1", "E-FIRE-2"} {
		r := s.incident(id)
		late[id] = len(r.Escalated)
		total += len(r.Escalated)
		if len(r.Escalated) < 3 {
			t.Fatalf("%s: only %d units escalated (%v): the test needs three or more", id, len(r.Escalated), r.Escalated)
		}
	}
	waitJS(t, desk, "every escalation received", sel(`zs110.model.alerts.length >= %d`, total))
	waitJS(t, desk, "one escalation bar per incident", `document.querySelectorAll('#alerts .escalation').length === 2`)
	for id, n := range late {
		got := eval[string](t, desk, sel(`document.querySelector('#alerts .escalation[data-incident=%q]')?.dataset.units || ""`, id))
		if got != fmt.Sprint(n) {
			t.Errorf("%s: the bar names %s late units, the engine %d", id, got, n)
		}
	}
	if n := eval[int](t, desk, `document.querySelectorAll('#alerts .p1-alert').length`); n != 2 {
		t.Errorf("%d P1 bars after the escalations, want 2", n)
	}
	top1 := eval[float64](t, desk, `document.getElementById("queue").getBoundingClientRect().top`)
	bar := eval[float64](t, desk, `document.getElementById("alerts").getBoundingClientRect().height`)
	t.Logf("queue top %.0f px with no alarm, %.0f px with 2 P1 and %d escalations; alarm strip %.0f px high", top0, top1, total, bar)
	if top1 != top0 || bar > 60 {
		t.Errorf("the alarms moved the queue from %.0f to %.0f px (strip %.0f px high)", top0, top1, bar)
	}
	// The fire team's leader: the late assignments are flagged on the cards.
	waitJS(t, fire, "late assignments flagged", `document.querySelectorAll('#assignments .card.late .late-flag').length >= 2`)
	for _, id := range []string{"E-FIRE-1", "E-FIRE-2"} {
		r := s.incident(id)
		for _, u := range r.Escalated {
			if !strings.HasPrefix(u, "FE-") && !strings.HasPrefix(u, "LAD-") {
				continue
			}
			if !eval[bool](t, fire, sel(`document.querySelector('#assignments .card.late[data-incident=%q][data-unit=%q] .late-flag') !== null`, id, u)) {
				t.Errorf("fire leader: %s on %s not flagged late", u, id)
			}
		}
	}
	screenshot(t, fire, "team-leader-console", true)
	screenshot(t, desk, "dispatcher-escalations", false)
	// Acknowledging a bar removes that incident's escalations only.
	clickJS(t, desk, "acknowledge", `#alerts .escalation[data-incident="E-FIRE-1"] .btn-ack`)
	waitJS(t, desk, "one bar left", `document.querySelectorAll('#alerts .escalation').length === 1 && document.querySelector('#alerts .escalation[data-incident="E-FIRE-2"]') !== null`)
}

// queue300 makes n incidents over every town and type of the catalogue,
// some without a position, some of an unknown type, some reported days or
// years ago, ids Q300-0000...
func (s *system) queue300(n int) []dispatch.Incident {
	r := rand.New(rand.NewPCG(3, 300))
	var types []string
	for _, ty := range s.sc.Types {
		if ty.Code != s.sc.Fallback {
			types = append(types, ty.Code)
		}
	}
	now := time.Now()
	out := make([]dispatch.Incident, 0, n)
	for i := range n {
		town := s.sc.Towns[i%len(s.sc.Towns)]
		inc := dispatch.Incident{
			ID: fmt.Sprintf("Q300-%04d", i), Type: types[(i*7)%len(types)], ReportedAt: now.Add(-time.Duration(i) * 7 * time.Minute),
			Lat: town.Center.Lat + (r.Float64()-0.5)*0.02, Lng: town.Center.Lng + (r.Float64()-0.5)*0.02, HasLocation: true,
			Address: fmt.Sprintf("%s 第%d号 No. %d %s Road", town.NameZH, i, i, town.NameEN),
		}
		switch {
		case i%50 == 7:
			inc.Lat, inc.Lng, inc.HasLocation = 0, 0, false
		case i%60 == 11:
			inc.Type = "ufo.sighting"
		}
		if i%10 == 3 {
			inc.ReportedAt = time.Date(2013, 5, 31, 20, 14, 3, 0, time.UTC).Add(time.Duration(i) * time.Hour)
		}
		out = append(out, inc)
	}
	return out
}

// TestQueueOf300: 300 incidents through the real engine: the counts per
// state match the engine's, filters by priority, town, type and state and
// the search by id or address show exactly the incidents they should, and
// the layout holds (measured boxes: nothing overflows its card, a town name
// is on one line, an age past 24 h is a short date, the queue scrolls
// inside the viewport). It also takes the README's dispatcher screenshot.
func TestQueueOf300(t *testing.T) {
	s := startSystem(t)
	desk := newBrowser(t)
	s.signIn(desk, "desk-1")
	incs := s.queue300(300)
	sent := time.Now()
	s.process(incs...)
	t.Logf("the engine decided %d incidents in %v", len(incs), time.Since(sent).Round(time.Millisecond))
	open := s.eng.Incidents("")
	waitFor(t, desk, 15*time.Second, "the 300 in the queue", sel(`document.querySelector('#queue-counts [data-state="all"] .qn')?.textContent === "%d"`, len(open)))
	t.Logf("%d open incidents on the page %v after they were sent", len(open), time.Since(sent).Round(time.Millisecond))
	if len(open) != 300 {
		t.Fatalf("engine has %d open incidents", len(open))
	}
	byState := map[string]int{}
	for _, r := range open {
		byState[r.State]++
	}
	for st, n := range byState {
		if got := eval[string](t, desk, sel(`document.querySelector('#queue-counts [data-state=%q] .qn')?.textContent || ""`, st)); got != fmt.Sprint(n) {
			t.Errorf("count of %s: page %s, engine %d", st, got, n)
		}
	}

	// What a filter should show: the top-level incidents that match, or
	// one of whose linked calls does (queue.js's rule, here on the engine's records).
	visible := func(match func(*dispatch.IncidentRecord) bool) []string {
		calls := map[string][]*dispatch.IncidentRecord{}
		shown := map[string]bool{}
		for i := range open {
			if open[i].State == dispatch.StateLinked && open[i].LinkedTo != "" {
				calls[open[i].LinkedTo] = append(calls[open[i].LinkedTo], &open[i])
			}
			shown[open[i].ID] = true
		}
		var out []string
		for i := range open {
			r := &open[i]
			if r.State == dispatch.StateLinked && shown[r.LinkedTo] {
				continue
			}
			if match(r) || slices.ContainsFunc(calls[r.ID], match) {
				out = append(out, r.ID)
			}
		}
		slices.Sort(out)
		return out
	}
	onPage := func() []string {
		ids := eval[[]string](t, desk, `[...document.querySelectorAll("#queue > li.item")].map(li => li.dataset.id)`)
		slices.Sort(ids)
		return ids
	}
	setSel := func(id, value string) {
		do(t, desk, "filter "+id, chromedp.Evaluate[chromedp.Void](sel(`(() => { const s = document.getElementById(%q); s.value = %q; s.dispatchEvent(new Event("change")) })()`, id, value)))
	}
	check := func(what string, want []string) {
		t.Helper()
		if len(want) == 0 {
			t.Fatalf("%s: the test data has no such incident", what)
		}
		waitJS(t, desk, what, sel(`document.querySelectorAll("#queue > li.item").length === %d`, len(want)))
		if got := onPage(); !slices.Equal(got, want) {
			t.Errorf("%s: page shows %d %v, want %d %v", what, len(got), got, len(want), want)
		}
	}
	check("no filter", visible(func(*dispatch.IncidentRecord) bool { return true }))
	setSel("qf-prio", "1")
	check("P1 only", visible(func(r *dispatch.IncidentRecord) bool { return r.Priority == 1 }))
	setSel("qf-town", "xiaolan")
	check("P1 in Xiaolan", visible(func(r *dispatch.IncidentRecord) bool { return r.Priority == 1 && r.Town == "xiaolan" }))
	setSel("qf-prio", "")
	setSel("qf-town", "")
	setSel("qf-type", "theft")
	check("thefts", visible(func(r *dispatch.IncidentRecord) bool { return r.Type == "theft" }))
	setSel("qf-type", "")
	clickJS(t, desk, "count chip: manual", `#queue-counts [data-state="manual"]`)
	check("manual ones by the count chip", visible(func(r *dispatch.IncidentRecord) bool { return r.State == dispatch.StateManual }))
	clickJS(t, desk, "count chip off", `#queue-counts [data-state="manual"]`)
	do(t, desk, "the search by its key", chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur(); document.body.dispatchEvent(new KeyboardEvent("keydown", {key: "/", bubbles: true}))`))
	waitJS(t, desk, "search focused", `document.activeElement === document.getElementById("qf-search")`)
	do(t, desk, "search an id", chromedp.SendKeys(chromedp.CSS("#qf-search"), "q300-0123"))
	check("search by id", []string{"Q300-0123"})
	do(t, desk, "clear search", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("qf-search"); s.value = ""; s.dispatchEvent(new Event("input")) })()`))
	do(t, desk, "search an address", chromedp.SendKeys(chromedp.CSS("#qf-search"), "No. 42 "))
	check("search by address", []string{"Q300-0042"})
	do(t, desk, "clear search", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("qf-search"); s.value = ""; s.dispatchEvent(new Event("input")) })()`))
	waitJS(t, desk, "all back", sel(`document.querySelectorAll("#queue > li.item").length === %d`, len(visible(func(*dispatch.IncidentRecord) bool { return true }))))

	// The layout, measured, in English and in Chinese (where a narrow town
	// column used to wrap a character a line).
	for _, lang := range []string{"en", "zh"} {
		if lang == "zh" {
			do(t, desk, "switch to Chinese", chromedp.Evaluate[chromedp.Void](`document.getElementById("lang").click()`))
			waitJS(t, desk, "Chinese queue", `document.documentElement.lang === "zh-CN" && document.querySelector(".queue-pane h2").textContent === "警情队列" && document.querySelectorAll("#queue > li.item").length > 200`)
		}
		if lang == "zh" {
			screenshot(t, desk, "dispatcher-queue-zh", false)
		}
		fails := eval[[]string](t, desk, layoutChecks)
		for i, f := range fails {
			if i == 20 {
				t.Errorf("%s: ... %d more", lang, len(fails)-20)
				break
			}
			t.Errorf("%s: %s", lang, f)
		}
	}
	do(t, desk, "back to English", chromedp.Evaluate[chromedp.Void](`document.getElementById("lang").click()`))
	waitJS(t, desk, "English queue", `document.documentElement.lang === "en"`)

	// The map clusters the crowd and names the towns without overlap; zoomed
	// in, units carry their id and status.
	mapFails := eval[[]string](t, desk, `(() => {
  const mv = zs110.view.map, fails = [];
  mv.draw();
  const dots = mv.clusters.reduce((a, c) => a + c.items.length, 0);
  if (!(mv.clusters.length < dots / 2)) fails.push(mv.clusters.length + " clusters for " + dots + " incidents");
  const L = mv.labels;
  for (let i = 0; i < L.length; i++) for (let j = i + 1; j < L.length; j++) {
    const a = L[i].box, b = L[j].box;
    if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) fails.push("labels " + L[i].code + " and " + L[j].code + " overlap");
  }
  for (const c of ["shiqi", "dongqu", "xiqu"]) if (!L.some((l) => l.code === c)) fails.push("no label for " + c);
  if (mv.unitLabels.length !== 0) fails.push("units labelled at the city's zoom");
  // zoomed in on Shiqi: units carry their id and status, without overlap
  mv.center = {lat: 22.522, lng: 113.379}; mv.zoom = 14; mv.draw();
  const U = mv.unitLabels;
  if (U.length < 3) fails.push("only " + U.length + " unit labels at zoom 14");
  for (const l of U) if (!l.text.startsWith(l.id + " · ") || l.text.length <= l.id.length + 3 || !l.status) fails.push("unit label " + l.text + " does not name the status");
  for (let i = 0; i < U.length; i++) for (let j = i + 1; j < U.length; j++) {
    const a = U[i].box, b = U[j].box;
    if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) fails.push("unit labels " + U[i].id + " and " + U[j].id + " overlap");
  }
  if ([...document.querySelectorAll("#tab-map .lg-st")].length < 6) fails.push("the legend does not show the unit statuses");
  mv.reset();
  return fails;
})()`)
	for _, f := range mapFails {
		t.Error(f)
	}

	// The README's picture: the queue under load with a P1 open.
	clickJS(t, desk, "open a P1", `#queue > li.item.p1`)
	waitJS(t, desk, "P1 detail", `document.querySelector("#detail .units-table tbody tr[data-unit]") !== null`)
	do(t, desk, "the flashing over", chromedp.Evaluate[chromedp.Void](`zs110.view.flash.clear(); zs110.view.render()`))
	screenshot(t, desk, "dispatcher-console", true)
}

// layoutChecks measures the queue's boxes and returns what is wrong.
const layoutChecks = `(() => {
  const fails = [], pane = document.querySelector(".queue-pane").getBoundingClientRect();
  const items = [...document.querySelectorAll("#queue li.item")];
  let old = 0;
  for (const li of items) {
    const b = li.getBoundingClientRect(), id = li.dataset.id;
    if (li.scrollWidth > li.clientWidth + 1) fails.push(id + ": content overflows its card (" + li.scrollWidth + " > " + li.clientWidth + ")");
    if (b.right > pane.right + 1) fails.push(id + ": card sticks out of the queue pane");
    const row = li.querySelector(".row1"), r = row.getBoundingClientRect();
    for (const cls of ["type", "town", "age"]) {
      const el = row.querySelector("." + cls), e = el.getBoundingClientRect();
      if (e.right > r.right + 1 || e.left < r.left - 1) fails.push(id + ": " + cls + " outside its row");
      const lh = parseFloat(getComputedStyle(el).lineHeight) || 24;
      if (e.height > lh * 1.5) fails.push(id + ": " + cls + " wraps (" + e.height + " px for a " + lh + " px line): " + el.textContent);
    }
    const age = row.querySelector(".age").textContent;
    if (/^\d{3,}:/.test(age) || age.length > 11) fails.push(id + ": age " + age);
    if (/^\d{4}-\d\d-\d\d$|^\d\d-\d\d \d\d:\d\d$/.test(age)) old++;
  }
  if (old < 30) fails.push("only " + old + " incidents show a date for an age past 24 h");
  const sc = document.querySelector(".queue-scroll").getBoundingClientRect();
  if (sc.bottom > innerHeight + 2) fails.push("the queue runs past the viewport: " + sc.bottom + " > " + innerHeight);
  if (document.documentElement.scrollHeight > innerHeight + 2) fails.push("the page scrolls: " + document.documentElement.scrollHeight);
  return fails;
})()`

// busyChecks runs the pure functions of queue.js, alarms.js, locate.js and
// maplayers.js (against brute-force checks where they search) and returns
// the failures.
const busyChecks = `(async () => {
  const q = await import("/static/queue.js");
  const al = await import("/static/alarms.js");
  const lo = await import("/static/locate.js");
  const ml = await import("/static/maplayers.js");
  const fails = [];
  const eq = (name, got, want) => { const g = JSON.stringify(got), w = JSON.stringify(want); if (g !== w) fails.push(name + ": got " + g + ", want " + w); };

  const recs = [
    {id: "A-1", priority: 1, town: "shiqi", type: "fire.building", state: "dispatched", address: "孙文中路 Sunwen Road"},
    {id: "A-2", priority: 3, town: "xiaolan", type: "theft", state: "awaiting_confirmation", address: "Xiaolan market"},
    {id: "A-3", priority: 3, town: "xiaolan", type: "theft", state: "linked", linked_to: "A-2", address: "market gate"},
    {id: "B-4", priority: 2, town: "dongqu", type: "assault", state: "manual", flags: ["no_location"]},
  ];
  const groups = [{rec: recs[0], calls: []}, {rec: recs[3], calls: []}, {rec: recs[1], calls: [recs[2]]}];
  const ids = (gs) => gs.map((g) => g.rec.id);
  const f = (o) => Object.assign(q.emptyFilter(), o);
  eq("no filter keeps all", ids(q.filterQueue(groups, f({}))), ["A-1", "B-4", "A-2"]);
  eq("priority", ids(q.filterQueue(groups, f({prio: "3"}))), ["A-2"]);
  eq("town", ids(q.filterQueue(groups, f({town: "dongqu"}))), ["B-4"]);
  eq("type", ids(q.filterQueue(groups, f({type: "fire.building"}))), ["A-1"]);
  eq("state", ids(q.filterQueue(groups, f({state: "manual"}))), ["B-4"]);
  eq("needs action", ids(q.filterQueue(groups, f({state: "needs"}))), ["B-4", "A-2"]);
  eq("a linked call keeps its incident", ids(q.filterQueue(groups, f({q: "gate"}))), ["A-2"]);
  eq("search id, any case", ids(q.filterQueue(groups, f({q: "b-4"}))), ["B-4"]);
  eq("search address", ids(q.filterQueue(groups, f({q: "sunwen"}))), ["A-1"]);
  eq("filters combine", ids(q.filterQueue(groups, f({town: "xiaolan", prio: "1"}))), []);
  eq("counts", q.stateCounts(groups), {total: 4, needs: 2, manual: 1, awaiting_confirmation: 1, dispatched: 1, linked: 1});

  const now = Date.parse("2026-12-02T12:00:00Z");
  eq("wait under an hour", q.fmtWait("2026-12-02T11:58:55Z", now), "1:05");
  eq("wait hours", q.fmtWait("2026-12-02T01:00:00Z", now), "11:00:00");
  eq("past 24 h: the date and time in Shanghai", q.fmtWait("2026-11-29T12:14:00Z", now), "11-29 20:14");
  eq("years ago: the date", q.fmtWait("2013-05-31T12:14:03Z", now), "2013-05-31");
  eq("no time", q.fmtWait("", now), "");

  const g = al.groupEscalations([
    {seq: 5, incident: "X", unit: "U1", waited: 120},
    {seq: 6, incident: "X", unit: "U2", waited: 180},
    {seq: 7, incident: "Y", unit: "U9", waited: 60},
    {seq: 8, incident: "X", unit: "U3", waited: 90},
    {seq: 9, incident: "X", unit: "U1", waited: 200},
  ]);
  eq("escalations grouped per incident, newest first, units once", g, [{incident: "X", units: ["U1", "U2", "U3"], waited: 200, seq: 9}, {incident: "Y", units: ["U9"], waited: 60, seq: 7}]);
  eq("late card only while not accepted", [!!al.lateOnCard({escalated: ["U1"]}, "U1"), !!al.lateOnCard({escalated: ["U1"], accepted: ["U1"]}, "U1"), !!al.lateOnCard({escalated: ["U1"]}, "U2")], [true, false, false]);

  const places = [
    {ref: "town:shiqi", kind: "town", name_zh: "石岐区", name_en: "Shiqi", town: "shiqi"},
    {ref: "place:qijiang-bridge", kind: "bridge", name_zh: "岐江桥", name_en: "Qijiang Bridge", town: "shiqi"},
    {ref: "place:qijiang-park", kind: "park", name_zh: "岐江公园", name_en: "Qijiang Park", town: "shiqi"},
    {ref: "station:FIRE-SHIQI", kind: "station", name_zh: "石岐区 消防救援驻点", name_en: "Shiqi fire", town: "shiqi"},
    {ref: "depot:DEP-XIAOLAN", kind: "depot", name_zh: "小榄镇 应急物资仓库", name_en: "Xiaolan depot", town: "xiaolan"},
  ];
  eq("place by English words", lo.searchPlaces(places, "qijiang bri").map((p) => p.ref), ["place:qijiang-bridge"]);
  eq("place by Chinese", lo.searchPlaces(places, "岐江").map((p) => p.ref), ["place:qijiang-bridge", "place:qijiang-park"]);
  eq("named places before stations, by town name", lo.searchPlaces(places, "shiqi").map((p) => p.ref), ["town:shiqi", "station:FIRE-SHIQI", "place:qijiang-bridge", "place:qijiang-park"]);
  eq("depot by town", lo.searchPlaces(places, "小榄").map((p) => p.ref), ["depot:DEP-XIAOLAN"]);
  eq("nothing for an empty query", lo.searchPlaces(places, "  "), []);
  eq("limit", lo.searchPlaces(places, "s", 2).length, 2);

  // clusterPoints: every point within px of its cluster's lead, leads
  // pairwise at least px apart, every point once (brute force over a random set).
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const pts = Array.from({length: 300}, (_, i) => ({x: rnd() * 400, y: rnd() * 300, prio: 1 + (i % 4), i}));
  const cl = ml.clusterPoints(pts, 22);
  const all = cl.flatMap((c) => c.items.map((p) => p.i)).sort((a, b) => a - b);
  eq("every point in one cluster", all, pts.map((p) => p.i));
  for (const c of cl) {
    for (const p of c.items) if ((p.x - c.x) ** 2 + (p.y - c.y) ** 2 >= 22 * 22) fails.push("point " + p.i + " too far from its cluster");
    if (c.prio !== Math.min(...c.items.map((p) => p.prio))) fails.push("cluster colour is not its most urgent priority");
  }
  for (let i = 0; i < cl.length; i++) for (let j = i + 1; j < cl.length; j++) if ((cl[i].x - cl[j].x) ** 2 + (cl[i].y - cl[j].y) ** 2 < 22 * 22) fails.push("two cluster leads closer than 22 px");
  if (!(cl.length < 300 && cl.length > 20)) fails.push(cl.length + " clusters for 300 points");
  eq("px 0: no clustering", ml.clusterPoints(pts.slice(0, 10), 0).length, 10);

  // placeLabels: no two placed boxes overlap or cover an obstacle; each sits beside its anchor.
  const labels = Array.from({length: 60}, (_, i) => ({text: "T" + i, x: rnd() * 300, y: rnd() * 200, w: 40, h: 14}));
  const obst = [{x: 100, y: 100, w: 20, h: 20}];
  const placed = ml.placeLabels(labels, obst);
  const ov = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  for (let i = 0; i < placed.length; i++) {
    if (ov(placed[i].box, obst[0])) fails.push("label over an obstacle");
    for (let j = i + 1; j < placed.length; j++) if (ov(placed[i].box, placed[j].box)) fails.push("labels " + placed[i].text + " and " + placed[j].text + " overlap");
    const b = placed[i].box, l = placed[i];
    if (Math.abs(b.x + b.w / 2 - l.x) > b.w + 6 || Math.abs(b.y + b.h / 2 - l.y) > b.h + 7) fails.push("label " + l.text + " far from its anchor");
  }
  eq("a lone label is placed right of its anchor", ml.placeLabels([{text: "a", x: 50, y: 50, w: 10, h: 10}], []).map((l) => l.box), [{x: 55, y: 39, w: 10, h: 10}]);
  if (placed.length < 20) fails.push("only " + placed.length + " of 60 labels placed");
  return fails;
})()`

// TestBusyModel: the busy-shift logic of the page (queue filters, counts,
// ages, escalation groups, place search, clusters, label placement).
func TestBusyModel(t *testing.T) {
	srv := httptest.NewServer(ui.Handler())
	defer srv.Close()
	ctx := newBrowser(t)
	do(t, ctx, "open", chromedp.Navigate(srv.URL+"/"))
	waitJS(t, ctx, "sign-in form", `document.querySelector("#signin #token-input") !== null`)
	for _, f := range eval[[]string](t, ctx, busyChecks) {
		t.Error(f)
	}
}
