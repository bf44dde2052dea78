package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

// Store is what the suite exercises: dispatch.Store, whose contract
// includes the SeedUnits and SeedStock methods the engine calls at start.
type Store = dispatch.Store

var t0 = time.Date(2013, 5, 31, 20, 14, 3, 0, time.UTC)

func rec(id, state string) *dispatch.IncidentRecord {
	return &dispatch.IncidentRecord{Incident: dispatch.Incident{ID: id, ReportedAt: t0, Type: "theft", Priority: 3, Lat: 22.5, Lng: 113.4, HasLocation: true},
		State: state, TypeKnown: true, Town: "shiqi", Version: 1, DecidedAt: t0, UpdatedAt: t0}
}

// uc is a unit change of unit from old to new status, on incident inc.
func uc(unit string, old, new teams.Status, inc string) teams.UnitChange {
	return teams.UnitChange{UnitID: unit, Team: "police", OldStatus: old, NewStatus: new, Lat: 22.5, Lng: 113.4, Incident: inc, At: t0}
}

// update is a later change of incident id from version base to version to.
func update(drill, id string, base, to int) *dispatch.Outcome {
	r := rec(id, dispatch.StateDispatched)
	r.Version = to
	return &dispatch.Outcome{Drill: drill, Incident: r, BaseVersion: base}
}

// decision is the first decision on incident id, dispatching units.
func decision(drill, id string, units ...string) *dispatch.Outcome {
	o := &dispatch.Outcome{Drill: drill, Incident: rec(id, dispatch.StateDispatched), NewIncident: true}
	o.Incident.Assigned = units
	for _, u := range units {
		o.Units = append(o.Units, uc(u, "available", "dispatched", id))
	}
	o.Events = []dispatch.Event{{At: t0, Kind: dispatch.EvIncidentDispatched, Drill: drill, Town: "shiqi", Teams: []string{"police"}, Incident: id, Data: []byte(`{"x":1}`)}}
	o.Outbox = []dispatch.OutboxRecord{{Key: id, Value: []byte(`{"incident":"` + id + `"}`)}}
	return o
}

func unitsOut(drill string, changes ...teams.UnitChange) *dispatch.Outcome {
	return &dispatch.Outcome{Drill: drill, Units: changes}
}

func reserve(drill, res, inc string, qty int) *dispatch.Outcome {
	return stockOp(drill, resources.OpReserve, res, inc, qty)
}

func stockOp(drill string, op resources.Op, res, inc string, qty int) *dispatch.Outcome {
	return &dispatch.Outcome{Drill: drill, Stock: []resources.StockChange{{Reservation: res, Incident: inc, Depot: "D1", Item: "sandbag", Qty: qty, Op: op}}}
}

func seed(t *testing.T, s Store, drill string) {
	t.Helper()
	ctx := context.Background()
	var units []teams.UnitState
	for _, id := range []string{"U1", "U2", "U3"} {
		units = append(units, teams.UnitState{ID: id, Status: "available", Lat: 22.5, Lng: 113.4, Since: t0})
	}
	if err := s.SeedUnits(ctx, drill, units); err != nil {
		t.Fatal(err)
	}
	if err := s.SeedStock(ctx, drill, []resources.Level{{Depot: "D1", Item: "sandbag", OnHand: 100}}); err != nil {
		t.Fatal(err)
	}
}

