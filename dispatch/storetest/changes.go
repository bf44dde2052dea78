package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/resources"
)

// testChanges: Changes names the rows of the drill's events after a Seq,
// not those of the caller's own Seqs (Skip) nor of other drills, reads the
// rows Want asks for, returns the stock with an incident's materials, and
// pages by Limit.
func testChanges(t *testing.T, s Store) {
	ctx := context.Background()
	seed(t, s, "")
	seed(t, s, "typhoon")
	apply := func(outs ...*dispatch.Outcome) (lo, hi int64) {
		t.Helper()
		if err := s.Apply(ctx, outs); err != nil {
			t.Fatal(err)
		}
		for _, o := range outs {
			for _, ev := range o.Events {
				lo, hi = min(ev.Seq, max(lo, ev.Seq)), max(hi, ev.Seq)
				if lo == 0 {
					lo = ev.Seq
				}
			}
		}
		return lo, hi
	}
	withEvent := func(o *dispatch.Outcome, inc, unit string) *dispatch.Outcome {
		o.Events = append(o.Events, dispatch.Event{At: t0, Kind: dispatch.EvUnitStatus, Drill: o.Drill, Incident: inc, Unit: unit})
		return o
	}
	start, err := s.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	a := decision("", "A", "U1")
	a.Incident.Rec = &dispatch.Recommendation{Materials: []dispatch.MaterialPick{{Item: "sandbag", DepotID: "D1", Qty: 5}}}
	a.Stock = reserve("", "A|sandbag|D1", "A", 5).Stock
	apply(a)                                       // another writer
	ownLo, ownHi := apply(decision("", "B", "U2")) // the caller's own
	apply(decision("typhoon", "T", "U1"))          // another drill
	apply(withEvent(unitsOut("", uc("U3", "available", "out_of_service", "")), "", "U3"))

	ch, err := s.Changes(ctx, "", start, dispatch.Want{Skip: []dispatch.SeqRange{{From: ownLo, To: ownHi}}})
	if err != nil {
		t.Fatal(err)
	}
	last, _ := s.LastSeq(ctx)
	if ch.Last != last || ch.More || ch.Events != 2 {
		t.Fatalf("last %d more %v events %d, want %d false 2", ch.Last, ch.More, ch.Events, last)
	}
	if ch.FirstWritten.Before(before) || ch.FirstWritten.After(time.Now().Add(time.Second)) {
		t.Errorf("first written %v, want about now", ch.FirstWritten)
	}
	var ids []string
	for _, r := range ch.Incidents {
		ids = append(ids, r.ID)
	}
	var units []string
	for _, u := range ch.Units {
		units = append(units, u.ID+":"+string(u.Status))
	}
	slices.Sort(units)
	if !slices.Equal(ids, []string{"A"}) || !slices.Equal(units, []string{"U3:out_of_service"}) {
		t.Fatalf("incidents %v units %v, want [A] [U3:out_of_service]", ids, units)
	}
	if len(ch.Stock) != 1 || ch.Stock[0] != (resources.Level{Depot: "D1", Item: "sandbag", OnHand: 100, Reserved: 5}) {
		t.Fatalf("stock %+v, want D1/sandbag 100 with 5 reserved", ch.Stock)
	}
	if len(ch.Reservations) != 1 || ch.Reservations[0].Reservation != "A|sandbag|D1" || ch.Reservations[0].Incident != "A" {
		t.Fatalf("reservations %+v", ch.Reservations)
	}

	// Nothing new: no rows. Rows asked for: read, absent ones left out.
	ch, err = s.Changes(ctx, "", last, dispatch.Want{})
	if err != nil || ch.Events != 0 || ch.Last != last || len(ch.Units)+len(ch.Incidents) != 0 || ch.Stock != nil {
		t.Fatalf("nothing new: %+v, %v", ch, err)
	}
	ch, err = s.Changes(ctx, "", last, dispatch.Want{Units: []string{"U2"}, Incidents: []string{"B", "never"}, Stock: true})
	if err != nil || len(ch.Units) != 1 || ch.Units[0].Status != "dispatched" || len(ch.Incidents) != 1 || ch.Incidents[0].ID != "B" || len(ch.Stock) != 1 {
		t.Fatalf("asked for U2, B, never and stock: %+v, %v", ch, err)
	}

	// Paging: one event at a time.
	after, seen := start, 0
	for range 10 {
		ch, err := s.Changes(ctx, "", after, dispatch.Want{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		seen += ch.Events
		after = ch.Last
		if !ch.More {
			break
		}
	}
	if after != last || seen != 3 {
		t.Fatalf("paged to %d with %d events, want %d and 3", after, seen, last)
	}
	// Ahead of the log: a gap (the store was reset).
	if _, err := s.Changes(ctx, "", last+100, dispatch.Want{}); !errors.Is(err, dispatch.ErrGap) {
		t.Fatalf("after the last seq: %v, want ErrGap", err)
	}
}
