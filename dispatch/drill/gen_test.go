package drill

import (
	"bytes"
	"io"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/dispatch/wire"
	"github.com/zs110/dispatch/geo"
)

func zhongshan(t testing.TB) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func drain(t testing.TB, src Source) []dispatch.Incident {
	t.Helper()
	var out []dispatch.Incident
	for {
		inc, err := src.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, inc)
	}
}

func generate(t testing.TB, cfg GenConfig) []dispatch.Incident {
	t.Helper()
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return drain(t, g)
}

func TestGeneratorDeterministic(t *testing.T) {
	sc := zhongshan(t)
	cfg := GenConfig{Scenario: sc, Seed: 7, Duration: 36 * time.Hour}
	a, b := generate(t, cfg), generate(t, cfg)
	if len(a) == 0 || !slices.EqualFunc(a, b, func(x, y dispatch.Incident) bool {
		return x.ID == y.ID && x.ReportedAt.Equal(y.ReportedAt) && x.Type == y.Type && x.Lat == y.Lat && x.Lng == y.Lng && x.Caller == y.Caller
	}) {
		t.Fatal("same seed, different streams")
	}
	cfg.Seed = 8
	if c := generate(t, cfg); len(c) == len(a) && c[0].Lat == a[0].Lat {
		t.Fatal("another seed gave the same stream")
	}
}

// TestGeneratorShape checks 30 everyday days: volume, order, ids, the hour
// and town profiles, the type mix and the duplicate callers.
func TestGeneratorShape(t *testing.T) {
	sc := zhongshan(t)
	const days = 30
	incs := generate(t, GenConfig{Scenario: sc, Seed: 1, Duration: days * 24 * time.Hour, Surges: []Surge{}})
	want := CallsPerYear * days / 365.0
	if n := float64(len(incs)); math.Abs(n-want)/want > 0.02 {
		t.Errorf("%d calls in %d days, want about %.0f", len(incs), days, want)
	}
	ids := map[string]bool{}
	byHour := [24]int{}
	types := map[string]int{}
	var towns *geo.Towns
	towns, err := geo.NewTowns(sc.Towns, 0)
	if err != nil {
		t.Fatal(err)
	}
	byTown := map[string]int{}
	for i, inc := range incs {
		if i > 0 && inc.ReportedAt.Before(incs[i-1].ReportedAt) {
			t.Fatalf("call %d out of order", i)
		}
		if ids[inc.ID] {
			t.Fatalf("duplicate id %s", inc.ID)
		}
		ids[inc.ID] = true
		if inc.ReportedAt.Before(DefaultStart) || !inc.ReportedAt.Before(DefaultStart.Add(days*24*time.Hour)) || !inc.HasLocation {
			t.Fatalf("call %+v outside the span or without location", inc)
		}
		byHour[inc.ReportedAt.In(cst).Hour()]++
		types[inc.Type]++
		town, ok := towns.Locate(geo.Point{Lat: inc.Lat, Lng: inc.Lng})
		if !ok {
			t.Fatalf("call %s outside the city", inc.ID)
		}
		byTown[town]++
	}
	if r := float64(byHour[20]) / float64(byHour[4]); r < 3.5 || r > 7 {
		t.Errorf("20h/4h calls %.2f, want about %.1f", r, hourProfile[20]/hourProfile[4])
	}
	if r := float64(byTown["xiaolan"]) / float64(byTown["shenwan"]); r < 4 {
		t.Errorf("Xiaolan/Shenwan calls %.2f: population weighting lost", r)
	}
	if s := float64(types["assistance"]) / float64(len(incs)); math.Abs(s-0.18) > 0.02 {
		t.Errorf("assistance share %.3f, want about 0.18", s)
	}
	// Duplicates: calls of the same type within 150 m and 8 minutes of an
	// earlier call: the generated 6 % x 1.67 extra callers (9 % of calls),
	// plus chance neighbours at hot spots.
	dups := 0
	for i, inc := range incs {
		for j := i - 1; j >= 0 && inc.ReportedAt.Sub(incs[j].ReportedAt) <= 8*time.Minute; j-- {
			if incs[j].Type == inc.Type && geo.DistanceM(geo.Point{Lat: inc.Lat, Lng: inc.Lng}, geo.Point{Lat: incs[j].Lat, Lng: incs[j].Lng}) <= 150 {
				dups++
				break
			}
		}
	}
	if s := float64(dups) / float64(len(incs)); s < 0.08 || s > 0.13 {
		t.Errorf("duplicate share %.3f, want about 0.09", s)
	}
}

