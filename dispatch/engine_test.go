package dispatch_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/dispatch/wire"
)

// Shiqi, near the town centre.
const shiqiLat, shiqiLng = 22.5220, 113.3790

var t0 = time.Date(2013, 5, 31, 20, 14, 3, 0, time.FixedZone("CST", 8*3600))

type fixture struct {
	t     *testing.T
	store *memstore.Store
	eng   *dispatch.Engine
	now   time.Time
	sc    *scenario.Scenario
	cfg   dispatch.EngineConfig
}

func newFixture(t *testing.T, mod func(*dispatch.EngineConfig)) *fixture {
	t.Helper()
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: memstore.New(memstore.Config{}), now: t0, sc: sc}
	f.cfg = dispatch.EngineConfig{Scenario: sc, Store: f.store, Clock: func() time.Time { return f.now }}
	if mod != nil {
		mod(&f.cfg)
	}
	f.restart()
	return f
}

// restart builds a new engine on the same store, as after a crash.
func (f *fixture) restart() {
	f.t.Helper()
	eng, err := dispatch.NewEngine(f.cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	f.eng = eng
}

func (f *fixture) process(incs ...dispatch.Incident) []dispatch.Reject {
	f.t.Helper()
	rej, err := f.eng.Process(context.Background(), incs, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return rej
}

func (f *fixture) get(id string) *dispatch.IncidentRecord {
	f.t.Helper()
	r, err := f.eng.Incident(context.Background(), "", id)
	if err != nil {
		f.t.Fatalf("incident %s: %v", id, err)
	}
	return r
}

func (f *fixture) act(a dispatch.Action) (*dispatch.IncidentRecord, error) {
	return f.eng.Act(context.Background(), a)
}

func (f *fixture) unitStatus(id string) string {
	for _, u := range f.eng.Units("") {
		if u.ID == id {
			return string(u.Status)
		}
	}
	f.t.Fatalf("no unit %s", id)
	return ""
}

func (f *fixture) events() []dispatch.Event {
	evs, err := f.store.EventsAfter(context.Background(), 0, 1<<20)
	if err != nil {
		f.t.Fatal(err)
	}
	return evs
}

func (f *fixture) outbox() []dispatch.OutboxRecord {
	recs, err := f.store.PendingOutbox(context.Background(), 1<<20)
	if err != nil {
		f.t.Fatal(err)
	}
	return recs
}

func inc(id, typ string, lat, lng float64, at time.Time) dispatch.Incident {
	return dispatch.Incident{ID: id, ReportedAt: at, Type: typ, Lat: lat, Lng: lng, HasLocation: true}
}

func TestDecideByPriority(t *testing.T) {
	cases := []struct {
		name      string
		typ       string
		priority  int
		wantState string
		wantUnits bool // units leave available
	}{
		{"P1 fire dispatched at once", "fire.building", 0, dispatch.StateDispatched, true},
		{"P3 theft waits for a dispatcher", "theft", 0, dispatch.StateAwaiting, false},
		{"P3 theft raised to P1 by the call", "theft", 1, dispatch.StateDispatched, true},
		{"P2 type lowered to P4 waits", "traffic.injury", 4, dispatch.StateAwaiting, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, nil)
			in := inc("A", c.typ, shiqiLat, shiqiLng, t0)
			in.Priority = c.priority
			f.process(in)
			r := f.get("A")
			if r.State != c.wantState {
				t.Fatalf("state %s, want %s", r.State, c.wantState)
			}
			if r.Rec == nil || len(r.Rec.Units) == 0 {
				t.Fatalf("no recommendation: %+v", r)
			}
			for _, p := range r.Rec.Units {
				busy := f.unitStatus(p.UnitID) == "dispatched"
				if busy != c.wantUnits {
					t.Errorf("unit %s status %s, want dispatched=%v", p.UnitID, f.unitStatus(p.UnitID), c.wantUnits)
				}
				if p.EtaS <= 0 || p.DistanceM < 0 {
					t.Errorf("pick without reasons: %+v", p)
				}
			}
			if got := len(f.outbox()); (got == 1) != c.wantUnits {
				t.Errorf("outbox has %d records", got)
			}
		})
	}
}

