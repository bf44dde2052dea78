package drill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
)

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
	plain := memstore.New(Retention())
	a, sa := run(plain)
	inner := memstore.New(Retention())
	b, sb := run(NewGroupCommit(inner, 100))
	if !bytes.Equal(a, b) {
		t.Error("reports differ")
	}
	if fmt.Sprint(sa.Units, sa.Stock) != fmt.Sprint(sb.Units, sb.Stock) || sa.LastSeq != sb.LastSeq {
		t.Error("stored states differ")
	}
	gc := NewGroupCommit(memstore.New(Retention()), 10)
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
