package drill

import (
	"context"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch/memstore"
)

// TestMoveUpDrill: a day replayed with move-up and diversion on runs
// through (every unit event the simulation sends is legal, relocations and
// units taken off their way included), moves units up, diverts units to P1
// calls, stays within the cap of move-ups per unit and day, and is
// deterministic; off, nothing moves or is diverted.
func TestMoveUpDrill(t *testing.T) {
	sc := zhongshan(t)
	run := func(moveUp bool) *Report {
		g, err := NewGenerator(GenConfig{Scenario: sc, Seed: 5, Duration: 24 * time.Hour, CallsPerYear: 2_000_000})
		if err != nil {
			t.Fatal(err)
		}
		d, err := New(Config{Scenario: sc, Store: memstore.New(Retention()), Drill: "mu", Seed: 5, MoveUp: moveUp, Divert: moveUp, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		res, err := d.Run(context.Background(), g)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := res.Report(ReportConfig{})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	off, on, again := run(false), run(true), run(true)
	if off.MoveUps != 0 || off.Diversions != 0 {
		t.Fatalf("off: %d move-ups, %d diversions", off.MoveUps, off.Diversions)
	}
	if on.MoveUps == 0 || on.Diversions == 0 {
		t.Fatalf("on: %d move-ups, %d diversions in a busy day", on.MoveUps, on.Diversions)
	}
	if on.MoveUpsPerUnitDay > 2 {
		t.Fatalf("%.2f move-ups per unit and day, cap 2", on.MoveUpsPerUnitDay)
	}
	if on.MoveUps != again.MoveUps || on.Response.All.P90 != again.Response.All.P90 {
		t.Fatalf("not deterministic: %d/%v then %d/%v", on.MoveUps, on.Response.All.P90, again.MoveUps, again.Response.All.P90)
	}
	// The comparison of the two runs shows both rates.
	c := Compare(off, on)
	rows := map[string]float64{}
	for _, r := range c.Rows {
		rows[r.Section+" "+r.Metric] = r.B
	}
	if rows["diversions per day"] != on.DiversionsPerDay || rows["move-ups per unit and day"] != on.MoveUpsPerUnitDay {
		t.Fatalf("comparison rows %v, want diversions %.3f and move-ups %.3f", rows, on.DiversionsPerDay, on.MoveUpsPerUnitDay)
	}
	t.Logf("one day: %d move-ups (%.3f per unit and day), %d diversions; P1 p90 %.0fs off, %.0fs on", on.MoveUps, on.MoveUpsPerUnitDay, on.Diversions,
		off.Response.ByPriority[0].P90, on.Response.ByPriority[0].P90)
}
