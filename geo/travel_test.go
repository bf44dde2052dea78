package geo

import (
	"errors"
	"math"
	"testing"
	"time"
)

// testTravel is a Travel over one profile (index 0, returned) at 36 km/h.
func testTravel(t *testing.T, cfg TravelConfig) (*Travel, int) {
	t.Helper()
	eta, err := NewETA(ETAConfig{Profiles: map[string]SpeedProfile{"car": {SpeedKmh: 36}}})
	if err != nil {
		t.Fatal(err)
	}
	cfg.ETA = eta
	tr, err := NewTravel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr, 0
}

var (
	shiqi   = Point{Lat: 22.522, Lng: 113.379}
	xiaolan = Point{Lat: 22.66, Lng: 113.245}
	noon    = time.Date(2013, 5, 1, 12, 0, 0, 0, time.FixedZone("CST", 8*3600))
)

// trip returns a trip from a to b taking factor times the model.
func trip(tr *Travel, a, b Point, factor float64) Trip {
	s := tr.ETA().Seconds(DistanceM(a, b), 0, tr.ETA().Hour(noon)) * factor
	return Trip{From: a, To: b, Depart: noon, Arrive: noon.Add(time.Duration(s * float64(time.Second)))}
}

// TestTravelLearns: the correction is shrunk toward the model (weight 8
// trips), bounded, per hour band, and where nothing was learned the model
// stays.
func TestTravelLearns(t *testing.T) {
	// shrunk: the coarse pair's log factor is n L / (n + 8), the fine
	// pair's (n L + 8 coarse) / (n + 8), L the trips' log ratio bounded
	shrunk := func(n int, factor float64) float64 {
		l := min(max(math.Log(factor), math.Log(0.5)), math.Log(4))
		k := 8.0
		lc := float64(n) * l / (float64(n) + k)
		return math.Exp((float64(n)*l + k*lc) / (float64(n) + k))
	}
	tests := []struct {
		name   string
		trips  int
		factor float64
		want   float64 // learned factor
	}{
		{"none", 0, 2, 1},
		{"one trip is shrunk", 1, 2, shrunk(1, 2)},
		{"eight trips", 8, 2, shrunk(8, 2)},
		{"many trips reach it", 2000, 2, shrunk(2000, 2)},
		{"slower than the model", 30, 1.3, shrunk(30, 1.3)},
		{"faster than the model", 30, 0.7, shrunk(30, 0.7)},
		{"bounded above", 2000, 9, shrunk(2000, 9)},
		{"bounded below", 2000, 0.1, shrunk(2000, 0.1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// no speed or length filter: the bounds are tested
			tr, p := testTravel(t, TravelConfig{MaxTripS: 1e9, MaxSpeedKmh: 1e9})
			for range tc.trips {
				o, err := tr.Observe(trip(tr, shiqi, xiaolan, tc.factor))
				if err != nil {
					t.Fatal(err)
				}
				tr.Learn(o)
			}
			e := tr.Estimate(shiqi, xiaolan, p, noon)
			if math.Abs(e.Factor-tc.want) > 1e-9 || math.Abs(e.Seconds-e.ModelS*tc.want) > 1e-6 {
				t.Fatalf("factor %v (%v s of model %v), want %v", e.Factor, e.Seconds, e.ModelS, tc.want)
			}
			if e.Factor < 0.5 || e.Factor > 4 {
				t.Fatalf("factor %v out of bounds", e.Factor)
			}
			if tc.trips > 0 && (e.Source != SourceLearned || e.Trips != tc.trips) {
				t.Fatalf("source %v with %d trips, want learned with %d", e.Source, e.Trips, tc.trips)
			}
			if night := tr.Estimate(shiqi, xiaolan, p, noon.Add(12*time.Hour)); night.Source != SourceModel || night.Factor != 1 {
				t.Fatalf("another hour band took the correction: %+v", night)
			}
			if back := tr.Estimate(xiaolan, shiqi, p, noon); back.Source != SourceModel {
				t.Fatalf("the way back took the correction: %+v", back)
			}
			if e.Seconds < tr.Floor()*e.ModelS {
				t.Fatalf("below the floor: %v < %v x %v", e.Seconds, tr.Floor(), e.ModelS)
			}
		})
	}
}

