package dispatch_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/wire"
)

// twoEngines starts a second engine on f's store, as a second instance of a
// consumer group sharing one database. reloads counts both engines' whole
// reloads by cause, and refreshes their refreshes from the log that read
// other writers' events or set rows (the tests call the engines from one
// goroutine).
func twoEngines(t *testing.T) (f *fixture, other *dispatch.Engine, reloads, refreshes map[string]int) {
	t.Helper()
	reloads, refreshes = map[string]int{}, map[string]int{}
	f = newFixture(t, func(c *dispatch.EngineConfig) {
		c.OnReload = func(cause string) { reloads[cause]++ }
		c.OnRefresh = func(r dispatch.Refresh) { refreshes[r.Cause]++ }
	})
	other, err := dispatch.NewEngine(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f, other, reloads, refreshes
}

func report(t *testing.T, e *dispatch.Engine, unit, status, incident string, at time.Time) {
	t.Helper()
	rej, err := e.Process(context.Background(), nil, []dispatch.UnitEvent{{UnitID: unit, Status: status, Incident: incident, At: at}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rej) != 0 {
		t.Fatalf("%s %s on %s refused: %v", unit, status, incident, rej[0].Err)
	}
}

// TestEnginesSharingAStore: two engines on one store, each with its own
// memory, take turns with the reports of one incident's units (reports are
// keyed by unit, so they reach either instance). No report may be refused
// because an engine's memory is behind, and no engine may overwrite the
// incident with its older copy: every unit clears and the incident closes.
func TestEnginesSharingAStore(t *testing.T) {
	f, b, reloads, refreshes := twoEngines(t)
	a := f.eng
	f.process(inc("X", "fire.building", shiqiLat, shiqiLng, t0)) // decided by a; b never saw it
	x := f.get("X")
	if len(x.Assigned) < 2 {
		t.Fatalf("want several units on X, got %v", x.Assigned)
	}
	at := t0
	engines := []*dispatch.Engine{b, a}
	for _, status := range []string{"en_route", "on_scene", "available"} {
		for i, u := range x.Assigned {
			at = at.Add(time.Second)
			report(t, engines[i%2], u, status, "X", at)
		}
	}
	// b learnt of X, and each engine of the other's reports, from the log
	// at the start of its step: no whole reload.
	if len(reloads) != 0 || refreshes[dispatch.RefreshStep] == 0 {
		t.Errorf("reloads %v, refreshes %v: want no reload, refreshes at steps", reloads, refreshes)
	}
	// The truth is the store: a fresh engine reads it.
	f.restart()
	got := f.get("X")
	if got.State != dispatch.StateClosed || len(got.Cleared) != len(x.Assigned) {
		t.Fatalf("X is %s with cleared %v, want closed with all of %v", got.State, got.Cleared, x.Assigned)
	}
	for _, u := range x.Assigned {
		if s := f.unitStatus(u); s != "available" {
			t.Errorf("unit %s is %s", u, s)
		}
	}
	snap, err := f.store.Load(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range snap.Reservations {
		if r.Incident == "X" {
			t.Errorf("reservation %s still held by the closed incident", r.Reservation)
		}
	}
}

// TestActOnAnotherEnginesIncident: a team leader's console is served by the
// instance that did not decide the incident.
func TestActOnAnotherEnginesIncident(t *testing.T) {
	f, b, _, _ := twoEngines(t)
	f.process(inc("X", "fire.building", shiqiLat, shiqiLng, t0))
	u := f.get("X").Assigned[0]
	r, err := b.Act(context.Background(), dispatch.Action{Kind: dispatch.ActAccept, Incident: "X", Unit: u})
	if err != nil {
		t.Fatalf("accept through the other engine: %v", err)
	}
	if !slices.Contains(r.Accepted, u) {
		t.Fatalf("accepted %v, want %s", r.Accepted, u)
	}
	// And back: a's copy of X is now older than the store's.
	if _, err := f.act(dispatch.Action{Kind: dispatch.ActEnRoute, Incident: "X", Unit: u}); err != nil {
		t.Fatalf("en route through the deciding engine: %v", err)
	}
	f.restart()
	if got := f.get("X"); !slices.Contains(got.Accepted, u) || f.unitStatus(u) != "en_route" {
		t.Fatalf("X accepted %v, %s is %s", got.Accepted, u, f.unitStatus(u))
	}
}

// TestRefusedReportReloadsOnce: a report that is illegal against the store
// too is refused after one reload, not retried for ever.
func TestRefusedReportReloadsOnce(t *testing.T) {
	f, b, _, _ := twoEngines(t)
	f.process(inc("X", "fire.building", shiqiLat, shiqiLng, t0))
	u := f.get("X").Assigned[0]
	rej, err := b.Process(context.Background(), nil, []dispatch.UnitEvent{
		{UnitID: u, Status: "on_scene", Incident: "Y", At: t0.Add(time.Second)}, // another incident: stale
		{UnitID: u, Status: "en_route", Incident: "X", At: t0.Add(2 * time.Second)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rej) != 1 || rej[0].Index != 0 || wire.ReasonOf(rej[0].Err) != "illegal_status" {
		t.Fatalf("rejects %+v, want the report for Y only", rej)
	}
	f.restart()
	if s := f.unitStatus(u); s != "en_route" {
		t.Fatalf("%s is %s, want en_route", u, s)
	}
}

// TestStaleReportReason: a report delivered again after the unit moved on
// is dead-lettered as stale_report, a report that is simply illegal as
// illegal_status.
func TestStaleReportReason(t *testing.T) {
	reloads, refreshed := 0, 0
	f := newFixture(t, func(c *dispatch.EngineConfig) {
		c.OnReload = func(string) { reloads++ }
		c.OnRefresh = func(r dispatch.Refresh) {
			if r.Events > 0 {
				refreshed++
			}
		}
	})
	f.process(inc("X", "fire.building", shiqiLat, shiqiLng, t0))
	u := f.get("X").Assigned[0]
	evs := []dispatch.UnitEvent{
		{UnitID: u, Status: "en_route", Incident: "X", At: t0.Add(time.Second)},
		{UnitID: u, Status: "on_scene", Incident: "X", At: t0.Add(2 * time.Second)},
		{UnitID: u, Status: "available", Incident: "X", At: t0.Add(3 * time.Second)},
	}
	for _, ev := range evs {
		report(t, f.eng, ev.UnitID, ev.Status, ev.Incident, ev.At)
	}
	// A stale report cannot become legal by refreshing (the store knows the
	// unit's later change too); any other refusal is judged against memory
	// brought up to date with what somebody else wrote (the step's refresh
	// reads their events), and never costs a whole reload.
	other, err := dispatch.NewEngine(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	otherWrites := func() {
		if _, err := other.Process(context.Background(), []dispatch.Incident{inc("Y", "theft", shiqiLat, shiqiLng, t0)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		before    func()
		ev        dispatch.UnitEvent
		want      string
		refreshed int
	}{
		{"redelivered en_route", nil, evs[0], wire.ReasonStaleReport, 0},
		{"redelivered on_scene", nil, evs[1], wire.ReasonStaleReport, 0},
		{"new but illegal, nobody else wrote", nil, dispatch.UnitEvent{UnitID: u, Status: "on_scene", Incident: "X", At: t0.Add(time.Hour)}, wire.ReasonIllegal, 0},
		{"new but illegal, another engine wrote", otherWrites, dispatch.UnitEvent{UnitID: u, Status: "on_scene", Incident: "X", At: t0.Add(time.Hour)}, wire.ReasonIllegal, 1},
		{"new but illegal, memory refreshed since", nil, dispatch.UnitEvent{UnitID: u, Status: "on_scene", Incident: "X", At: t0.Add(time.Hour)}, wire.ReasonIllegal, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			reloads, refreshed = 0, 0
			defer func() {
				if reloads != 0 || refreshed != tc.refreshed {
					t.Errorf("%d reloads, %d refreshes reading others' events, want 0 and %d", reloads, refreshed, tc.refreshed)
				}
			}()
			rej, err := f.eng.Process(context.Background(), nil, []dispatch.UnitEvent{tc.ev})
			if err != nil {
				t.Fatal(err)
			}
			if len(rej) != 1 || wire.ReasonOf(rej[0].Err) != tc.want {
				t.Fatalf("rejects %+v, want one %s", rej, tc.want)
			}
		})
	}
}

// TestActionTextChecked: free text PostgreSQL cannot keep, or too much of
// it, is a bad action, not a failed write.
func TestActionTextChecked(t *testing.T) {
	f := newFixture(t, nil)
	f.process(inc("X", "fire.building", shiqiLat, shiqiLng, t0))
	for _, reason := range []string{"a\x00b", "\xff", string(make([]byte, 2000))} {
		if _, err := f.act(dispatch.Action{Kind: dispatch.ActCancel, Incident: "X", Reason: reason}); !errors.Is(err, dispatch.ErrBadAction) {
			t.Errorf("cancel with reason %q: %v, want ErrBadAction", reason[:min(len(reason), 8)], err)
		}
	}
	if got := f.get("X"); got.State == dispatch.StateCancelled {
		t.Fatal("cancelled by a refused action")
	}
	if _, err := f.act(dispatch.Action{Kind: dispatch.ActCancel, Incident: "X", Reason: `'); DROP TABLE incidents; -- <script>`}); err != nil {
		t.Fatal(err)
	}
}

// TestCloneIsDeep: a clone shares nothing with its record (memstore hands
// out clones of the records it keeps, and callers may change them).
func TestCloneIsDeep(t *testing.T) {
	r := &dispatch.IncidentRecord{Incident: dispatch.Incident{ID: "X", Materials: map[string]int{"sandbag": 5}},
		Assigned: []string{"U1"}, Flags: []string{"f"},
		Rec: &dispatch.Recommendation{Units: []dispatch.UnitPick{{UnitID: "U1", Reasons: []string{"nearest"}}},
			Alternates: map[string][]dispatch.UnitPick{"fire_engine": {{UnitID: "U2", Reasons: []string{"next"}}}}}}
	c := r.Clone()
	if !reflect.DeepEqual(r, c) {
		t.Fatalf("clone differs:\n%+v\n%+v", r, c)
	}
	c.Materials["sandbag"] = 9
	c.Assigned[0] = "Z"
	c.Flags[0] = "z"
	c.Rec.Units[0].Reasons[0] = "z"
	c.Rec.Alternates["fire_engine"][0].Reasons[0] = "z"
	c.Rec.Alternates["other"] = nil
	if r.Materials["sandbag"] != 5 || r.Assigned[0] != "U1" || r.Flags[0] != "f" || r.Rec.Units[0].Reasons[0] != "nearest" ||
		r.Rec.Alternates["fire_engine"][0].Reasons[0] != "next" || len(r.Rec.Alternates) != 1 {
		t.Fatalf("changing the clone changed the record: %+v %+v", r, r.Rec)
	}
}
