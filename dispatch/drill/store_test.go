package drill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/storetest"
)

func TestStoreConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Store { return NewStore(StoreConfig{}) })
}

// TestStoreWindow: only the newest events, outbox records and closed
// incidents are kept; every decided id stays decided.
func TestStoreWindow(t *testing.T) {
	ctx := context.Background()
	s := NewStore(StoreConfig{KeepEvents: 4, KeepOutbox: 3, KeepClosed: 2})
	for i := 0; i < 10; i++ {
		id := fmt.Sprintf("I%d", i)
		o := &dispatch.Outcome{Drill: "d", NewIncident: true, Incident: &dispatch.IncidentRecord{Incident: dispatch.Incident{ID: id}, State: dispatch.StateClosed},
			Events: []dispatch.Event{{Kind: dispatch.EvIncidentClosed, Incident: id}}, Outbox: []dispatch.OutboxRecord{{Key: id}}}
		if err := s.Apply(ctx, []*dispatch.Outcome{o}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		after int64
		limit int
		want  []int64
	}{{0, 10, []int64{7, 8, 9, 10}}, {8, 10, []int64{9, 10}}, {6, 2, []int64{7, 8}}, {10, 5, nil}, {3, 0, nil}}
	for _, c := range cases {
		evs, err := s.EventsAfter(ctx, c.after, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, e := range evs {
			got = append(got, e.Seq)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("EventsAfter(%d, %d) = %v, want %v", c.after, c.limit, got, c.want)
		}
	}
	if recs, _ := s.PendingOutbox(ctx, 10); len(recs) != 3 || recs[0].Key != "I7" || s.DroppedOutbox() != 7 {
		t.Errorf("outbox %+v dropped %d", recs, s.DroppedOutbox())
	}
	if _, err := s.Incident(ctx, "d", "I9"); err != nil {
		t.Errorf("newest closed incident: %v", err)
	}
	if _, err := s.Incident(ctx, "d", "I1"); err == nil {
		t.Error("old closed incident still held")
	}
	if d, _ := s.Decided(ctx, "d", []string{"I0", "I9", "X"}); !d["I0"] || !d["I9"] || d["X"] {
		t.Errorf("decided %v", d)
	}
}

// TestGroupCommitSameDrill: a drill through GroupCommit ends with the same
// report and the same stored state as straight into the store.
func TestGroupCommitSameDrill(t *testing.T) {
	sc := zhongshan(t)
	run := func(st dispatch.Store) ([]byte, *dispatch.Snapshot) {
		g, err := NewGenerator(GenConfig{Scenario: sc, Seed: 9, Duration: 6 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		d, err := New(Config{Scenario: sc, Store: st, Drill: "g", Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		res, err := d.Run(context.Background(), g)
		if err != nil {
			t.Fatal(err)
		}
		rep, _ := res.Report(ReportConfig{})
		b, _ := rep.JSON()
		snap, err := st.Load(context.Background(), "g")
		if err != nil {
			t.Fatal(err)
		}
		return b, snap
	}
	plain := NewStore(StoreConfig{})
	a, sa := run(plain)
	inner := NewStore(StoreConfig{})
	b, sb := run(NewGroupCommit(inner, 100))
	if !bytes.Equal(a, b) {
		t.Error("reports differ")
	}
	if fmt.Sprint(sa.Units, sa.Stock) != fmt.Sprint(sb.Units, sb.Stock) || sa.LastSeq != sb.LastSeq {
		t.Error("stored states differ")
	}
	gc := NewGroupCommit(NewStore(StoreConfig{}), 10)
	o := &dispatch.Outcome{Drill: "g", NewIncident: true, Incident: &dispatch.IncidentRecord{Incident: dispatch.Incident{ID: "X"}}}
	if err := gc.Apply(context.Background(), []*dispatch.Outcome{o}); err != nil {
		t.Fatal(err)
	}
	if d, _ := gc.Decided(context.Background(), "g", []string{"X"}); !d["X"] {
		t.Error("queued incident not decided")
	}
	if err := gc.Apply(context.Background(), []*dispatch.Outcome{o}); !errors.Is(err, dispatch.ErrConflict) {
		t.Errorf("second decision of a queued incident: %v", err)
	}
}