func TestGeneratorSurges(t *testing.T) {
	sc := zhongshan(t)
	start := time.Date(2013, 9, 21, 0, 0, 0, 0, cst)
	incs := generate(t, GenConfig{Scenario: sc, Seed: 3, Start: start, Duration: 4 * 24 * time.Hour})
	var flood, typhoonWindow int
	for _, inc := range incs {
		if inc.ReportedAt.After(time.Date(2013, 9, 22, 6, 0, 0, 0, cst)) && inc.ReportedAt.Before(time.Date(2013, 9, 24, 6, 0, 0, 0, cst)) {
			typhoonWindow++
			if inc.Type == "flooding" {
				flood++
			}
		}
	}
	if flood < 1700 || typhoonWindow < 13000 {
		t.Errorf("typhoon: %d calls, %d floods in 48 h", typhoonWindow, flood)
	}
	// the plant fire: 40 callers within 10 minutes at the plant
	fire := generate(t, GenConfig{Scenario: sc, Seed: 3, Start: time.Date(2013, 7, 15, 0, 0, 0, 0, cst), Duration: 24 * time.Hour})
	plant := geo.Point{Lat: 22.6330, Lng: 113.5010}
	n := 0
	for _, inc := range fire {
		if inc.Type == "chemical.fire" {
			n++
			if geo.DistanceM(plant, geo.Point{Lat: inc.Lat, Lng: inc.Lng}) > 120 || inc.ReportedAt.Sub(time.Date(2013, 7, 15, 14, 20, 0, 0, cst)) > 10*time.Minute {
				t.Errorf("plant fire call %+v away from the plant", inc)
			}
		}
	}
	if n != 40 {
		t.Errorf("%d plant fire calls, want 40", n)
	}
}

func TestGeneratorErrors(t *testing.T) {
	sc := zhongshan(t)
	cases := []struct {
		name string
		cfg  GenConfig
	}{
		{"no scenario", GenConfig{}},
		{"negative duration", GenConfig{Scenario: sc, Duration: -time.Hour}},
		{"share above 1", GenConfig{Scenario: sc, DuplicateShare: 2}},
		{"mix of unknown types", GenConfig{Scenario: sc, Mix: map[string]float64{"nope": 1}}},
		{"surge without duration", GenConfig{Scenario: sc, Surges: []Surge{{Name: "x", Calls: 1, Mix: map[string]float64{"theft": 1}}}}},
		{"surge with unknown anchor", GenConfig{Scenario: sc, Surges: []Surge{{Name: "x", Duration: time.Hour, Anchor: "nope"}}}},
	}
	for _, c := range cases {
		if _, err := NewGenerator(c.cfg); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}

// TestYearVolume generates the default year: 1.36 million calls.
func TestYearVolume(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole year in -short")
	}
	g, err := NewGenerator(GenConfig{Scenario: zhongshan(t), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		if _, err := g.Next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if math.Abs(float64(n)-CallsPerYear)/CallsPerYear > 0.005 {
		t.Errorf("%d calls in the year, want 1.36 million", n)
	}
}

// TestJSONLRoundTrip: a stream written as JSON lines and read back is the
// same stream.
func TestJSONLRoundTrip(t *testing.T) {
	sc := zhongshan(t)
	cfg := GenConfig{Scenario: sc, Seed: 5, Duration: 6 * time.Hour, Drill: "rt"}
	want := generate(t, cfg)
	g, _ := NewGenerator(cfg)
	var buf bytes.Buffer
	n, err := WriteJSONL(&buf, g, nil)
	if err != nil || n != len(want) {
		t.Fatalf("wrote %d (%v), want %d", n, err, len(want))
	}
	if lines, _ := CountLines(bytes.NewReader(buf.Bytes())); lines != n {
		t.Errorf("CountLines %d, want %d", lines, n)
	}
	buf.WriteString("\n{\"not\":\"an incident\"}\n")
	r := NewJSONLReader(&buf)
	got := drain(t, r)
	if r.Skipped() != 1 {
		t.Errorf("skipped %d, want 1", r.Skipped())
	}
	if len(got) != len(want) {
		t.Fatalf("read %d, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if w.ID != g.ID || !w.ReportedAt.Equal(g.ReportedAt) || w.Type != g.Type || w.Lat != g.Lat || w.Lng != g.Lng || w.Caller != g.Caller ||
			w.Drill != g.Drill || !g.HasLocation {
			t.Fatalf("record %d: wrote %+v, read %+v", i, w, g)
		}
	}
}

func TestAppendJSONEscapes(t *testing.T) {
	inc := dispatch.Incident{ID: "a\"b<c>", ReportedAt: t0, Type: "theft", Lat: 22.5, Lng: 113.4, HasLocation: true,
		Address: "孙文中路 88 号", Materials: map[string]int{"sandbag": 200}, Priority: 2, Casualties: 1}
	got, err := wire.DecodeIncident(AppendJSON(nil, inc))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != inc.ID || got.Address != inc.Address || got.Materials["sandbag"] != 200 || got.Priority != 2 || got.Casualties != 1 {
		t.Fatalf("round trip: %+v", got)
	}
}