// TestTravelFineShrinksToCoarse: a fine cell pair with trips of its own
// departs from its coarse pair's correction, which the other fine pairs of
// the coarse pair keep.
func TestTravelFineShrinksToCoarse(t *testing.T) {
	tr, p := testTravel(t, TravelConfig{})
	a2 := Point{Lat: shiqi.Lat + 0.02, Lng: shiqi.Lng} // same res-6 cell, another res-7 cell
	if pa, pb := tr.PlaceOf(shiqi), tr.PlaceOf(a2); pa.Coarse != pb.Coarse || pa.Fine == pb.Fine {
		t.Skip("test points do not share a coarse cell")
	}
	for range 100 {
		o, err := tr.Observe(trip(tr, shiqi, xiaolan, 2))
		if err != nil {
			t.Fatal(err)
		}
		tr.Learn(o)
	}
	e, e2 := tr.Estimate(shiqi, xiaolan, p, noon), tr.Estimate(a2, xiaolan, p, noon)
	coarse := math.Exp(100 * math.Log(2) / 108)
	fine := math.Exp((100*math.Log(2) + 8*math.Log(coarse)) / 108) // its trips count in both
	if math.Abs(e2.Factor-coarse) > 1e-9 || math.Abs(e.Factor-fine) > 1e-9 {
		t.Fatalf("fine %v (want %v), neighbour %v (want the coarse %v)", e.Factor, fine, e2.Factor, coarse)
	}
}

// TestTravelDropsBadTrips: a unit that never moved, a 10-hour trip, an
// impossible speed and a trip with no time teach nothing.
func TestTravelDropsBadTrips(t *testing.T) {
	tr, _ := testTravel(t, TravelConfig{})
	tests := []struct {
		name string
		trip Trip
	}{
		{"never moved", Trip{From: shiqi, To: shiqi, Depart: noon, Arrive: noon.Add(10 * time.Minute)}},
		{"a few metres", Trip{From: shiqi, To: Point{Lat: shiqi.Lat + 0.001, Lng: shiqi.Lng}, Depart: noon, Arrive: noon.Add(10 * time.Minute)}},
		{"ten hours", Trip{From: shiqi, To: xiaolan, Depart: noon, Arrive: noon.Add(10 * time.Hour)}},
		{"impossible speed", Trip{From: shiqi, To: xiaolan, Depart: noon, Arrive: noon.Add(time.Minute)}},
		{"no time", Trip{From: shiqi, To: xiaolan, Depart: noon, Arrive: noon}},
		{"backwards", Trip{From: shiqi, To: xiaolan, Depart: noon, Arrive: noon.Add(-time.Hour)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tr.Observe(tc.trip); !errors.Is(err, ErrBadTrip) {
				t.Fatalf("err %v, want ErrBadTrip", err)
			}
		})
	}
	if _, err := tr.Observe(trip(tr, shiqi, xiaolan, 1.5)); err != nil {
		t.Fatalf("a good trip refused: %v", err)
	}
}

// TestTravelFixedAndRestore: a fixed Travel learns nothing and has the
// model's floor; rows restored into another Travel give the same ETAs.
func TestTravelFixedAndRestore(t *testing.T) {
	tr, p := testTravel(t, TravelConfig{})
	for range 20 {
		o, err := tr.Observe(trip(tr, shiqi, xiaolan, 1.8))
		if err != nil {
			t.Fatal(err)
		}
		tr.Learn(o)
	}
	other, _ := testTravel(t, TravelConfig{})
	other.Restore(tr.Rows())
	if a, b := tr.Estimate(shiqi, xiaolan, p, noon), other.Estimate(shiqi, xiaolan, p, noon); a != b || a.Source != SourceLearned {
		t.Fatalf("restored %+v, learned %+v", b, a)
	}
	fixed, _ := testTravel(t, TravelConfig{Fixed: true})
	fixed.Restore(tr.Rows())
	o, _ := fixed.Observe(trip(fixed, shiqi, xiaolan, 1.8))
	fixed.Learn(o)
	if e := fixed.Estimate(shiqi, xiaolan, p, noon); e.Source != SourceModel || fixed.Floor() != 1 || tr.Floor() != 0.5 {
		t.Fatalf("fixed: %+v, floor %v (learning: %v)", e, fixed.Floor(), tr.Floor())
	}
}

