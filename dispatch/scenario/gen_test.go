package scenario

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

func mustDefault(t testing.TB) *Scenario {
	t.Helper()
	sc, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestDefaultScenario(t *testing.T) {
	sc := mustDefault(t)
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := sc.CheckOnePlusTenPlusTwo(); err != nil {
		t.Fatal(err)
	}
	if len(sc.Towns) != 24 || len(sc.Teams) != 13 || len(sc.Units) != 1000 || len(sc.Depots) != 25 {
		t.Fatalf("towns=%d teams=%d units=%d depots=%d", len(sc.Towns), len(sc.Teams), len(sc.Units), len(sc.Depots))
	}
	// Every capability any plan asks for (not only substitutes) is held.
	if w := sc.Warnings(); len(w) != 0 {
		t.Fatalf("plan capabilities nobody holds:\n%s", strings.Join(w, "\n"))
	}
	for _, tm := range sc.Teams {
		if tm.NameZH == "" || tm.NameEN == "" || tm.Department == "" {
			t.Errorf("team %s lacks a name or department", tm.ID)
		}
		if (tm.Kind == teams.KindReserve) != (tm.ActivationDelayS > 0) {
			t.Errorf("team %s: kind %s with activation delay %v", tm.ID, tm.Kind, tm.ActivationDelayS)
		}
	}
	if sc.Targets != [4]float64{600, 900, 1800, 3600} || sc.ETA.DetourFactor != 1.3 || sc.ETA.Location != "Asia/Shanghai" {
		t.Fatalf("targets %v detour %v location %q", sc.Targets, sc.ETA.DetourFactor, sc.ETA.Location)
	}
	if _, err := geo.NewETA(sc.ETA); err != nil {
		t.Fatal(err)
	}
	byCode := map[string]IncidentType{}
	for _, it := range sc.Types {
		byCode[it.Code] = it
		if it.NameZH == "" || it.NameEN == "" || it.ServiceS <= 0 {
			t.Errorf("type %s lacks names or a service time", it.Code)
		}
	}
	for _, code := range []string{"theft", "burglary", "robbery", "assault", "dispute", "fraud", "traffic.accident", "traffic.injury",
		"fire.building", "fire.vehicle", "fire.other", "medical", "drowning", "water.rescue", "trapped", "gas.leak", "hazmat",
		"flooding", "typhoon.damage", "tree.fallen", "power.line_down", "missing.person", "public.disorder", "assistance",
		"noise", "suspicious", "unknown"} {
		if _, ok := byCode[code]; !ok {
			t.Errorf("catalogue lacks %s", code)
		}
	}
	unknown := byCode[sc.Fallback]
	if sc.Fallback != "unknown" || unknown.Priority != 2 || !reflect.DeepEqual(unknown.Plan.Units, []Requirement{{Capability: "patrol", Count: 1}}) {
		t.Errorf("fallback %q: %+v", sc.Fallback, unknown)
	}
	if got, want := byCode["fire.building"].Plan.Units, []Requirement{{"fire_engine", 2, nil, nil}, {"ladder", 1, []string{"rescue"}, nil},
		{"ambulance", 1, []string{"first_aid"}, nil}, {"patrol", 1, nil, nil}}; !reflect.DeepEqual(got, want) {
		t.Errorf("fire.building plan %+v", got)
	}
	if got, want := byCode["flooding"].Plan, (Plan{Units: []Requirement{{"boat", 1, []string{"rescue"}, nil}, {"pump", 2, []string{"fire_engine"}, nil}, {"patrol", 1, nil, nil}},
		Materials: map[string]int{"sandbag": 200, "pump": 2, "life_jacket": 20}}); !reflect.DeepEqual(got, want) {
		t.Errorf("flooding plan %+v", got)
	}
	// Traffic accidents: a patrol car or a traffic unit, whichever is first;
	// the traffic unit still comes.
	if got, want := byCode["traffic.accident"].Plan.Units, []Requirement{{"traffic_control", 1, []string{"patrol"},
		&FirstResponse{Capabilities: []string{"patrol"}, MarginS: 180}}}; !reflect.DeepEqual(got, want) {
		t.Errorf("traffic.accident plan %+v", got)
	}
}

func TestDefaultScenarioIsAFreshCopy(t *testing.T) {
	a, b := mustDefault(t), mustDefault(t)
	a.Units[0].Capabilities[0] = "changed"
	a.Depots[0].Stock["sandbag"] = -1
	a.Types[0].Plan.Units[0].Count = 99
	a.ETA.Profiles["car"] = geo.SpeedProfile{}
	c := mustDefault(t)
	if !reflect.DeepEqual(b, c) {
		t.Fatal("mutating one copy changed another")
	}
}

// TestDefaultDeployment: the shape of the generated city.
func TestDefaultDeployment(t *testing.T) {
	sc := mustDefault(t)
	perTown := map[string]int{}
	perKind := map[string]int{}
	stations := map[string]teams.Station{}
	for _, s := range sc.Stations {
		stations[s.ID] = s
	}
	towns := map[string]geo.Town{}
	for _, tw := range sc.Towns {
		towns[tw.Code] = tw
	}
	boats := map[bool]float64{}
	pop := map[bool]float64{}
	for _, tw := range sc.Towns {
		pop[waterTowns[tw.Code]] += float64(tw.Population)
	}
	for _, u := range sc.Units {
		st := stations[u.Station]
		perTown[st.Town]++
		perKind[strings.SplitN(u.ID, "-", 2)[0]]++
		if u.Has("boat") {
			boats[waterTowns[st.Town]]++
		}
	}
	for _, tw := range sc.Towns {
		if perTown[tw.Code] == 0 {
			t.Errorf("town %s has no units", tw.Code)
		}
	}
	for k, n := range perKind {
		if k != "PAT" && n >= perKind["PAT"] {
			t.Errorf("%s (%d) outnumbers patrols (%d)", k, n, perKind["PAT"])
		}
	}
	if perKind["ENG"] <= perKind["LAD"] || perKind["AMB"] <= perKind["HAZ"] {
		t.Errorf("unit mix: %v", perKind)
	}
	if boats[true]/pop[true] < 2*boats[false]/pop[false] {
		t.Errorf("boats per resident: riverside %v, others %v; want them concentrated by the water",
			boats[true]/pop[true], boats[false]/pop[false])
	}
	// The most populous town has the most units.
	big := slices.MaxFunc(sc.Towns, func(a, b geo.Town) int { return a.Population - b.Population })
	for _, tw := range sc.Towns {
		if perTown[tw.Code] > perTown[big.Code] {
			t.Errorf("%s has %d units, more than the most populous %s (%d)", tw.Code, perTown[tw.Code], big.Code, perTown[big.Code])
		}
	}
	for _, s := range sc.Stations {
		if d := geo.DistanceM(s.Location, towns[s.Town].Center); d > 3100 {
			t.Errorf("station %s is %.0f m from the centre of %s", s.ID, d, s.Town)
		}
	}
	for _, d := range sc.Depots[1:] {
		if d.Stock["sandbag"] <= 0 || d.Stock["sandbag"] >= sc.Depots[0].Stock["sandbag"] {
			t.Errorf("depot %s sandbags %d, city reserve %d", d.ID, d.Stock["sandbag"], sc.Depots[0].Stock["sandbag"])
		}
	}
}

func TestGenerateScenarioSizes(t *testing.T) {
	sizes := []int{1, 10, 17, 99, 100, 101, 999, 1001, 12345, 100000}
	if testing.Short() {
		sizes = sizes[:len(sizes)-1]
	}
	for _, n := range sizes {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			sc, err := Generate(GenConfig{Units: n, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			if len(sc.Units) != n {
				t.Fatalf("%d units, want %d", len(sc.Units), n)
			}
			if err := sc.Validate(); err != nil {
				t.Fatal(err)
			}
			if n >= 100 {
				if w := sc.Warnings(); len(w) != 0 {
					t.Fatalf("from 100 units on every capability is held:\n%s", strings.Join(w, "\n"))
				}
			}
		})
	}
}

func TestGenerateScenarioDeterministic(t *testing.T) {
	for _, seed := range []int64{1, 2, 99} {
		a, err := Generate(GenConfig{Units: 3000, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Generate(GenConfig{Units: 3000, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("seed %d: two runs differ", seed)
		}
	}
	a, _ := Generate(GenConfig{Units: 3000, Seed: 1})
	b, _ := Generate(GenConfig{Units: 3000, Seed: 2})
	if reflect.DeepEqual(a.Stations, b.Stations) {
		t.Fatal("seeds 1 and 2 placed the stations identically")
	}
	def, _ := Generate(GenConfig{})
	if !reflect.DeepEqual(def, mustDefault(t)) {
		t.Fatal("the default scenario is not Generate with defaults")
	}
}

func TestGenerateScenarioCustomTowns(t *testing.T) {
	towns := []geo.Town{
		{Code: "a", NameEN: "A", Kind: "town", Center: geo.Point{Lat: 30, Lng: 120}, Population: 1000},
		{Code: "b", NameEN: "B", Kind: "urban district", Center: geo.Point{Lat: 30.1, Lng: 120.1}, Population: 3000},
	}
	sc, err := Generate(GenConfig{Units: 500, Towns: towns})
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Units) != 500 || len(sc.Towns) != 2 || len(sc.Depots) != 3 || sc.Depots[0].Town != "b" {
		t.Fatalf("units=%d towns=%d depots=%d city depot in %q", len(sc.Units), len(sc.Towns), len(sc.Depots), sc.Depots[0].Town)
	}
	towns[0].Code = "changed"
	if sc.Towns[0].Code != "a" {
		t.Fatal("the scenario shares the caller's towns slice")
	}
	for name, cfg := range map[string]GenConfig{
		"negative units": {Units: -1},
		"no towns":       {Towns: []geo.Town{}},
		"duplicate town": {Towns: []geo.Town{towns[1], towns[1]}},
		"bad centre":     {Towns: []geo.Town{{Code: "x", Center: geo.Point{Lat: 100}}}},
	} {
		if _, err := Generate(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestApportion(t *testing.T) {
	tests := []struct {
		n       int
		weights []float64
		want    []int
	}{
		{10, []float64{1, 1}, []int{5, 5}},
		{3, []float64{1, 1}, []int{2, 1}},
		{7, []float64{5, 0, 2}, []int{5, 0, 2}},
		{0, []float64{1, 2}, []int{0, 0}},
		{100, []float64{0.44, 0.56}, []int{44, 56}},
		{1, []float64{0.2, 0.5, 0.3}, []int{0, 1, 0}},
	}
	for _, tt := range tests {
		if got := apportion(tt.n, tt.weights); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("apportion(%d, %v) = %v, want %v", tt.n, tt.weights, got, tt.want)
		}
	}
}

// BenchmarkGenerateScenario: go test ./dispatch -run '^$' -bench Generate
func BenchmarkGenerateScenario(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("units=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Generate(GenConfig{Units: n}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDefaultScenario: parsing the embedded default and copying it.
func BenchmarkDefaultScenario(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Default(); err != nil {
			b.Fatal(err)
		}
	}
}
