//go:build uie2e

// The console tests against the real server: web.New with its hub and token
// store, over dispatch.NewEngine on memstore, with the default Zhongshan
// scenario. Incidents go straight into the engine (Engine.Process): Kafka is
// not what these tests are about.

package ui_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/web"
	"github.com/zs110/dispatch/web/ui"
)

// Shiqi, near the town centre.
const shiqiLat, shiqiLng = 22.5220, 113.3790

// engineBackend is what the server asks of the engine; in memory there is
// no Kafka or database to be unreachable.
type engineBackend struct{ *dispatch.Engine }

func (engineBackend) Ready(context.Context) error { return nil }

type system struct {
	t      *testing.T
	eng    *dispatch.Engine
	sc     *dispatch.Scenario
	url    string
	tokens map[string]string // plain tokens by console name
}

// startSystem runs engine, hub and server until the test ends.
func startSystem(t *testing.T) *system {
	t.Helper()
	sc, err := dispatch.DefaultScenario()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	store := memstore.New()
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
	srv, err := web.New(web.Config{Addr: "127.0.0.1:0", Backend: engineBackend{eng}, Hub: hub, Tokens: tokens, Logger: log, Registerer: reg, Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(consoleHandler(srv.Handler()))
	s.url = hs.URL
	done := make(chan error, 1)
	go func() { done <- hub.Run(ctx) }()
	t.Cleanup(func() {
		hs.Close()
		cancel()
		<-done
	})
	return s
}

// consoleHandler serves the console assets of this package and sends
// everything else (sign-in with ?token=, /api/, /ws) to the server. Once the
// server mounts ui.FS itself this is the server's handler alone; the
// security headers are the server's.
func consoleHandler(server http.Handler) http.Handler {
	assets := ui.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/static/") || (r.URL.Path == "/" && r.URL.Query().Get("token") == "") {
			w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			assets.ServeHTTP(w, r)
			return
		}
		server.ServeHTTP(w, r)
	})
}

