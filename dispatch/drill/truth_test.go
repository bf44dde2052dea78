package drill

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/geo"
)

// TestTruthBridges: a trip across a waterway goes by its bridge that makes
// the trip shortest, a trip on one side does not detour, a boat goes
// straight; the truth's centres and hours slow trips down.
func TestTruthBridges(t *testing.T) {
	sc := zhongshan(t)
	open, err := NewTruth(TruthConfig{Scenario: sc, Waterways: []Waterway{}, Spread: -1})
	if err != nil {
		t.Fatal(err)
	}
	delta, err := NewTruth(TruthConfig{Scenario: sc, Spread: -1})
	if err != nil {
		t.Fatal(err)
	}
	eta, err := geo.NewETA(sc.ETA)
	if err != nil {
		t.Fatal(err)
	}
	car, _ := eta.Profile("car")
	boat, _ := eta.Profile("boat")
	west := geo.Point{Lat: 22.51, Lng: 113.335} // West District, west of the Qijiang
	east := geo.Point{Lat: 22.51, Lng: 113.395} // east of it
	west2 := geo.Point{Lat: 22.53, Lng: 113.32} // west too
	q := DeltaWaterways[slices.IndexFunc(DeltaWaterways, func(w Waterway) bool { return w.Name == "qijiang" })]
	via, shortest := 0.0, math.Inf(1)
	for _, b := range q.Bridges { // the bridge of the shortest path
		if d := geo.DistanceM(west, b) + geo.DistanceM(b, east); d < shortest {
			shortest, via = d, open.Expected(west, b, car, 11)+open.Expected(b, east, car, 11)
		}
	}
	if got := delta.Expected(west, east, car, 11); math.Abs(got-via) > 1e-6 || !(shortest > geo.DistanceM(west, east)+10) {
		t.Fatalf("across the Qijiang: %v s, want %v by the best bridge (straight %v)", got, via, open.Expected(west, east, car, 11))
	}
	if a, b := delta.Expected(west, west2, car, 11), open.Expected(west, west2, car, 11); a != b {
		t.Fatalf("one side: %v, want no detour %v", a, b)
	}
	if a, b := delta.Expected(west, east, boat, 11), geo.DistanceM(west, east)/(20/3.6*deltaHourly[11]); math.Abs(a-b) > 1e-6 {
		t.Fatalf("boat %v, want straight %v", a, b)
	}
	if rush, noon := delta.Expected(west, east, car, 18), delta.Expected(west, east, car, 11); !(rush > noon*1.5) {
		t.Fatalf("evening rush %v, noon %v", rush, noon)
	}
	// The slow centre: the same distance through Shiqi's centre and far from any.
	shiqi := geo.Point{Lat: 22.522, Lng: 113.379}
	far := geo.Point{Lat: 22.40, Lng: 113.55}
	d := 0.01
	if in, out := open.Expected(geo.Point{Lat: shiqi.Lat - d, Lng: shiqi.Lng}, geo.Point{Lat: shiqi.Lat + d, Lng: shiqi.Lng}, car, 11),
		open.Expected(geo.Point{Lat: far.Lat - d, Lng: far.Lng}, geo.Point{Lat: far.Lat + d, Lng: far.Lng}, car, 11); !(in > out*1.3) {
		t.Fatalf("through the centre %v, far from it %v", in, out)
	}
}

// TestTruthSpread: each trip's factor is seeded (the same trip, the same
// time), differs between trips, and has the spread asked for.
func TestTruthSpread(t *testing.T) {
	sc := zhongshan(t)
	tr, err := NewTruth(TruthConfig{Scenario: sc, Spread: 0.15, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	a, b := geo.Point{Lat: 22.52, Lng: 113.38}, geo.Point{Lat: 22.60, Lng: 113.30}
	dep := time.Date(2013, 3, 1, 11, 0, 0, 0, cst)
	exp := tr.Expected(a, b, 0, 11)
	if x, y := tr.Trip(a, b, 0, dep, "U1", "I1"), tr.Trip(a, b, 0, dep, "U1", "I1"); x != y {
		t.Fatalf("the same trip: %v and %v", x, y)
	}
	var logs []float64
	for i := range 4000 {
		s := tr.Trip(a, b, 0, dep, "U1", "I"+string(rune('A'+i%26))+time.Duration(i).String()).Seconds()
		logs = append(logs, math.Abs(math.Log(s/exp)))
	}
	slices.Sort(logs)
	if med := logs[len(logs)/2]; math.Abs(med-0.6745*0.15) > 0.01 {
		t.Fatalf("median |log factor| %v, want about %v", med, 0.6745*0.15)
	}
}

// TestDrillLearnsTheTruth: three days replayed with units moving by the
// delta truth (no spread): learning cuts the ETA error of arrived units,
// and an engine that knows the truth has almost none.
func TestDrillLearnsTheTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("three days replayed three times")
	}
	sc := zhongshan(t)
	run := func(noLearn, know bool) *ETAReport {
		g, err := NewGenerator(GenConfig{Scenario: sc, Seed: 3, Duration: 3 * 24 * time.Hour, Surges: []Surge{}})
		if err != nil {
			t.Fatal(err)
		}
		d, err := New(Config{Scenario: sc, Store: memstore.New(Retention()), Drill: "truth", Logger: quiet, Truth: TruthDelta,
			TruthSpread: -1, KnowTruth: know, Rank: dispatch.RankConfig{NoLearn: noLearn, Alternates: -1}})
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
		if rep.ETA == nil || rep.ETA.Trips < 1000 || rep.ETA.Truth != TruthDelta {
			t.Fatalf("eta report %+v", rep.ETA)
		}
		return rep.ETA
	}
	model, learned, known := run(true, false), run(false, false), run(false, true)
	t.Logf("MdAPE: model %.1f %%, learned %.1f %% (first week %.1f), truth known %.1f %%", model.MAPEAll, learned.MAPEAll, learned.MAPEFirstWeek, known.MAPEAll)
	if !(learned.MAPEAll < model.MAPEAll*0.6) || model.Learned != 0 || learned.Learned == 0 || !(known.MAPEAll < 1) {
		t.Fatalf("model %+v\nlearned %+v\nknown %+v", model, learned, known)
	}
}