func events(t *testing.T, s Store) []dispatch.Event {
	t.Helper()
	evs, err := s.EventsAfter(context.Background(), 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func load(t *testing.T, s Store, drill string) *dispatch.Snapshot {
	t.Helper()
	snap, err := s.Load(context.Background(), drill)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func unit(t *testing.T, s Store, drill, id string) teams.UnitState {
	t.Helper()
	for _, u := range load(t, s, drill).Units {
		if u.ID == id {
			return u
		}
	}
	t.Fatalf("unit %s not in drill %q", id, drill)
	return teams.UnitState{}
}

func wantUnit(t *testing.T, s Store, drill, id string, status teams.Status, inc string) {
	t.Helper()
	if u := unit(t, s, drill, id); u.Status != status || u.Incident != inc {
		t.Fatalf("unit %s in %q: %s on %q, want %s on %q", id, drill, u.Status, u.Incident, status, inc)
	}
}

func wantStock(t *testing.T, s Store, drill string, onHand, reserved int, resv ...string) {
	t.Helper()
	snap := load(t, s, drill)
	if len(snap.Stock) != 1 || snap.Stock[0].OnHand != onHand || snap.Stock[0].Reserved != reserved {
		t.Fatalf("stock %+v, want on hand %d reserved %d", snap.Stock, onHand, reserved)
	}
	var got []string
	for _, r := range snap.Reservations {
		if r.Op != resources.OpReserve {
			t.Fatalf("reservation %+v: op %q, want reserve", r, r.Op)
		}
		got = append(got, r.Reservation)
	}
	if len(got) != len(resv) {
		t.Fatalf("reservations %v, want %v", got, resv)
	}
	for i := range got {
		if got[i] != resv[i] { //nolint:gosec // len(got) == len(resv) checked above
			t.Fatalf("reservations %v, want %v", got, resv)
		}
	}
}

type tcase struct {
	name  string
	steps [][]*dispatch.Outcome // each applied in one Apply
	fail  int                   // index of the step that must fail with ErrConflict (-1: none)
	check func(t *testing.T, s Store)
}

// Run runs the suite. newStore returns an empty store; the suite closes it.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			s := newStore(t)
			defer s.Close()
			seed(t, s, "")
			seed(t, s, "typhoon")
			for i, step := range c.steps {
				err := s.Apply(ctx, step)
				if i == c.fail {
					if !errors.Is(err, dispatch.ErrConflict) {
						t.Fatalf("step %d: got %v, want ErrConflict", i, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			if c.check != nil {
				c.check(t, s)
			}
		})
	}
	t.Run("seqs and ids set in place", func(t *testing.T) { testInPlace(t, newStore(t)) })
	t.Run("changes after a seq", func(t *testing.T) { testChanges(t, newStore(t)) })
	t.Run("incident lookups", func(t *testing.T) { testLookups(t, newStore(t)) })
	t.Run("history round trip", func(t *testing.T) { testHistory(t, newStore(t)) })
	t.Run("seeding keeps existing rows", func(t *testing.T) { testSeed(t, newStore(t)) })
	t.Run("concurrent writers: a tailer sees every event once, in order", func(t *testing.T) { testTail(t, newStore(t)) })
	t.Run("concurrent claims on one unit: one wins", func(t *testing.T) { testRaceUnit(t, newStore(t)) })
	t.Run("concurrent decisions of one incident: one wins", func(t *testing.T) { testRaceIncident(t, newStore(t)) })
	t.Run("concurrent updates of one incident from one version: one wins", func(t *testing.T) { testRaceVersion(t, newStore(t)) })
	t.Run("concurrent reservations never overdraw", func(t *testing.T) { testRaceStock(t, newStore(t)) })
}

func cases() []tcase {
	ctx := context.Background()
	return []tcase{
		{"redecision refused, nothing written", [][]*dispatch.Outcome{
			{decision("", "A", "U1")},
			{decision("", "B", "U2"), reserve("", "rB", "B", 10), decision("", "A", "U3")}}, 1,
			func(t *testing.T, s Store) {
				d, err := s.Decided(ctx, "", []string{"A", "B", "C"})
				if err != nil || len(d) != 1 || !d["A"] {
					t.Fatalf("decided %v %v: the refused batch left B behind", d, err)
				}
				if evs := events(t, s); len(evs) != 1 || evs[0].Incident != "A" {
					t.Fatalf("events %+v, want A's only", evs)
				}
				if snap := load(t, s, ""); snap.LastSeq != 1 || len(snap.Open) != 1 {
					t.Fatalf("last seq %d open %d, want 1 1", snap.LastSeq, len(snap.Open))
				}
				if recs, _ := s.PendingOutbox(ctx, 10); len(recs) != 1 || recs[0].Key != "A" {
					t.Fatalf("outbox %+v, want A's only", recs)
				}
				wantUnit(t, s, "", "U2", "available", "")
				wantUnit(t, s, "", "U3", "available", "")
				wantStock(t, s, "", 100, 0)
			}},
		{"same incident decided twice in one batch refused", [][]*dispatch.Outcome{{decision("", "A", "U1"), decision("", "A", "U2")}}, 0,
			func(t *testing.T, s Store) {
				if d, _ := s.Decided(ctx, "", []string{"A"}); d["A"] {
					t.Fatal("A written by a refused batch")
				}
			}},
		{"update then new decision of one incident in one batch refused", [][]*dispatch.Outcome{{{Incident: rec("A", dispatch.StateAwaiting)}, decision("", "A", "U1")}}, 0, nil},
		{"later updates of a decided incident accepted", [][]*dispatch.Outcome{{decision("", "A", "U1")}, {{Incident: func() *dispatch.IncidentRecord {
			r := rec("A", dispatch.StateDispatched)
			r.Version, r.Accepted = 2, []string{"U1"}
			return r
		}()}}}, -1,
			func(t *testing.T, s Store) {
				r, err := s.Incident(ctx, "", "A")
				if err != nil || r.Version != 2 || len(r.Accepted) != 1 {
					t.Fatalf("incident %+v %v", r, err)
				}
			}},
		{"update from the stored version accepted, from an older one refused", [][]*dispatch.Outcome{{decision("", "A", "U1")},
			{update("", "A", 1, 2)}, {update("", "A", 1, 2)}, {update("", "A", 2, 3)}}, 2,
			func(t *testing.T, s Store) {
				if r, err := s.Incident(ctx, "", "A"); err != nil || r.Version != 3 {
					t.Fatalf("incident %+v %v, want version 3", r, err)
				}
			}},
		{"updates of one incident in one batch share the base version", [][]*dispatch.Outcome{{decision("", "A", "U1")},
			{update("", "A", 1, 2), update("", "A", 1, 3)}}, -1,
			func(t *testing.T, s Store) {
				if r, err := s.Incident(ctx, "", "A"); err != nil || r.Version != 3 {
					t.Fatalf("incident %+v %v, want version 3", r, err)
				}
			}},
		{"decision and update in one batch: no base to check", [][]*dispatch.Outcome{{decision("", "A", "U1"), update("", "A", 0, 2)}}, -1, nil},
		{"stale update refused with the rest of its batch", [][]*dispatch.Outcome{{decision("", "A", "U1")}, {update("", "A", 1, 2)},
			{decision("", "B", "U2"), update("", "A", 1, 3)}}, 2,
			func(t *testing.T, s Store) {
				if d, _ := s.Decided(ctx, "", []string{"B"}); d["B"] {
					t.Fatal("B written by a refused batch")
				}
				wantUnit(t, s, "", "U2", "available", "")
			}},
		{"versioned update of an incident never decided refused", [][]*dispatch.Outcome{{update("", "A", 1, 2)}}, 0, nil},
		{"unit active on another incident refused", [][]*dispatch.Outcome{{decision("", "A", "U1")},
			{unitsOut("", uc("U1", "dispatched", "en_route", "B"))}}, 1,
			func(t *testing.T, s Store) { wantUnit(t, s, "", "U1", "dispatched", "A") }},
		{"unit claimed meanwhile by another writer refused", [][]*dispatch.Outcome{{decision("", "A", "U1")}, {decision("", "B", "U1")}}, 1,
			func(t *testing.T, s Store) { wantUnit(t, s, "", "U1", "dispatched", "A") }},
		{"unit moving along its own incident accepted", [][]*dispatch.Outcome{{decision("", "A", "U1")},
			{unitsOut("", uc("U1", "dispatched", "en_route", "A"))}, {unitsOut("", uc("U1", "en_route", "en_route", "A"), uc("U1", "en_route", "on_scene", "A"))}}, -1,
			func(t *testing.T, s Store) { wantUnit(t, s, "", "U1", "on_scene", "A") }},
		{"unit released and reassigned in one batch accepted", [][]*dispatch.Outcome{{decision("", "A", "U1")},
			{unitsOut("", uc("U1", "dispatched", "available", "")), decision("", "B", "U1")}}, -1,
			func(t *testing.T, s Store) { wantUnit(t, s, "", "U1", "dispatched", "B") }},
		{"two incidents for one unit in one batch refused", [][]*dispatch.Outcome{{decision("", "A", "U1"),
			unitsOut("", uc("U1", "dispatched", "en_route", "B"))}}, 0,
			func(t *testing.T, s Store) { wantUnit(t, s, "", "U1", "available", "") }},
		{"active status without an incident refused", [][]*dispatch.Outcome{{unitsOut("", uc("U1", "available", "dispatched", ""))}}, 0, nil},
		{"unknown unit status refused", [][]*dispatch.Outcome{{unitsOut("", uc("U1", "available", "flying", ""))}}, 0, nil},
		{"status history: unit cleared", [][]*dispatch.Outcome{{decision("", "A", "U1")},
			{unitsOut("", uc("U1", "dispatched", "en_route", "A"))}, {unitsOut("", uc("U1", "en_route", "returning", ""))},
			{unitsOut("", uc("U1", "returning", "available", ""))}}, -1,
			func(t *testing.T, s Store) { wantUnit(t, s, "", "U1", "available", "") }},
		{"overdraw refused", [][]*dispatch.Outcome{{reserve("", "r1", "A", 60)}, {reserve("", "r2", "B", 41)}}, 1,
			func(t *testing.T, s Store) { wantStock(t, s, "", 100, 60, "r1") }},
		{"overdraw inside one batch refused", [][]*dispatch.Outcome{{reserve("", "r1", "A", 60), reserve("", "r2", "B", 41)}}, 0,
			func(t *testing.T, s Store) { wantStock(t, s, "", 100, 0) }},
		{"reserve of stock never seeded refused", [][]*dispatch.Outcome{{{Stock: []resources.StockChange{{Reservation: "r1", Incident: "A", Depot: "D9", Item: "pump", Qty: 1, Op: resources.OpReserve}}}}}, 0, nil},
		{"zero reservation refused", [][]*dispatch.Outcome{{reserve("", "r1", "A", 0)}}, 0, nil},
		{"duplicate reservation id refused", [][]*dispatch.Outcome{{reserve("", "r1", "A", 10)}, {reserve("", "r1", "A", 10)}}, 1,
			func(t *testing.T, s Store) { wantStock(t, s, "", 100, 10, "r1") }},
		{"release then reserve again", [][]*dispatch.Outcome{{reserve("", "r1", "A", 60)}, {stockOp("", resources.OpRelease, "r1", "A", 60)}, {reserve("", "r2", "B", 100)}}, -1,
			func(t *testing.T, s Store) { wantStock(t, s, "", 100, 100, "r2") }},
		{"release and reserve in one batch", [][]*dispatch.Outcome{{reserve("", "r1", "A", 60)}, {stockOp("", resources.OpRelease, "r1", "A", 60), reserve("", "r2", "B", 100)}}, -1,
			func(t *testing.T, s Store) { wantStock(t, s, "", 100, 100, "r2") }},
		{"consume then reserve the rest", [][]*dispatch.Outcome{{reserve("", "r1", "A", 60)}, {stockOp("", resources.OpConsume, "r1", "A", 60)}, {reserve("", "r2", "B", 40)}}, -1,
			func(t *testing.T, s Store) { wantStock(t, s, "", 40, 40, "r2") }},
		{"release twice refused", [][]*dispatch.Outcome{{reserve("", "r1", "A", 10)}, {stockOp("", resources.OpRelease, "r1", "A", 10)}, {stockOp("", resources.OpRelease, "r1", "A", 10)}}, 2,
			func(t *testing.T, s Store) { wantStock(t, s, "", 100, 0) }},
		{"release of another quantity refused", [][]*dispatch.Outcome{{reserve("", "r1", "A", 10)}, {stockOp("", resources.OpRelease, "r1", "A", 5)}}, 1,
			func(t *testing.T, s Store) { wantStock(t, s, "", 100, 10, "r1") }},
		{"consume of an unknown reservation refused", [][]*dispatch.Outcome{{stockOp("", resources.OpConsume, "r1", "A", 10)}}, 0, nil},
		{"reuse of a finished reservation id refused", [][]*dispatch.Outcome{{reserve("", "r1", "A", 10)}, {stockOp("", resources.OpRelease, "r1", "A", 10)}, {reserve("", "r1", "A", 10)}}, 2,
			func(t *testing.T, s Store) { wantStock(t, s, "", 100, 0) }},
		{"drills are isolated", [][]*dispatch.Outcome{{decision("", "A", "U1"), reserve("", "r1", "A", 70)},
			{decision("typhoon", "A", "U1"), reserve("typhoon", "r1", "A", 30)}}, -1,
			func(t *testing.T, s Store) {
				live, drill := load(t, s, ""), load(t, s, "typhoon")
				if len(live.Open) != 1 || len(drill.Open) != 1 || len(live.Units) != 3 || len(drill.Units) != 3 {
					t.Fatalf("live %+v drill %+v", live, drill)
				}
				wantStock(t, s, "", 100, 70, "r1")
				wantStock(t, s, "typhoon", 100, 30, "r1")
				if _, err := s.Incident(ctx, "other", "A"); !errors.Is(err, dispatch.ErrNotFound) {
					t.Fatalf("incident in another drill: %v", err)
				}
				if d, _ := s.Decided(ctx, "other", []string{"A"}); d["A"] {
					t.Fatal("A decided in a drill it was never in")
				}
				if other := load(t, s, "other"); len(other.Units)+len(other.Stock)+len(other.Open)+len(other.Reservations) != 0 || other.LastSeq != 2 {
					t.Fatalf("drill never written: %+v (last seq is global: 2)", other)
				}
			}},
		{"load round trip and close", [][]*dispatch.Outcome{{decision("", "A", "U1", "U2")}, {{Incident: func() *dispatch.IncidentRecord {
			r := rec("A", dispatch.StateClosed)
			r.Version, r.Cleared = 2, []string{"U1", "U2"}
			return r
		}(), Units: []teams.UnitChange{{UnitID: "U1", OldStatus: "dispatched", NewStatus: "available", Lat: 22.6, Lng: 113.5, At: t0.Add(time.Hour)},
			{UnitID: "U2", OldStatus: "dispatched", NewStatus: "available", Lat: 22.5, Lng: 113.4, At: t0.Add(time.Hour)}}}}}, -1,
			func(t *testing.T, s Store) {
				if snap := load(t, s, ""); len(snap.Open) != 0 {
					t.Fatalf("closed incident still open: %+v", snap.Open)
				}
				r, err := s.Incident(ctx, "", "A")
				if err != nil || r.State != dispatch.StateClosed || r.Version != 2 || len(r.Cleared) != 2 || !r.HasLocation {
					t.Fatalf("incident %+v %v", r, err)
				}
				if u := unit(t, s, "", "U1"); u.Status != "available" || u.Incident != "" || u.Lat != 22.6 || u.Lng != 113.5 || !u.Since.Equal(t0.Add(time.Hour)) {
					t.Fatalf("U1 %+v", u)
				}
			}},
		{"open incidents load whole", [][]*dispatch.Outcome{{decision("", "A", "U1"), {Incident: rec("B", dispatch.StateAwaiting), NewIncident: true},
			{Incident: rec("C", dispatch.StateCancelled), NewIncident: true}, {Incident: rec("D", dispatch.StateLinked), NewIncident: true}}}, -1,
			func(t *testing.T, s Store) {
				snap := load(t, s, "")
				want := decision("", "A", "U1").Incident
				if len(snap.Open) != 3 || snap.Open[0].ID != "A" || snap.Open[1].ID != "B" || snap.Open[2].ID != "D" {
					t.Fatalf("open %+v, want A B D", snap.Open)
				}
				got, _ := json.Marshal(snap.Open[0])
				exp, _ := json.Marshal(want)
				if string(got) != string(exp) || !snap.Open[0].HasLocation {
					t.Fatalf("A loaded as\n%s\nwant\n%s", got, exp)
				}
			}},
		{"outbox pending then sent", [][]*dispatch.Outcome{{decision("", "A", "U1"), decision("", "B", "U2")}, {decision("typhoon", "C", "U3")}}, -1,
			func(t *testing.T, s Store) {
				recs, err := s.PendingOutbox(ctx, 10)
				if err != nil || len(recs) != 3 || recs[0].Key != "A" || recs[1].Key != "B" || recs[2].Key != "C" || recs[0].ID >= recs[1].ID || string(recs[0].Value) != `{"incident":"A"}` {
					t.Fatalf("pending %+v %v", recs, err)
				}
				if first, _ := s.PendingOutbox(ctx, 1); len(first) != 1 || first[0].ID != recs[0].ID {
					t.Fatalf("limit 1: %+v", first)
				}
				if err := s.MarkSent(ctx, []int64{recs[0].ID, recs[2].ID}); err != nil {
					t.Fatal(err)
				}
				if recs, _ = s.PendingOutbox(ctx, 10); len(recs) != 1 || recs[0].Key != "B" {
					t.Fatalf("after MarkSent %+v", recs)
				}
				if err := s.MarkSent(ctx, []int64{recs[0].ID, 1 << 40}); err != nil {
					t.Fatalf("mark sent with an unknown id: %v", err)
				}
				if recs, _ = s.PendingOutbox(ctx, 10); len(recs) != 0 {
					t.Fatalf("after MarkSent %+v", recs)
				}
			}},
		{"learned trips summed per key and drill; a refused batch learns nothing", [][]*dispatch.Outcome{
			{trips("", 0.5, 0.25, false), trips("typhoon", 1, -1, false)},
			{trips("", 0.25, 0.5, true)},
			{decision("", "A", "U1"), trips("", 8, 8, false), decision("", "A", "U2")}}, 2,
			func(t *testing.T, s Store) {
				for drill, want := range map[string]map[geo.TravelKey]geo.TravelStat{
					// 0.5 + 0.25 + 0.25 + 0.5; the trip not learned counts nowhere
					"":        {coarseKey: {N: 4, SumLog: 1.5}, fineKey: {N: 2, SumLog: 0.75}},
					"typhoon": {coarseKey: {N: 2, SumLog: 0}, fineKey: {N: 1, SumLog: 1}},
				} {
					got := map[geo.TravelKey]geo.TravelStat{}
					for _, r := range load(t, s, drill).Travel {
						got[r.Key] = r.Stat
					}
					if len(got) != len(want) || got[coarseKey] != want[coarseKey] || got[fineKey] != want[fineKey] {
						t.Fatalf("drill %q learned %+v, want %+v", drill, got, want)
					}
				}
			}},
	}
}

// The keys of trips: a coarse pair and a fine pair.
var (
	coarseKey = geo.TravelKey{From: geo.CellOf(geo.Point{Lat: 22.52, Lng: 113.38}, 6), To: geo.CellOf(geo.Point{Lat: 22.66, Lng: 113.25}, 6), Band: 2}
	fineKey   = geo.TravelKey{From: geo.CellOf(geo.Point{Lat: 22.52, Lng: 113.38}, 7), To: geo.CellOf(geo.Point{Lat: 22.66, Lng: 113.25}, 7), Band: 2}
)

// trips is an outcome with a learned trip of log ratio a (both keys, fine
// only when b differs: b is a second trip counted on the coarse key only),
// and, when dropped, a trip that was not learned.
func trips(drill string, a, b float64, dropped bool) *dispatch.Outcome {
	o := &dispatch.Outcome{Drill: drill, Trips: []dispatch.Trip{
		{Unit: "U1", Learned: true, Obs: geo.Observation{Keys: [2]geo.TravelKey{coarseKey, fineKey}, LogRatio: a}}}}
	if b != a {
		o.Trips = append(o.Trips, dispatch.Trip{Unit: "U2", Learned: true, Obs: geo.Observation{Keys: [2]geo.TravelKey{coarseKey, coarseKey}, LogRatio: b}})
	}
	if dropped {
		o.Trips = append(o.Trips, dispatch.Trip{Unit: "U3", Bad: "bad trip: moved 0 m", Obs: geo.Observation{Keys: [2]geo.TravelKey{coarseKey, fineKey}, LogRatio: 5}})
	}
	return o
}