// process puts incidents through the engine as intake would.
func (s *system) process(incs ...dispatch.Incident) {
	s.t.Helper()
	if _, err := s.eng.Process(context.Background(), incs, nil); err != nil {
		s.t.Fatal(err)
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

// signIn opens the console in English with the named token, as the link
// printed at start-up does, and waits until it is live.
func (s *system) signIn(ctx context.Context, name string) {
	s.t.Helper()
	do(s.t, ctx, "open", chromedp.Navigate(s.url+"/"))
	do(s.t, ctx, "english", chromedp.Evaluate[chromedp.Void](`localStorage.setItem("zs110.lang", "en")`))
	do(s.t, ctx, "sign in", chromedp.Navigate(s.url+"/?token="+url.QueryEscape(s.tokens[name])))
	waitJS(s.t, ctx, "signed in and live", `document.body.dataset.synced === "1"`)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		s.t.Fatal(err)
	}
	if strings.Contains(loc, "token=") {
		s.t.Errorf("the token stayed in the address bar: %s", loc)
	}
}

func newIncident(id, typ string, at time.Time) dispatch.Incident {
	return dispatch.Incident{ID: id, ReportedAt: at, Type: typ, Lat: shiqiLat, Lng: shiqiLng, HasLocation: true,
		Address: "孙文中路 88 号 Sunwen Road", Description: `<script>window.pwned = 1</script><img src=x onerror="window.pwned=2"> smoke from 3rd floor`}
}

func sel(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// TestSignInForm: a browser without a valid token is asked for one.
func TestSignInForm(t *testing.T) {
	s := startSystem(t)
	ctx := newBrowser(t)
	do(t, ctx, "open", chromedp.Navigate(s.url+"/?token=forged"))
	waitJS(t, ctx, "token box", `document.querySelector("#signin #token-input") !== null && document.body.dataset.role === "none"`)
	do(t, ctx, "type token", chromedp.SendKeys("#token-input", s.tokens["desk-1"]), chromedp.Submit("#token-input"))
	waitJS(t, ctx, "dispatcher console", `document.body.dataset.role === "dispatcher" && document.body.dataset.synced === "1"`)
	who := eval[string](t, ctx, `document.getElementById("who").textContent`)
	if !strings.Contains(who, "desk-1") {
		t.Errorf("header %q does not name the console", who)
	}
}

// TestDispatcherAndTeamLeader: a dispatcher confirms a P3 recommendation
// and swaps a unit; the swapped-in unit's team leader accepts, goes en
// route, on scene and clears; the dispatcher's page shows each step.
func TestDispatcherAndTeamLeader(t *testing.T) {
	s := startSystem(t)
	desk := newBrowser(t)
	s.signIn(desk, "desk-1")

	now := time.Now()
	s.process(newIncident("ZS-P3-1", "theft", now.Add(-2*time.Minute)))
	item := `[data-id="ZS-P3-1"]`
	waitJS(t, desk, "P3 in the queue", sel(`document.querySelector('#queue %s .prio')?.textContent === "P3"`, item))
	do(t, desk, "select", chromedp.Click("#queue "+item))
	waitJS(t, desk, "detail", `document.querySelector("#detail .units-table tbody tr[data-unit]") !== null`)

	// Data is text, never markup.
	desc := eval[string](t, desk, `document.querySelector("#detail .description").textContent`)
	if !strings.Contains(desc, "<script>window.pwned = 1</script>") {
		t.Errorf("description shown as %q", desc)
	}
	if n := eval[int](t, desk, `document.querySelectorAll("#detail script, #detail img").length + (window.pwned ? 100 : 0)`); n != 0 {
		t.Fatalf("incident description was interpreted as HTML (%d)", n)
	}
	screenshot(t, desk, "dispatcher-recommendation", true)

	rec := s.incident("ZS-P3-1")
	if rec.State != dispatch.StateAwaiting || rec.Rec == nil || len(rec.Rec.Units) == 0 {
		t.Fatalf("P3 incident is %s with %+v", rec.State, rec.Rec)
	}
	first := rec.Rec.Units[0]

	// Confirm: the page changes when the events come back.
	do(t, desk, "confirm", chromedp.Click("#btn-confirm"))
	waitJS(t, desk, "dispatched", `document.querySelector("#detail .state.s-dispatched") !== null && document.querySelector("#btn-confirm").disabled`)
	if got := s.incident("ZS-P3-1").State; got != dispatch.StateDispatched {
		t.Fatalf("engine says %s after confirm", got)
	}

	// Swap the first unit for the first candidate offered.
	do(t, desk, "swap", chromedp.Click(sel(`#detail .units-table tr[data-unit=%q] .btn-swap`, first.UnitID)))
	waitJS(t, desk, "candidates", `document.querySelector("#swap-panel tbody tr[data-unit]") !== null`)
	newUnit := eval[string](t, desk, `document.querySelector("#swap-panel tbody tr[data-unit]").dataset.unit`)
	screenshot(t, desk, "dispatcher-swap", false)
	do(t, desk, "use candidate", chromedp.Click("#swap-panel tbody tr[data-unit] .btn-use"))
	waitJS(t, desk, "swapped", sel(`document.querySelector('#detail .units-table tr[data-unit=%q]') !== null && document.querySelector('#detail .units-table tr[data-unit=%q]') === null`, newUnit, first.UnitID))
	rec = s.incident("ZS-P3-1")
	var pick dispatch.UnitPick
	for _, p := range rec.Rec.Units {
		if p.UnitID == newUnit {
			pick = p
		}
		if p.UnitID == first.UnitID {
			t.Errorf("swapped-out unit %s still recommended", first.UnitID)
		}
	}
	if pick.UnitID == "" {
		t.Fatalf("engine has no %s on the incident after the swap: %+v", newUnit, rec.Rec.Units)
	}

	// Nobody accepted in time: the dispatcher is alerted.
	if _, err := s.eng.EscalateOverdue(context.Background(), "", 0); err != nil {
		t.Fatal(err)
	}
	waitJS(t, desk, "escalation alert", sel(`[...document.querySelectorAll("#alerts .escalation")].some(a => a.textContent.includes(%q))`, newUnit))
	screenshot(t, desk, "dispatcher-console", true)

	// The team leader of the swapped-in unit.
	lead := newBrowser(t)
	s.signIn(lead, "leader-"+pick.Team)
	card := sel(`#assignments .card[data-incident="ZS-P3-1"][data-unit=%q]`, newUnit)
	waitJS(t, lead, "assignment", sel(`document.querySelector('%s') !== null`, card))
	if eval[bool](t, lead, `window.pwned !== undefined || document.querySelectorAll("#assignments script, #assignments img").length > 0`) {
		t.Fatal("team leader page interpreted the description as HTML")
	}
	screenshot(t, lead, "team-leader-console", true)

	unitRow := sel(`#detail .units-table tr[data-unit=%q]`, newUnit)
	for _, button := range []string{"accept", "en_route", "on_scene"} {
		do(t, lead, button, chromedp.Click(card+" .act-"+button))
		switch button {
		case "accept":
			waitJS(t, lead, "accepted", sel(`document.querySelector('%s .tag-ok') !== null && document.querySelector('%s .act-accept').disabled`, card, card))
			waitJS(t, desk, "dispatcher sees accepted", sel(`[...document.querySelectorAll('%s .tag-ok')].some(x => x.textContent === "accepted")`, unitRow))
		default:
			status := strings.ReplaceAll(button, "_", " ")
			waitJS(t, lead, button, sel(`document.querySelector('.card[data-unit=%q]')?.dataset.status === %q`, newUnit, button))
			waitJS(t, desk, "dispatcher sees "+button, sel(`document.querySelector('%s td:nth-child(6)')?.textContent === %q`, unitRow, status))
		}
	}
	screenshot(t, lead, "team-leader-on-scene", false)
	do(t, lead, "clear", chromedp.Click(card+" .act-clear"))
	waitJS(t, lead, "assignment gone", sel(`document.querySelector('%s') === null`, card))
	waitJS(t, desk, "dispatcher sees the unit cleared", sel(`document.querySelector('%s td:nth-child(6)')?.textContent === "available" && ![...document.querySelectorAll('%s .tag-ok')].some(x => x.textContent === "assigned")`, unitRow, unitRow))
	for _, u := range s.eng.Units("") {
		if u.ID == newUnit && u.Status != "available" {
			t.Errorf("engine: %s is %s after clear", newUnit, u.Status)
		}
	}
	screenshot(t, desk, "dispatcher-after-clear", false)

	// No event shown twice.
	if eval[bool](t, desk, `(() => { const s = zs110.model.log.map(e => e.seq); return new Set(s).size !== s.length })()`) {
		t.Error("an event was applied twice")
	}
}

// TestP1AlertAndResume: a P1 flashes and beeps; after the socket drops the
// page resumes from its last sequence number, misses nothing and shows
// nothing twice.
func TestP1AlertAndResume(t *testing.T) {
	s := startSystem(t)
	desk := newBrowser(t)
	s.signIn(desk, "desk-1")
	do(t, desk, "enable sound", chromedp.Click("#queue"))
	now := time.Now()
	s.process(dispatch.Incident{ID: "ZS-P1-1", ReportedAt: now, Type: "fire.building", Lat: shiqiLat, Lng: shiqiLng, HasLocation: true})
	waitJS(t, desk, "P1 alert", `document.querySelector('#alerts .p1-alert') !== null && document.querySelector('#queue [data-id="ZS-P1-1"].flash') !== null`)
	waitJS(t, desk, "beep", `Number(document.body.dataset.beeps || 0) >= 1`)
	screenshot(t, desk, "dispatcher-p1", false)

	before := eval[int](t, desk, `zs110.conn.lastSeq`)
	// Drop the socket, and decide an incident while the page is away.
	do(t, desk, "drop", chromedp.Evaluate[chromedp.Void](`zs110.conn.ws.close()`))
	s.process(newIncident("ZS-P3-2", "theft", now))
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
	if !strings.Contains(text, fmt.Sprint("resumed at seq")) {
		t.Errorf("connection state shows %q", text)
	}
}
