package geo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

var zhongshan = Point{Lat: 22.52, Lng: 113.38}

// randomPoint returns points around the city, with some exactly on H3 cell
// vertices and centres, some stacked on one spot, and some far away.
func randomPoint(r *rand.Rand, res int, spots []Point) Point {
	switch r.IntN(10) {
	case 0: // a vertex of a cell: on the border of three cells
		c := CellOf(Point{zhongshan.Lat + r.NormFloat64()*0.1, zhongshan.Lng + r.NormFloat64()*0.1}, res)
		b := c.Boundary()
		return b[r.IntN(len(b))]
	case 1: // a cell centre
		return CellOf(Point{zhongshan.Lat + r.NormFloat64()*0.1, zhongshan.Lng + r.NormFloat64()*0.1}, res).Center()
	case 2, 3: // many items at one spot
		return spots[r.IntN(len(spots))]
	case 4: // outside the city, sometimes far
		return Point{zhongshan.Lat + r.NormFloat64()*2, zhongshan.Lng + r.NormFloat64()*2}
	default:
		return Point{zhongshan.Lat + r.NormFloat64()*0.12, zhongshan.Lng + r.NormFloat64()*0.12}
	}
}

func TestIndexesAgreeWithBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	cases := 1500
	if testing.Short() {
		cases = 500
	}
	levelsUsed := map[int]int{}
	for tc := 0; tc < cases; tc++ {
		// One to three kept resolutions; the area decides the search level.
		fine := 5 + r.IntN(5)
		res := []int{fine}
		for l := 1; l < 1+r.IntN(3); l++ {
			res = append(res, fine-2*l)
		}
		area := []float64{0, 1e7, 4.5e9, 1e12}[r.IntN(4)]
		h3i, err := NewIndex(IndexConfig{Resolutions: res, AreaM2: area})
		if err != nil {
			t.Fatal(err)
		}
		rt, bf := NewRTreeIndex(), NewBruteIndex()
		idxs := []PointIndex{h3i, rt, bf}
		n := r.IntN(300)
		if r.IntN(4) == 0 {
			n = r.IntN(3000)
		}
		spots := []Point{randomPoint(r, fine, []Point{zhongshan}), randomPoint(r, fine, []Point{zhongshan})}
		// The cost is a travel time plus a penalty; items with the same
		// speed and penalty share a class (same point, same class: same cost).
		speeds := []float64{5, 10, 12.5}
		speed := make([]float64, n) // m/s per item
		penalty := make([]float64, n)
		class := make([]uint32, n)
		for i := 0; i < n; i++ {
			s, pen := r.IntN(3), 0
			if r.IntN(5) == 0 {
				pen = r.IntN(3)
			}
			speed[i], penalty[i], class[i] = speeds[s], float64(pen)*300, uint32(s*3+pen)
			p := randomPoint(r, fine, spots)
			for _, ix := range idxs {
				ix.Set(int32(i), p, class[i])
			}
		}
		// Moves, class changes and removals after the build.
		for m := 0; m < n/5; m++ {
			id := int32(r.IntN(max(n, 1)))
			switch r.IntN(3) {
			case 0:
				p := randomPoint(r, fine, spots)
				for _, ix := range idxs {
					ix.Set(id, p, class[id])
				}
			case 1:
				s := r.IntN(3)
				speed[id], penalty[id], class[id] = speeds[s], 0, uint32(s*3)
				p := randomPoint(r, fine, spots)
				for _, ix := range idxs {
					ix.Set(id, p, class[id])
				}
			default:
				for _, ix := range idxs {
					ix.Remove(id)
				}
			}
		}
		for _, ix := range idxs[:2] {
			if ix.Len() != bf.Len() {
				t.Fatalf("case %d: Len %d, brute %d", tc, ix.Len(), bf.Len())
			}
		}
		levelsUsed[h3i.res[h3i.level()]]++
		excluded := map[int32]bool{}
		for e := 0; e < r.IntN(5); e++ {
			excluded[int32(r.IntN(max(n, 1)))] = true
		}
		cost := func(id int32, d float64) (float64, bool) {
			if excluded[id] {
				return 0, false
			}
			return d/speed[id] + penalty[id], true
		}
		for qn := 0; qn < 5; qn++ {
			q := randomPoint(r, fine, spots)
			k := 1 + r.IntN(8)
			if r.IntN(10) == 0 {
				k = n + 5
			}
			want := bf.Nearest(q, k, 1/12.5, cost, nil)
			for name, ix := range map[string]PointIndex{"h3": h3i, "rtree": rt} {
				got := ix.Nearest(q, k, 1/12.5, cost, nil)
				if !sameHits(got, want) {
					t.Fatalf("case %d res %v area %g n %d k %d q %v: %s\n got %v\nwant %v", tc, res, area, n, k, q, name, got, want)
				}
			}
		}
	}
	for r := 1; r <= 9; r++ {
		if levelsUsed[r] == 0 {
			t.Errorf("no search ran at resolution %d (%v)", r, levelsUsed)
		}
	}
}