func TestRedeliveryDecidesOnce(t *testing.T) {
	f := newFixture(t, nil)
	a := inc("ZS110-1", "fire.building", shiqiLat, shiqiLng, t0)
	f.process(a)
	f.process(a, a) // redelivered, twice in one batch
	f.restart()     // and after a crash
	f.process(a)
	if n := len(f.outbox()); n != 1 {
		t.Fatalf("%d assignment records, want 1", n)
	}
	n := 0
	for _, ev := range f.events() {
		if ev.Kind == dispatch.EvIncidentDispatched {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d dispatch events, want 1", n)
	}
}

func TestDuplicateCallsLink(t *testing.T) {
	// 0.001 degree of latitude is about 111 m.
	cases := []struct {
		name   string
		typ    string
		dLat   float64
		after  time.Duration
		linked bool
	}{
		{"same place same type", "fire.building", 0, time.Minute, true},
		{"100 m away, same family", "fire.building", 0.0009, 5 * time.Minute, true},
		{"200 m away", "fire.building", 0.0018, time.Minute, false},
		{"11 minutes later", "fire.building", 0, 11 * time.Minute, false},
		{"another family", "theft", 0, time.Minute, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.process(inc("A", "fire.building", shiqiLat, shiqiLng, t0))
			f.process(inc("B", c.typ, shiqiLat+c.dLat, shiqiLng, t0.Add(c.after)))
			b := f.get("B")
			if got := b.State == dispatch.StateLinked; got != c.linked {
				t.Fatalf("B state %s, linked want %v", b.State, c.linked)
			}
			if c.linked {
				if b.LinkedTo != "A" || !slices.Contains(f.get("A").Linked, "B") {
					t.Fatalf("link not recorded: B->%q, A.Linked=%v", b.LinkedTo, f.get("A").Linked)
				}
				if len(f.outbox()) != 1 {
					t.Fatalf("a linked call dispatched again")
				}
			}
		})
	}
}

func TestUnknownTypeAndNoLocation(t *testing.T) {
	f := newFixture(t, nil)
	f.process(
		dispatch.Incident{ID: "U", ReportedAt: t0, Type: "alien.landing", Lat: shiqiLat, Lng: shiqiLng, HasLocation: true},
		dispatch.Incident{ID: "M", ReportedAt: t0, Type: "fire.building"},
	)
	u := f.get("U")
	if u.TypeKnown || !slices.Contains(u.Flags, dispatch.FlagUnknownType) || u.Rec == nil || len(u.Rec.Units) == 0 {
		t.Fatalf("unknown type not decided with the fallback and flagged: %+v", u)
	}
	m := f.get("M")
	if m.State != dispatch.StateManual || !slices.Contains(m.Flags, dispatch.FlagNoLocation) {
		t.Fatalf("no-location call not manual: %+v", m)
	}
	// The dispatcher classifies and locates.
	if _, err := f.act(dispatch.Action{Kind: dispatch.ActClassify, Incident: "U", Type: "fire.building"}); err != nil {
		t.Fatal(err)
	}
	if u := f.get("U"); !u.TypeKnown || u.Type != "fire.building" {
		t.Fatalf("classify: %+v", u)
	}
	if _, err := f.act(dispatch.Action{Kind: dispatch.ActLocate, Incident: "M", Lat: shiqiLat + 0.05, Lng: shiqiLng}); err != nil {
		t.Fatal(err)
	}
	if m := f.get("M"); m.State != dispatch.StateDispatched || len(m.Assigned) == 0 {
		t.Fatalf("locate did not dispatch: %+v", m)
	}
}

