package ui_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/zs110/dispatch/dispatch"
)

// TestDispatcherActions: every action of the incident detail, each checked
// on the page (which changes only when the engine's events come back) and
// in the engine: change a unit before confirming, confirm, decline a unit
// with a reason, escalate to the city command team, classify an unknown
// type, locate a manual incident, and close an incident with a reason.
func TestDispatcherActions(t *testing.T) {
	s := startSystem(t)
	desk := newBrowser(t)
	s.signIn(desk, "desk-1")
	now := time.Now()
	s.process(
		incidentAt("A-THEFT", "theft", shiqi, now.Add(-3*time.Minute)),
		incidentAt("A-UNK", "ufo.sighting", nanlang, now.Add(-2*time.Minute)),
		dispatch.Incident{ID: "A-NOLOC", Type: "burglary", ReportedAt: now.Add(-time.Minute), Description: "caller hung up before giving an address"},
	)
	waitJS(t, desk, "three incidents", `document.querySelectorAll("#queue li.item[data-id]").length === 3`)
	open := func(id string) {
		t.Helper()
		clickJS(t, desk, "open "+id, sel(`#queue [data-id=%q]`, id))
		waitJS(t, desk, id+" detail", sel(`document.querySelector("#detail-title .iid")?.textContent === %q`, id))
	}
	row := func(unit string) string { return sel(`#detail .units-table tr[data-unit=%q]`, unit) }

	// Change a unit of the recommendation, then confirm it.
	open("A-THEFT")
	first := s.incident("A-THEFT").Rec.Units[0].UnitID
	do(t, desk, "swap", chromedp.Click(chromedp.CSS(row(first)+" .btn-swap")))
	waitJS(t, desk, "candidates", `document.querySelector("#swap-panel tbody tr[data-unit]") !== null`)
	swapped := eval[string](t, desk, `document.querySelector("#swap-panel tbody tr[data-unit]").dataset.unit`)
	do(t, desk, "use candidate", chromedp.Click(chromedp.CSS("#swap-panel tbody tr[data-unit] .btn-use")))
	waitJS(t, desk, "swapped", sel(`document.querySelector('%s') !== null && document.querySelector('%s') === null`, row(swapped), row(first)))
	do(t, desk, "confirm", chromedp.Click(chromedp.CSS("#btn-confirm")))
	waitJS(t, desk, "dispatched", sel(`document.querySelector("#detail .state.s-dispatched") !== null && document.querySelector('%s .tag-ok') !== null`, row(swapped)))
	if r := s.incident("A-THEFT"); r.State != dispatch.StateDispatched || !slices.Equal(r.Assigned, []string{swapped}) {
		t.Fatalf("engine after swap and confirm: %s %v, want [%s]", r.State, r.Assigned, swapped)
	}

	// Decline the unit with a reason: the engine offers the next one.
	waitJS(t, desk, "decline enabled", sel(`!document.querySelector('%s .btn-decline').disabled`, row(swapped)))
	do(t, desk, "decline", chromedp.Click(chromedp.CSS(row(swapped)+" .btn-decline")))
	do(t, desk, "reason", chromedp.SendKeys(chromedp.CSS("#decline-reason"), "flat tyre"), chromedp.Click(chromedp.CSS(`#decline-panel button[type="submit"]`)))
	waitJS(t, desk, "replacement shown", sel(`document.querySelector('%s') === null && [...document.querySelectorAll("#detail .units-table .reasons")].some(td => td.textContent.includes("declined: flat tyre"))`, row(swapped)))
	r := s.incident("A-THEFT")
	if !slices.Contains(r.Declined, swapped) || len(r.Assigned) != 1 || r.Assigned[0] == swapped {
		t.Fatalf("engine after decline: assigned %v declined %v", r.Assigned, r.Declined)
	}

	// Escalate: a unit of the city command team joins.
	do(t, desk, "escalate", chromedp.Click(chromedp.CSS("#btn-escalate")))
	waitJS(t, desk, "command unit shown", `[...document.querySelectorAll("#detail .units-table td.team")].some(td => td.title === "command")`)
	r = s.incident("A-THEFT")
	if !slices.ContainsFunc(r.Rec.Units, func(p dispatch.UnitPick) bool { return p.Team == "command" && slices.Contains(r.Assigned, p.UnitID) }) {
		t.Fatalf("engine after escalate: %+v assigned %v", r.Rec.Units, r.Assigned)
	}
	assigned := slices.Clone(r.Assigned)

	// Close with a reason: the units are freed and the incident leaves the queue.
	do(t, desk, "close", chromedp.Click(chromedp.CSS("#btn-cancel")))
	do(t, desk, "reason", chromedp.SendKeys(chromedp.CSS("#cancel-reason"), "resolved by phone"), chromedp.Click(chromedp.CSS(`#cancel-panel button[type="submit"]`)))
	waitJS(t, desk, "closed", `document.querySelector('#queue [data-id="A-THEFT"]') === null && document.querySelector("#detail .state.s-cancelled") !== null && document.querySelector("#detail .ended") !== null`)
	if r := s.incident("A-THEFT"); r.State != dispatch.StateCancelled {
		t.Errorf("engine: A-THEFT is %s", r.State)
	}
	for _, u := range assigned {
		if st := s.unitStatus(u); st != "available" {
			t.Errorf("unit %s is %s after the incident was closed", u, st)
		}
	}

	// Classify the unknown type.
	open("A-UNK")
	waitJS(t, desk, "classify form", `document.getElementById("classify-form") !== null && document.querySelectorAll("#type-codes option").length > 20`)
	do(t, desk, "classify", chromedp.SendKeys(chromedp.CSS("#classify-type"), "suspicious"), chromedp.Click(chromedp.CSS(`#classify-form button[type="submit"]`)))
	waitJS(t, desk, "classified", `/Suspicious activity|可疑情况/.test(document.querySelector("#detail-title").textContent) && document.getElementById("classify-form") === null && document.querySelector('#queue [data-id="A-UNK"] .tag-unknown_type') === null`)
	if r := s.incident("A-UNK"); r.Type != "suspicious" || !r.TypeKnown {
		t.Errorf("engine: A-UNK is %q known %v", r.Type, r.TypeKnown)
	}

	// Locate the manual incident: the engine decides it.
	open("A-NOLOC")
	waitJS(t, desk, "locate form", `document.getElementById("locate-form") !== null && document.getElementById("btn-escalate").disabled`)
	do(t, desk, "locate",
		chromedp.SendKeys(chromedp.CSS("#locate-lat"), "22.5170"), chromedp.SendKeys(chromedp.CSS("#locate-lng"), "113.4000"),
		chromedp.Click(chromedp.CSS(`#locate-form button[type="submit"]`)))
	waitJS(t, desk, "located and recommended", `document.getElementById("locate-form") === null && document.querySelector("#detail .units-table tbody tr[data-unit]") !== null && document.querySelector('#queue [data-id="A-NOLOC"] .tag-manual') === null`)
	r = s.incident("A-NOLOC")
	if r.State == dispatch.StateManual || r.Town != "dongqu" || r.Rec == nil {
		t.Errorf("engine: A-NOLOC is %s in %q", r.State, r.Town)
	}
	town := eval[string](t, desk, `[...document.querySelectorAll("#detail .facts dt")].find(dt => dt.textContent === "Town")?.nextElementSibling.textContent`)
	if !strings.Contains(town, "East District") {
		t.Errorf("town shown %q", town)
	}
	noMarkup(t, desk, "#detail")
}
