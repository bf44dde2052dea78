package ui_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/zs110/dispatch/dispatch"
)

// TestDispatcherAndTeamLeader: the dispatcher confirms a P3 recommendation;
// within a second the unit's team leader has the assignment, acknowledges
// it and moves the unit en route, on scene, returning and available, while
// an illegal change shows the server's error and the dispatcher's page
// follows every step until the incident closes. The fire team's leader,
// signed in all along, never sees the police incidents.
func TestDispatcherAndTeamLeader(t *testing.T) {
	s := startSystem(t)
	desk, police, fire := newBrowser(t), newBrowser(t), newBrowser(t)
	s.signIn(desk, "desk-1")
	s.signIn(police, "leader-police")
	s.signIn(fire, "leader-fire")

	now := time.Now()
	s.process(incidentAt("T-THEFT", "theft", shiqi, now.Add(-2*time.Minute)), incidentAt("T-ASSAULT", "assault", dongqu, now.Add(-time.Minute)))
	assault := s.incident("T-ASSAULT")
	var policeOnAssault []string
	for _, u := range assault.Assigned {
		if slices.ContainsFunc(assault.Rec.Units, func(p dispatch.UnitPick) bool { return p.UnitID == u && p.Team == "police" }) {
			policeOnAssault = append(policeOnAssault, u)
		}
	}
	waitFor(t, police, time.Second, "the P2's police assignments within 1 s", sel(`document.querySelectorAll('#assignments .card[data-incident="T-ASSAULT"]').length === %d`, len(policeOnAssault)))

	// The dispatcher confirms the P3: the team leader has it within a second.
	clickJS(t, desk, "select", `#queue [data-id="T-THEFT"]`)
	waitJS(t, desk, "detail", `document.querySelector("#detail .units-table tbody tr[data-unit]") !== null && !document.getElementById("btn-confirm").disabled`)
	desc := eval[string](t, desk, `document.querySelector("#detail .description").textContent`)
	if !strings.Contains(desc, "<script>window.pwned = 1</script>") {
		t.Errorf("description shown as %q", desc)
	}
	noMarkup(t, desk, "#detail")
	do(t, desk, "confirm", chromedp.Click(chromedp.CSS("#btn-confirm")))
	confirmed := time.Now()
	waitJS(t, desk, "dispatched", `document.querySelector("#detail .state.s-dispatched") !== null && document.getElementById("btn-confirm").disabled`)
	rec := s.incident("T-THEFT")
	if rec.State != dispatch.StateDispatched || len(rec.Assigned) != 1 {
		t.Fatalf("engine: T-THEFT is %s with %v", rec.State, rec.Assigned)
	}
	unit := rec.Assigned[0]
	card := sel(`#assignments .card[data-incident="T-THEFT"][data-unit=%q]`, unit)
	waitFor(t, police, time.Second, "the confirmed assignment within 1 s", sel(`document.querySelector('%s') !== null`, card))
	t.Logf("assignment on the team leader's console %v after the click", time.Since(confirmed).Round(time.Millisecond))
	noMarkup(t, police, "#assignments")
	if got := eval[string](t, police, sel(`document.querySelector('%s .description').textContent`, card)); got != xss {
		t.Errorf("team leader sees the description as %q", got)
	}

	// Nobody accepted in time: the dispatcher is alerted.
	if _, err := s.eng.EscalateOverdue(context.Background(), "", 0); err != nil {
		t.Fatal(err)
	}
	waitJS(t, desk, "escalation alert", sel(`[...document.querySelectorAll("#alerts .escalation")].some(a => a.textContent.includes(%q))`, unit))

	// Acknowledge.
	unitRow := sel(`#detail .units-table tr[data-unit=%q]`, unit)
	do(t, police, "accept", chromedp.Click(chromedp.CSS(card+" .act-accept")))
	waitJS(t, police, "accepted", sel(`document.querySelector('%s .tag-ok') !== null && document.querySelector('%s .act-accept').disabled`, card, card))
	waitJS(t, desk, "dispatcher sees accepted", sel(`[...document.querySelectorAll('%s .tag-ok')].some(x => x.textContent === "accepted")`, unitRow))
	if r := s.incident("T-THEFT"); !slices.Contains(r.Accepted, unit) {
		t.Fatalf("engine: accepted %v", r.Accepted)
	}
	screenshot(t, police, "team-leader-accepted", false) // the README's picture is TestEscalationBar's

	// Illegal changes: the server's error shows on the card and nothing changes.
	for kind, msg := range map[string]string{
		"on_scene":  "cannot go from dispatched to on scene",
		"returning": "cannot go from dispatched to returning",
		"available": "decline the assignment with a reason instead",
	} {
		do(t, police, kind, chromedp.Click(chromedp.CSS(card+" .act-"+kind)))
		waitJS(t, police, "server error for "+kind, sel(`document.querySelector('%s .card-error')?.textContent.includes(%q)`, card, msg))
		if st := s.unitStatus(unit); st != "dispatched" {
			t.Fatalf("after an illegal %s the unit is %s", kind, st)
		}
	}

	// The status steps; the dispatcher's page shows each.
	for _, step := range []struct{ kind, label string }{{"en_route", "en route"}, {"on_scene", "on scene"}} {
		do(t, police, step.kind, chromedp.Click(chromedp.CSS(card+" .act-"+step.kind)))
		waitJS(t, police, step.kind, sel(`document.querySelector('%s')?.dataset.status === %q && document.querySelector('%s .card-error') === null`, card, step.kind, card))
		waitJS(t, desk, "dispatcher sees "+step.label, sel(`document.querySelector('%s .ustatus')?.textContent === %q`, unitRow, step.label))
	}
	// Returning: the unit leaves the incident, which closes (its only unit).
	do(t, police, "returning", chromedp.Click(chromedp.CSS(card+" .act-returning")))
	unitLine := sel(`#my-units .unit-row[data-unit=%q]`, unit)
	waitJS(t, police, "assignment gone, unit returning", sel(`document.querySelector('%s') === null && document.querySelector('%s')?.dataset.status === "returning"`, card, unitLine))
	waitJS(t, desk, "closed incident leaves the queue", `document.querySelector('#queue [data-id="T-THEFT"]') === null`)
	waitJS(t, desk, "detail marked closed", `document.querySelector("#detail .state.s-closed") !== null && document.querySelector("#detail .ended") !== null && document.getElementById("btn-cancel").disabled`)
	if r := s.incident("T-THEFT"); r.State != dispatch.StateClosed {
		t.Errorf("engine: T-THEFT is %s", r.State)
	}
	do(t, police, "available", chromedp.Click(chromedp.CSS(unitLine+" .act-available")))
	waitJS(t, police, "unit available", sel(`document.querySelector('%s') === null`, unitLine))
	if st := s.unitStatus(unit); st != "available" {
		t.Errorf("engine: %s is %s", unit, st)
	}
	do(t, desk, "units tab", chromedp.Click(chromedp.CSS("#tab-btn-units")))
	waitJS(t, desk, "dispatcher sees the unit available", sel(`document.querySelector('#unit-board tr[data-unit=%q] .st')?.textContent === "available"`, unit))

	// The fire team's leader: a fire incident arrives after everything above
	// (events are in order), and nothing of the police incidents ever did.
	s.process(incidentAt("T-CARFIRE", "fire.vehicle", dongqu, time.Now()))
	waitJS(t, fire, "fire assignment", `document.querySelector('#assignments .card[data-incident="T-CARFIRE"]') !== null`)
	leaked := eval[[]string](t, fire, `(async () => {
  const out = [];
  for (const id of ["T-THEFT", "T-ASSAULT"]) {
    if (document.body.textContent.includes(id)) out.push(id + " on the page");
    if (zs110.model.incidents.has(id) || zs110.model.closed.has(id)) out.push(id + " in the model");
    if (zs110.model.log.some(e => e.incident === id)) out.push(id + " in the event log");
    const res = await fetch("/api/incidents/" + id);
    if (res.status !== 404) out.push(id + " from the API: " + res.status);
  }
  return out;
})()`)
	if len(leaked) > 0 {
		t.Errorf("the fire team's leader saw police incidents: %v", leaked)
	}
	for _, ctx := range []context.Context{desk, police, fire} {
		if eval[bool](t, ctx, `(() => { const s = zs110.model.log.map(e => e.seq); return new Set(s).size !== s.length })()`) {
			t.Error("an event was applied twice")
		}
	}
}