func TestTeamLeaderLifecycle(t *testing.T) {
	f := newFixture(t, nil)
	avail := func() map[string]int {
		m := map[string]int{}
		for _, d := range f.eng.Depots("") {
			for item, q := range d.Available {
				m[d.ID+"/"+item] = q
			}
		}
		return m
	}
	start := avail()
	f.process(inc("A", "flooding", shiqiLat, shiqiLng, t0))
	a := f.get("A")
	if a.State != dispatch.StateDispatched || len(a.Rec.Materials) == 0 {
		t.Fatalf("flooding not dispatched with materials: %+v", a)
	}
	reserved := map[string]int{}
	for _, m := range a.Rec.Materials {
		reserved[m.DepotID+"/"+m.Item] += m.Qty
	}
	// Another team's leader may not touch the unit.
	u0 := a.Assigned[0]
	team := ""
	for _, u := range f.eng.Units("") {
		if u.ID == u0 {
			team = u.Team
		}
	}
	if _, err := f.act(dispatch.Action{Kind: dispatch.ActAccept, Incident: "A", Unit: u0, Team: team + "-other"}); !errors.Is(err, dispatch.ErrForbidden) {
		t.Fatalf("other team accepted: %v", err)
	}
	// Illegal order: on scene before en route.
	if _, err := f.act(dispatch.Action{Kind: dispatch.ActOnScene, Incident: "A", Unit: u0, Team: team}); !errors.Is(err, dispatch.ErrBadAction) {
		t.Fatalf("on scene from dispatched: %v", err)
	}
	for _, id := range a.Assigned {
		for _, k := range []string{dispatch.ActAccept, dispatch.ActEnRoute, dispatch.ActOnScene} {
			f.now = f.now.Add(time.Minute)
			if _, err := f.act(dispatch.Action{Kind: k, Incident: "A", Unit: id}); err != nil {
				t.Fatalf("%s %s: %v", k, id, err)
			}
		}
	}
	if got := f.get("A"); got.FirstOnSceneAt.IsZero() {
		t.Fatal("first on scene not recorded")
	}
	for i, id := range a.Assigned {
		f.now = f.now.Add(time.Minute)
		r, err := f.act(dispatch.Action{Kind: dispatch.ActClear, Incident: "A", Unit: id})
		if err != nil {
			t.Fatal(err)
		}
		last := i == len(a.Assigned)-1
		if (r.State == dispatch.StateClosed) != last {
			t.Fatalf("after clearing %d/%d: state %s", i+1, len(a.Assigned), r.State)
		}
		if f.unitStatus(id) != "available" {
			t.Fatalf("cleared unit %s is %s", id, f.unitStatus(id))
		}
	}
	// Materials were consumed: on hand went down by what was reserved, nothing stays reserved.
	end := avail()
	for k, q := range reserved {
		if end[k] != start[k]-q {
			t.Errorf("%s: available %d, want %d - %d consumed", k, end[k], start[k], q)
		}
	}
	if len(f.eng.Incidents("")) != 0 {
		t.Fatal("closed incident still open")
	}
}

func TestDeclineOffersNextUnit(t *testing.T) {
	f := newFixture(t, nil)
	f.process(inc("A", "theft", shiqiLat, shiqiLng, t0))
	if _, err := f.act(dispatch.Action{Kind: dispatch.ActConfirm, Incident: "A"}); err != nil {
		t.Fatal(err)
	}
	a := f.get("A")
	first := a.Assigned[0]
	r, err := f.act(dispatch.Action{Kind: dispatch.ActDecline, Incident: "A", Unit: first, Reason: "vehicle fault"})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(r.Assigned, first) || len(r.Assigned) != 1 || !slices.Contains(r.Declined, first) {
		t.Fatalf("decline: assigned %v declined %v", r.Assigned, r.Declined)
	}
	if f.unitStatus(first) != "available" || f.unitStatus(r.Assigned[0]) != "dispatched" {
		t.Fatal("unit statuses after decline")
	}
	if n := len(f.outbox()); n != 2 {
		t.Fatalf("%d assignment records, want 2 (original + re-offer)", n)
	}
}