// TestMatrix: cell entries before town entries, by band, clamped to the
// bounds; bad tables refused.
func TestMatrix(t *testing.T) {
	towns, err := NewTowns([]Town{{Code: "shiqi", Center: shiqi}, {Code: "xiaolan", Center: xiaolan}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	c1, c2 := CellOf(shiqi, 8).String(), CellOf(xiaolan, 8).String()
	m, err := NewMatrix(MatrixConfig{Entries: []MatrixEntry{
		{From: "shiqi", To: "xiaolan", Seconds: 2500},
		{From: "shiqi", To: "xiaolan", Band: "evening_rush", Seconds: 3000},
		{From: c1, To: c2, Band: "day", Seconds: 2000},
		{From: "xiaolan", To: "shiqi", Seconds: 1}, // far below the model: clamped to the floor
	}}, towns)
	if err != nil {
		t.Fatal(err)
	}
	tr, p := testTravel(t, TravelConfig{Matrix: m})
	near := Point{Lat: shiqi.Lat + 0.01, Lng: shiqi.Lng + 0.01} // same town, another cell
	for _, tc := range []struct {
		a, b Point
		at   time.Time
		want float64
	}{
		{shiqi, xiaolan, noon, 2000},
		{near, xiaolan, noon, 2500},
		{near, xiaolan, noon.Add(6 * time.Hour), 3000},
		{shiqi, xiaolan, noon.Add(-6 * time.Hour), 2500},
	} {
		if e := tr.Estimate(tc.a, tc.b, p, tc.at); e.Source != SourceMatrix || math.Abs(e.Seconds-tc.want) > 1e-9 {
			t.Fatalf("%v -> %v at %v: %+v, want %v from the matrix", tc.a, tc.b, tc.at, e, tc.want)
		}
	}
	if e := tr.Estimate(xiaolan, shiqi, p, noon); e.Seconds != e.ModelS*tr.Floor() {
		t.Fatalf("an entry below the floor: %+v", e)
	}
	for _, bad := range [][]MatrixEntry{
		{{From: "shiqi", To: "nowhere", Seconds: 10}},
		{{From: "shiqi", To: c2, Seconds: 10}},
		{{From: "shiqi", To: "xiaolan", Seconds: 0}},
		{{From: "shiqi", To: "xiaolan", Band: "noon", Seconds: 10}},
		{{From: c1, To: CellOf(xiaolan, 7).String(), Seconds: 10}},
	} {
		if _, err := NewMatrix(MatrixConfig{Entries: bad}, towns); !errors.Is(err, ErrMatrix) {
			t.Fatalf("%+v: err %v, want ErrMatrix", bad, err)
		}
	}
}

// TestTravelFloorTo: the floor toward a place is 1 while every correction
// toward it is slower than the model, drops with a fast trip (to its mean
// log ratio for a fine pair), never below Floor, and Restore rebuilds it.
func TestTravelFloorTo(t *testing.T) {
	tr, _ := testTravel(t, TravelConfig{MaxTripS: 1e9, MaxSpeedKmh: 1e9})
	to := tr.PlaceOf(xiaolan)
	h := tr.ETA().Hour(noon)
	learn := func(f float64) {
		o, err := tr.Observe(trip(tr, shiqi, xiaolan, f))
		if err != nil {
			t.Fatal(err)
		}
		tr.Learn(o)
	}
	learn(2)
	if f := tr.FloorTo(to, h); f != 1 {
		t.Fatalf("after a slow trip: %v, want 1", f)
	}
	learn(0.8) // the fine pair's mean log(2 x 0.8) / 2 > 0: still 1
	if f := tr.FloorTo(to, h); f != 1 {
		t.Fatalf("after trips slower on average: %v, want 1", f)
	}
	learn(0.3)                                                          // bounded to 0.5
	want := math.Exp((math.Log(2) + math.Log(0.8) + math.Log(0.5)) / 3) // the fine pair's mean log ratio, bounded
	if f := tr.FloorTo(to, h); math.Abs(f-want) > 1e-9 {
		t.Fatalf("after fast trips: %v, want %v", f, want)
	}
	if e := tr.Estimate(shiqi, xiaolan, 0, noon); e.Factor < tr.FloorTo(to, h) {
		t.Fatalf("factor %v below the floor %v", e.Factor, tr.FloorTo(to, h))
	}
	if f := tr.FloorTo(to, h+12); f != 1 {
		t.Fatalf("another band: %v", f)
	}
	other, _ := testTravel(t, TravelConfig{})
	other.Restore(tr.Rows())
	if a, b := other.FloorTo(to, h), tr.FloorTo(to, h); a != b {
		t.Fatalf("restored %v, learned %v", a, b)
	}
	for range 50 {
		learn(0.1)
	}
	if f := tr.FloorTo(to, h); f < 0.5 || f > 0.53 {
		t.Fatalf("many very fast trips: %v, want near the floor 0.5", f)
	}
}
