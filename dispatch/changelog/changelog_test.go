package changelog_test

import (
	"slices"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/changelog"
)

// TestCovered: the Seqs after..last are covered only when every one of them
// is in one of the caller's own writes; checked against a Seq-by-Seq walk.
func TestCovered(t *testing.T) {
	skips := [][]dispatch.SeqRange{nil, {{From: 3, To: 5}}, {{From: 6, To: 8}, {From: 3, To: 5}}, {{From: 1, To: 1}, {From: 3, To: 4}}}
	for _, skip := range skips {
		n := changelog.New(dispatch.Want{Skip: skip})
		for after := int64(0); after < 9; after++ {
			for last := after; last < 10; last++ {
				want := true
				for sq := after + 1; sq <= last; sq++ {
					if !slices.ContainsFunc(skip, func(r dispatch.SeqRange) bool { return r.From <= sq && sq <= r.To }) {
						want = false
					}
				}
				if got := n.Covered(after, last); got != want {
					t.Errorf("skip %v: Covered(%d, %d) = %v, want %v", skip, after, last, got, want)
				}
			}
		}
	}
}

// TestAdd: events of other writers name their rows once each, in order; the
// caller's own are skipped; a restock asks for the stock; the first written
// time is the earliest.
func TestAdd(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := changelog.New(dispatch.Want{Units: []string{"U0"}, Skip: []dispatch.SeqRange{{From: 2, To: 2}}})
	n.Add(1, t0.Add(time.Second), dispatch.EvIncidentUpdated, "I1", "U1")
	n.Add(2, t0, dispatch.EvIncidentUpdated, "I2", "U2") // own write
	n.Add(3, t0.Add(2*time.Second), dispatch.EvUnitStatus, "I1", "U0")
	if !slices.Equal(n.Units, []string{"U0", "U1"}) || !slices.Equal(n.Incidents, []string{"I1"}) {
		t.Fatalf("units %v incidents %v", n.Units, n.Incidents)
	}
	if n.Events != 2 || !n.FirstWritten.Equal(t0.Add(time.Second)) || n.Stock || n.Empty() {
		t.Fatalf("events %d first %v stock %v", n.Events, n.FirstWritten, n.Stock)
	}
	n.Add(4, time.Time{}, dispatch.EvStockRestocked, "", "")
	if !n.Stock {
		t.Fatal("a restock does not ask for the stock")
	}
	if e := changelog.New(dispatch.Want{}); !e.Empty() || e.Limit() != 10_000 {
		t.Fatalf("empty %v limit %d", e.Empty(), e.Limit())
	}
}