func TestSwapAddCancel(t *testing.T) {
	f := newFixture(t, nil)
	f.process(inc("A", "theft", shiqiLat, shiqiLng, t0))
	a := f.get("A")
	next := a.Rec.Alternates["patrol"]
	if len(next) < 2 {
		t.Fatalf("no alternates to swap with: %+v", a.Rec)
	}
	old := a.Rec.Units[0].UnitID
	if _, err := f.act(dispatch.Action{Kind: dispatch.ActSwap, Incident: "A", Unit: old, NewUnit: next[0].UnitID}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.act(dispatch.Action{Kind: dispatch.ActAdd, Incident: "A", NewUnit: next[1].UnitID}); err != nil {
		t.Fatal(err)
	}
	r, err := f.act(dispatch.Action{Kind: dispatch.ActConfirm, Incident: "A"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Assigned, []string{next[0].UnitID, next[1].UnitID}) {
		t.Fatalf("assigned %v", r.Assigned)
	}
	if _, err := f.act(dispatch.Action{Kind: dispatch.ActConfirm, Incident: "A"}); !errors.Is(err, dispatch.ErrBadAction) {
		t.Fatalf("second confirm: %v", err)
	}
	if _, err := f.act(dispatch.Action{Kind: dispatch.ActSwap, Incident: "A", Unit: old, NewUnit: next[0].UnitID, Team: "police"}); !errors.Is(err, dispatch.ErrForbidden) {
		t.Fatalf("team leader swap: %v", err)
	}
	r, err = f.act(dispatch.Action{Kind: dispatch.ActCancel, Incident: "A", Reason: "caller withdrew"})
	if err != nil {
		t.Fatal(err)
	}
	if r.State != dispatch.StateCancelled {
		t.Fatalf("state %s", r.State)
	}
	for _, id := range []string{next[0].UnitID, next[1].UnitID} {
		if f.unitStatus(id) != "available" {
			t.Fatalf("unit %s not released", id)
		}
	}
}

func TestUnitEvents(t *testing.T) {
	f := newFixture(t, nil)
	u := f.eng.Units("")[0]
	rej, err := f.eng.Process(context.Background(), nil, []dispatch.UnitEvent{
		{UnitID: "NOPE", At: t0, Status: "available"},
		{UnitID: u.ID, At: t0, Status: "on_scene"}, // illegal from available
		{UnitID: u.ID, At: t0, Status: "out_of_service"},
		{UnitID: u.ID, At: t0, HasPosition: true, Lat: shiqiLat, Lng: shiqiLng},
	})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[int]string{}
	for _, r := range rej {
		reasons[r.Index] = wire.ReasonOf(r.Err)
	}
	if reasons[0] != "unknown_unit" || reasons[1] != "illegal_status" || len(rej) != 2 {
		t.Fatalf("rejects %+v", rej)
	}
	if f.unitStatus(u.ID) != "out_of_service" {
		t.Fatal("status not applied")
	}
	f.restart()
	if f.unitStatus(u.ID) != "out_of_service" {
		t.Fatal("status lost on restart")
	}
	for _, v := range f.eng.Units("") {
		if v.ID == u.ID && (v.Lat != shiqiLat || v.Lng != shiqiLng) {
			t.Fatalf("position lost on restart: %+v", v)
		}
	}
}

func TestRestartKeepsAssignments(t *testing.T) {
	f := newFixture(t, nil)
	f.process(inc("A", "fire.building", shiqiLat, shiqiLng, t0))
	before := f.get("A")
	f.restart()
	after := f.get("A")
	if !slices.Equal(before.Assigned, after.Assigned) {
		t.Fatalf("assigned %v, after restart %v", before.Assigned, after.Assigned)
	}
	for _, id := range after.Assigned {
		if f.unitStatus(id) != "dispatched" {
			t.Fatalf("unit %s is %s after restart", id, f.unitStatus(id))
		}
	}
	// A second fire next door must not get the same units.
	f.process(inc("B", "fire.building", shiqiLat+0.01, shiqiLng, t0.Add(time.Minute)))
	for _, id := range f.get("B").Assigned {
		if slices.Contains(after.Assigned, id) {
			t.Fatalf("unit %s assigned twice", id)
		}
	}
}

func TestDeterministic(t *testing.T) {
	run := func() []byte {
		f := newFixture(t, nil)
		for i := 0; i < 200; i++ {
			lat := shiqiLat + float64(i%20)*0.004 - 0.04
			lng := shiqiLng + float64(i/20)*0.004 - 0.02
			typ := []string{"fire.building", "theft", "medical", "traffic.injury", "flooding"}[i%5]
			f.now = t0.Add(time.Duration(i) * time.Second)
			f.process(inc(string(rune('a'+i%26))+string(rune('0'+i/26)), typ, lat, lng, f.now))
		}
		b, _ := json.Marshal(f.events())
		return b
	}
	a, b := run(), run()
	if string(a) != string(b) {
		t.Fatal("same stream, different decisions")
	}
}

func TestEscalation(t *testing.T) {
	f := newFixture(t, nil)
	f.process(inc("A", "fire.building", shiqiLat, shiqiLng, t0))
	a := f.get("A")
	if _, err := f.act(dispatch.Action{Kind: dispatch.ActAccept, Incident: "A", Unit: a.Assigned[0]}); err != nil {
		t.Fatal(err)
	}
	f.now = t0.Add(time.Minute)
	if n, err := f.eng.EscalateOverdue(context.Background(), "", 2*time.Minute); err != nil || n != 0 {
		t.Fatalf("escalated early: %d %v", n, err)
	}
	f.now = t0.Add(3 * time.Minute)
	n, err := f.eng.EscalateOverdue(context.Background(), "", 2*time.Minute)
	if err != nil || n != len(a.Assigned)-1 {
		t.Fatalf("escalated %d (%v), want %d", n, err, len(a.Assigned)-1)
	}
	if n, _ := f.eng.EscalateOverdue(context.Background(), "", 2*time.Minute); n != 0 {
		t.Fatalf("escalated twice: %d", n)
	}
}