// sameHits compares ids and costs; distances may differ in the last bits
// between the scan orders, so they are compared with a tolerance.
func sameHits(a, b []Hit) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Cost != b[i].Cost || math.Abs(a[i].DistM-b[i].DistM) > 1e-6 {
			return false
		}
	}
	return true
}

func TestNearestTable(t *testing.T) {
	ix, _ := NewIndex(IndexConfig{Resolutions: []int{9}})
	for i := 0; i < 100; i++ { // a line of items 100 m apart going north
		ix.Set(int32(i), Point{zhongshan.Lat + float64(i)*0.0009, zhongshan.Lng}, 0)
	}
	dist := func(id int32, d float64) (float64, bool) { return d, true }
	cases := []struct {
		name string
		q    Point
		k    int
		want []int32
	}{
		{"at item 0", zhongshan, 3, []int32{0, 1, 2}},
		{"between 10 and 11, nearer 11", Point{zhongshan.Lat + 10.6*0.0009, zhongshan.Lng}, 2, []int32{11, 10}},
		{"far south: the first ones", Point{zhongshan.Lat - 1, zhongshan.Lng}, 2, []int32{0, 1}},
		{"k above n", Point{zhongshan.Lat + 50*0.0009, zhongshan.Lng}, 150, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ix.Nearest(c.q, c.k, 1, dist, nil)
			if c.want == nil {
				if len(got) != 100 {
					t.Fatalf("got %d hits, want all 100", len(got))
				}
				return
			}
			var ids []int32
			for _, h := range got {
				ids = append(ids, h.ID)
			}
			if !reflect.DeepEqual(ids, c.want) {
				t.Fatalf("got %v want %v", ids, c.want)
			}
		})
	}
}

func TestTiesBrokenByID(t *testing.T) {
	ix, _ := NewIndex(IndexConfig{Resolutions: []int{8}})
	for i := 99; i >= 0; i-- {
		ix.Set(int32(i), zhongshan, 0) // all at one spot
	}
	got := ix.Nearest(Point{zhongshan.Lat + 0.01, zhongshan.Lng}, 4, 1, func(id int32, d float64) (float64, bool) { return d, true }, nil)
	for i, h := range got {
		if h.ID != int32(i) {
			t.Fatalf("tie order %v", got)
		}
	}
}

