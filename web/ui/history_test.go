package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/zs110/dispatch/dispatch"
)

// TestHistoryTimeline: after five actions on an incident (the dispatcher's
// confirm and add from the page, the team leader's accept, en route and on
// scene) the detail's timeline lists them in order with who did each, by
// name in English and in Chinese, and the reason a person gave.
func TestHistoryTimeline(t *testing.T) {
	s := startSystem(t)
	desk := newBrowser(t)
	s.signIn(desk, "desk-1")
	s.process(incidentAt("H-THEFT", "theft", shiqi, time.Now()))
	clickJS(t, desk, "open H-THEFT", `#queue [data-id="H-THEFT"]`)
	waitJS(t, desk, "timeline of the decision", `document.querySelectorAll("#history li[data-what]").length === 1`)

	// 1, 2: from the page.
	clickJS(t, desk, "confirm", "#btn-confirm")
	waitJS(t, desk, "confirmed", `document.querySelector('#history li[data-what="confirm"]') !== null`)
	rec := s.incident("H-THEFT")
	unit := rec.Assigned[0]
	extra := ""
	for _, u := range s.eng.Units("") {
		if u.Status == "available" && u.Team == "police" && u.Town == "shiqi" {
			extra = u.ID
			break
		}
	}
	clickJS(t, desk, "add", "#btn-add")
	do(t, desk, "add unit", chromedp.SendKeys(chromedp.CSS("#add-unit-id"), extra), chromedp.Evaluate[chromedp.Void](`document.querySelector("#add-unit-id").form.requestSubmit()`))
	waitJS(t, desk, "added", `document.querySelector('#history li[data-what="add"]') !== null`)
	// 3-5: the team leader, through the engine as the terminal's console would.
	team := ""
	for _, u := range s.eng.Units("") {
		if u.ID == unit {
			team = u.Team
		}
	}
	for _, k := range []string{dispatch.ActAccept, dispatch.ActEnRoute, dispatch.ActOnScene} {
		if _, err := s.eng.Act(context.Background(), dispatch.Action{Kind: k, Incident: "H-THEFT", Unit: unit, By: "leader-" + team, Team: team, Role: dispatch.RoleTeamLeader}); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	waitJS(t, desk, "five actions on the timeline", `document.querySelector('#history li[data-what="on_scene"]') !== null`)
	whats := eval[[]string](t, desk, `[...document.querySelectorAll("#history li[data-what]")].map(li => li.dataset.what).filter(w => w !== "unit_status")`)
	want := []string{"decided", "confirm", "add", "accept", "en_route", "on_scene"}
	if strings.Join(whats, ",") != strings.Join(want, ",") {
		t.Errorf("timeline %v, want %v", whats, want)
	}
	lines := eval[[]string](t, desk, `[...document.querySelectorAll("#history li")].map(li => li.textContent)`)
	text := strings.Join(lines, "\n")
	for _, w := range []string{"desk-1 · Confirm", "desk-1 · Add unit → " + extra, "leader-" + team + " · Accept " + unit,
		"leader-" + team + " · On scene", unit + ": available → dispatched", unit + ": en route → on scene", "engine · decided by the engine (awaiting confirmation)"} {
		if !strings.Contains(text, w) {
			t.Errorf("timeline lacks %q:\n%s", w, text)
		}
	}
	// In Chinese: the same entries by their Chinese names.
	do(t, desk, "chinese", chromedp.Click(chromedp.CSS("#lang")))
	clickJS(t, desk, "open H-THEFT again", `#queue [data-id="H-THEFT"]`)
	waitJS(t, desk, "timeline in Chinese", `[...document.querySelectorAll("#history li")].some(li => li.textContent.includes("到场") && li.textContent.includes("leader-`+team+`"))`)
	zh := eval[string](t, desk, `document.getElementById("history").textContent`)
	for _, w := range []string{"处置记录", "确认派警", "系统决策", "可用 → 已派"} {
		if !strings.Contains(zh, w) {
			t.Errorf("Chinese timeline lacks %q: %s", w, zh)
		}
	}
	noMarkup(t, desk, "#history")
}
