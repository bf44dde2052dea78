package ui_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/zs110/dispatch/dispatch"
)

// rawCodes finds the catalogue codes shown as text on the page: incident
// types, capabilities, materials, unit statuses, incident states, flags,
// towns, teams, reason and refusal codes. It takes the visible text (the
// callers' own words left out: address, description, caller, the raw record),
// removes every name the consoles show for these codes in the current
// language (so that a name such as "available" is not taken for the code),
// and returns the codes still there as words.
const rawCodes = `(async () => {
  const n = await import("/static/names.js");
  const i18n = await import("/static/i18n.js");
  const cfg = await (await fetch("/api/config")).json();
  const states = ["awaiting_confirmation", "dispatched", "manual", "linked", "closed", "cancelled"];
  const k = n.knownCodes();
  const codes = new Set([...cfg.types.map((x) => x.code), ...cfg.capabilities.map((x) => x.code), ...cfg.items.map((x) => x.code),
    ...cfg.statuses, ...states, ...k.flags, ...k.reasons, ...k.invalid, ...cfg.towns.map((x) => x.code), ...cfg.teams.map((x) => x.id)]);
  const names = new Set();
  for (const c of codes) for (const f of [n.typeName, n.capName, n.itemName, n.townLabel, n.teamLabel, n.statusName, n.stateName, n.flagName]) {
    const v = f(c);
    if (v && v !== c) names.add(v);
  }
  for (const d of cfg.depots) names.add(n.depotName(d.id));
  for (const l of i18n.allLabels()) if (!l.includes("{")) names.add(l);
  for (const c of [...cfg.statuses, ...states]) names.add(n.statusName(c)), names.add(n.stateName(c));
  const skip = ".address, .addr, .description, .caller, #raw-record, script, style, datalist, [hidden], .help";
  let text = "";
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walk.nextNode(); node; node = walk.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest(skip) || el.getClientRects().length === 0) continue;
    text += " " + node.textContent;
  }
  for (const name of [...names].sort((a, b) => b.length - a.length)) text = text.split(name).join(" | ");
  const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return [...codes].filter((c) => new RegExp("(^|[^A-Za-z0-9_.-])" + esc(c) + "($|[^A-Za-z0-9_-])").test(text)).sort();
})()`

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// scan fails the test when a view shows a raw code.
func scan(t *testing.T, ctx context.Context, view string) {
	t.Helper()
	if got := eval[[]string](t, ctx, rawCodes); len(got) > 0 {
		body := eval[string](t, ctx, `document.body.innerText`)
		t.Errorf("%s shows raw codes %v:\n%s", view, got, body)
	}
}

// TestNoRawCodes renders every view of both consoles in Chinese and in
// English (the queue, the detail of every incident with its units,
// materials, shortfalls and reasons, the P1 banner, the escalation bar, the
// unit board, the activity log, the history, the team leader's cards, the
// refusals of the server) and scans the visible text for catalogue codes.
func TestNoRawCodes(t *testing.T) {
	s := startSystem(t)
	s.outOfService("env_monitor") // a shortfall
	s.outOfService("boat")        // a substitute
	desk, lead := newBrowser(t), newBrowser(t)
	s.signIn(desk, "desk-1")
	s.signIn(lead, "leader-police")
	now := time.Now()
	bad := dispatch.Incident{ID: "N-NAN", Type: "fire.building", ReportedAt: now, Invalid: "bad_json", Raw: `{"id":"N-NAN","type":"fire.building","lat":NaN}`}
	s.process(
		incidentAt("N-THEFT", "theft", dongqu, now.Add(-10*time.Minute)),
		incidentAt("N-UNK", "ufo.sighting", nanlang, now.Add(-5*time.Minute)),
		incidentAt("N-FLOOD", "flooding", sanjiao, now.Add(-4*time.Minute)),
		incidentAt("N-DROWN", "drowning", xiaolan, now.Add(-2*time.Minute)),
		incidentAt("N-HAZ", "hazmat", torch, now.Add(-time.Minute)),
		incidentAt("N-FIRE", "fire.building", shiqi, now.Add(-30*time.Second)),
		incidentAt("N-ASSAULT", "assault", shiqi, now),
		bad,
	)
	waitJS(t, desk, "queue", `document.querySelectorAll("#queue li.item[data-id]").length >= 8`)
	if _, err := s.eng.EscalateOverdue(context.Background(), "", 0); err != nil {
		t.Fatal(err)
	}
	waitJS(t, desk, "escalation and P1 alerts", `document.querySelector("#alerts .escalation") !== null && document.querySelector("#alerts .p1-alert") !== null`)
	// a person's action, for the history and the activity log
	if _, err := s.eng.Act(context.Background(), dispatch.Action{Kind: dispatch.ActConfirm, Incident: "N-THEFT", By: "desk-1", Role: dispatch.RoleDispatcher}); err != nil {
		t.Fatal(err)
	}
	// the scanner sees a code that is shown
	do(t, desk, "plant a code", chromedp.Evaluate[chromedp.Void](`document.body.append(Object.assign(document.createElement("p"), {id: "planted", textContent: "needs a fire_engine"}))`))
	if got := eval[[]string](t, desk, rawCodes); !slicesContains(got, "fire_engine") {
		t.Fatalf("the scanner found %v in a page showing fire_engine", got)
	}
	do(t, desk, "unplant", chromedp.Evaluate[chromedp.Void](`document.getElementById("planted").remove()`))
	ids := eval[[]string](t, desk, `[...document.querySelectorAll("#queue li.item[data-id]")].map(li => li.dataset.id)`)
	for _, lang := range []string{"en", "zh"} {
		if lang == "zh" {
			do(t, desk, "chinese", chromedp.Click(chromedp.CSS("#lang")))
			do(t, lead, "chinese", chromedp.Click(chromedp.CSS("#lang")))
		}
		waitJS(t, desk, "language "+lang, sel(`document.documentElement.lang.startsWith(%q)`, lang))
		for _, id := range ids {
			clickJS(t, desk, "open "+id, sel(`#queue [data-id=%q]`, id))
			waitJS(t, desk, "detail and history of "+id, sel(`document.querySelector("#detail-title")?.textContent.includes(%q) && document.querySelector("#history ol") !== null`, id))
			scan(t, desk, lang+" dispatcher, "+id)
		}
		for _, tab := range []string{"units", "log"} {
			clickJS(t, desk, tab, "#tab-btn-"+tab)
			waitJS(t, desk, tab+" shown", sel(`!document.getElementById("tab-%s").hidden`, tab))
			scan(t, desk, lang+" dispatcher, "+tab)
		}
		clickJS(t, desk, "map", "#tab-btn-map")
		// a refusal of the server, in the toast
		do(t, desk, "refused", chromedp.Evaluate[chromedp.Void](`zs110.view.send({kind: "confirm", incident: "N-FIRE"})`))
		waitJS(t, desk, "refusal shown", `!document.getElementById("toast").hidden && document.getElementById("toast").textContent.length > 0`)
		scan(t, desk, lang+" dispatcher, refusal")

		waitJS(t, lead, "cards", `document.querySelectorAll("#assignments .card").length > 0`)
		card := eval[string](t, lead, `document.querySelector("#assignments .card").dataset.unit`)
		clickJS(t, lead, "illegal on scene", sel(`#assignments .card[data-unit=%q] .act-on_scene`, card))
		waitJS(t, lead, "card error", sel(`document.querySelector('#assignments .card[data-unit=%q] .card-error') !== null`, card))
		scan(t, lead, lang+" team leader")
	}
}