func TestTownsLocate(t *testing.T) {
	towns, err := NewTowns([]Town{{Code: "a", Center: Point{22.5, 113.3}}, {Code: "b", Center: Point{22.5, 113.4}}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		p    Point
		code string
		ok   bool
	}{
		{Point{22.5, 113.31}, "a", true},
		{Point{22.5, 113.39}, "b", true},
		{Point{22.5, 113.35}, "a", true}, // equidistant: first listed
		{Point{23.5, 113.35}, "", false},
	}
	for _, c := range cases {
		code, ok := towns.Locate(c.p)
		if code != c.code || ok != c.ok {
			t.Errorf("Locate(%v) = %q %v, want %q %v", c.p, code, ok, c.code, c.ok)
		}
	}
}

func TestETA(t *testing.T) {
	e, err := NewETA(ETAConfig{DetourFactor: 1.5, Profiles: map[string]SpeedProfile{"car": {SpeedKmh: 36, Hourly: [24]float64{18: 0.5}}}})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := e.Profile("car")
	if got := e.Seconds(1000, p, 12); math.Abs(got-150) > 1e-9 { // 1.5 km at 10 m/s
		t.Fatalf("noon: %v s", got)
	}
	if got := e.Seconds(1000, p, 18); math.Abs(got-300) > 1e-9 { // rush hour at half speed
		t.Fatalf("18h: %v s", got)
	}
	for _, bad := range []ETAConfig{{DetourFactor: 0.5, Profiles: map[string]SpeedProfile{"car": {SpeedKmh: 1}}}, {}, {Profiles: map[string]SpeedProfile{"car": {SpeedKmh: -1}}}} {
		if _, err := NewETA(bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	if _, err := e.Profile("rocket"); err == nil {
		t.Error("unknown profile accepted")
	}
}

func TestPointValidate(t *testing.T) {
	for _, p := range []Point{{math.NaN(), 0}, {0, math.Inf(1)}, {95, 0}, {0, -181}} {
		if p.Validate() == nil {
			t.Errorf("%v accepted", p)
		}
	}
	if (Point{22.5, 113.4}).Validate() != nil {
		t.Error("valid point refused")
	}
	if d := DistanceM(Point{0, 0}, Point{1, 0}); math.Abs(d-111195) > 1 {
		t.Errorf("one degree = %v m", d)
	}
}

func ExampleResolutionFor() {
	fmt.Println(ResolutionFor(1200, 2500e6), ResolutionFor(12000, 2500e6))
	// Output: 7 8
}

// TestStackPricedOnce: a stack of items of one class at one point is priced
// once; after that only ids that can still win are asked about.
func TestStackPricedOnce(t *testing.T) {
	ix, err := NewIndex(IndexConfig{Resolutions: []int{9, 7}, AreaM2: 4.5e9})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, i := range r.Perm(2000) {
		ix.Set(int32(i), zhongshan, 0)
	}
	for i := 2000; i < 2100; i++ { // other spots farther away
		ix.Set(int32(i), Point{zhongshan.Lat + 0.01 + float64(i-2000)*0.001, zhongshan.Lng}, uint32(i%3))
	}
	calls := 0
	cost := func(id int32, d float64) (float64, bool) {
		calls++
		return d / 10, id != 1 // id 1 is excluded
	}
	got := ix.Nearest(Point{zhongshan.Lat + 0.001, zhongshan.Lng}, 3, 0.1, cost, nil)
	if len(got) != 3 || got[0].ID != 0 || got[1].ID != 2 || got[2].ID != 3 {
		t.Fatalf("got %v, want ids 0 2 3", got)
	}
	if calls > 200 {
		t.Fatalf("%d cost calls for a stack of 2000 and 100 other items", calls)
	}
	if ix.Spots() != 101 || ix.Len() != 2100 {
		t.Fatalf("spots %d len %d", ix.Spots(), ix.Len())
	}
}

func TestNewIndexRefuses(t *testing.T) {
	for _, cfg := range []IndexConfig{
		{Resolutions: []int{16}}, {Resolutions: []int{-1}}, {Resolutions: []int{9, 9}},
		{Resolutions: []int{9, 8, 7, 6, 5}}, {AreaM2: -1}, {AreaM2: math.NaN()},
	} {
		if _, err := NewIndex(cfg); err == nil {
			t.Errorf("accepted %+v", cfg)
		}
	}
}

func ExampleResolutionsFor() {
	// The Zhongshan box is about 4,500 km².
	fmt.Println(ResolutionsFor(1000, 4.5e9), ResolutionsFor(50000, 4.5e9))
	// Output: [7 5] [9 7 5]
}
