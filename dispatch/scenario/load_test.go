package scenario

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

const smallScenarioPath = "../../testdata/scenario-small.yaml"

func loadSmall(t testing.TB) *Scenario {
	t.Helper()
	sc, err := Load(smallScenarioPath)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestLoadSmallScenario(t *testing.T) {
	sc := loadSmall(t)
	if sc.Name != "small" || len(sc.Towns) != 2 || len(sc.Teams) != 3 || len(sc.Units) != 6 || len(sc.Depots) != 2 || len(sc.Types) != 5 {
		t.Fatalf("unexpected shape: %s towns=%d teams=%d units=%d depots=%d types=%d",
			sc.Name, len(sc.Towns), len(sc.Teams), len(sc.Units), len(sc.Depots), len(sc.Types))
	}
	if got := sc.ETA.Profiles["car"].Hourly[17]; got != 0.6 {
		t.Fatalf("car hourly[17] = %v, want 0.6", got)
	}
	if sc.Targets != [4]float64{600, 900, 1800, 3600} {
		t.Fatalf("targets %v", sc.Targets)
	}
	// The small scenario is not 1+10+2, and Validate does not ask it to be.
	if err := sc.CheckOnePlusTenPlusTwo(); !errors.Is(err, ErrInvalid) {
		t.Fatalf("CheckOnePlusTenPlusTwo = %v, want ErrInvalid", err)
	}
	// "ambulance" is held by nobody: a warning, not an error.
	w := sc.Warnings()
	if len(w) != 1 || !strings.Contains(w[0], `incident_types[2].plan.units[0].capability: no unit has "ambulance" (substitutes held: first_aid)`) {
		t.Fatalf("warnings = %q", w)
	}
}

// TestValidateTable: each kind of bad field gives an error naming the file,
// the field path and the reason, and wrapping ErrInvalid.
func TestValidateTable(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(sc *Scenario)
		want   []string
	}{
		{"duplicate town", func(sc *Scenario) { sc.Towns[1].Code = "shiqi" }, []string{`towns[1].code: invalid scenario: duplicate id "shiqi"`}},
		{"empty town code", func(sc *Scenario) { sc.Towns[0].Code = "" }, []string{`towns[0].code: invalid scenario: empty id`}},
		{"no towns", func(sc *Scenario) { sc.Towns = nil }, []string{`towns: invalid scenario: no towns`}},
		{"lat out of range", func(sc *Scenario) { sc.Towns[0].Center.Lat = 91 }, []string{`towns[0].center: invalid scenario: invalid coordinates: lat 91 out of range`}},
		{"lng out of range", func(sc *Scenario) { sc.Stations[1].Location.Lng = -181 }, []string{`stations[1].location: invalid scenario: invalid coordinates: lng -181 out of range`}},
		{"lat not finite", func(sc *Scenario) { sc.Depots[0].Location.Lat = math.NaN() }, []string{`depots[0].location: invalid scenario: invalid coordinates: not finite`}},
		{"negative population", func(sc *Scenario) { sc.Towns[1].Population = -5 }, []string{`towns[1].population: invalid scenario: negative population -5`}},
		{"duplicate team", func(sc *Scenario) { sc.Teams[2].ID = "police" }, []string{`teams[2].id: invalid scenario: duplicate id "police"`}},
		{"team kind", func(sc *Scenario) { sc.Teams[1].Kind = "auxiliary" }, []string{`teams[1].kind: invalid scenario: unknown kind "auxiliary"`}},
		{"activation delay", func(sc *Scenario) { sc.Teams[2].ActivationDelayS = -1 }, []string{`teams[2].activation_delay_s: invalid scenario: must be a non-negative number`}},
		{"duplicate station", func(sc *Scenario) { sc.Stations[1].ID = "POLICE-SHIQI" }, []string{`stations[1].id: invalid scenario: duplicate id "POLICE-SHIQI"`}},
		{"station town", func(sc *Scenario) { sc.Stations[0].Town = "atlantis" }, []string{`stations[0].town: invalid scenario: unknown town "atlantis"`}},
		{"duplicate unit", func(sc *Scenario) { sc.Units[2].ID = "PAT-SHIQI-01" }, []string{`units[2].id: invalid scenario: duplicate id "PAT-SHIQI-01"`}},
		{"unit team", func(sc *Scenario) { sc.Units[3].Team = "fire2" }, []string{`units[3].team: invalid scenario: unknown team "fire2"`}},
		{"unit station", func(sc *Scenario) { sc.Units[1].Station = "NOWHERE" }, []string{`units[1].station: invalid scenario: unknown station "NOWHERE"`}},
		{"unit profile", func(sc *Scenario) { sc.Units[1].Profile = "helicopter" }, []string{`units[1].profile: invalid scenario: unknown speed profile "helicopter"`}},
		{"unit no capabilities", func(sc *Scenario) { sc.Units[0].Capabilities = nil }, []string{`units[0].capabilities: invalid scenario: a unit needs at least one capability`}},
		{"unit empty capability", func(sc *Scenario) { sc.Units[4].Capabilities[1] = "" }, []string{`units[4].capabilities[1]: invalid scenario: empty capability`}},
		{"unit crew", func(sc *Scenario) { sc.Units[0].Crew = -1 }, []string{`units[0].crew: invalid scenario: negative crew -1`}},
		{"duplicate item", func(sc *Scenario) { sc.Items[1].Code = "sandbag" }, []string{`items[1].code: invalid scenario: duplicate id "sandbag"`}},
		{"duplicate depot", func(sc *Scenario) { sc.Depots[1].ID = "DEP-CITY" }, []string{`depots[1].id: invalid scenario: duplicate id "DEP-CITY"`}},
		{"depot town", func(sc *Scenario) { sc.Depots[1].Town = "macau" }, []string{`depots[1].town: invalid scenario: unknown town "macau"`}},
		{"depot unknown item", func(sc *Scenario) { sc.Depots[0].Stock["gold"] = 1 }, []string{`depots[0].stock.gold: invalid scenario: unknown item "gold"`}},
		{"depot negative stock", func(sc *Scenario) { sc.Depots[1].Stock["sandbag"] = -3 }, []string{`depots[1].stock.sandbag: invalid scenario: negative quantity -3`}},
		{"depot prep", func(sc *Scenario) { sc.Depots[0].PrepS = math.Inf(1) }, []string{`depots[0].prep_s: invalid scenario: must be a non-negative number`}},
		{"no profiles", func(sc *Scenario) { sc.ETA.Profiles = nil }, []string{`eta.profiles: invalid scenario: no speed profiles`, `units[0].profile: invalid scenario: unknown speed profile "car"`}},
		{"speed zero", func(sc *Scenario) { sc.ETA.Profiles["foot"] = geo.SpeedProfile{} }, []string{`eta.profiles.foot.speed_kmh: invalid scenario: must be positive, got 0`}},
		{"hourly negative", func(sc *Scenario) {
			p := sc.ETA.Profiles["car"]
			p.Hourly[3] = -1
			sc.ETA.Profiles["car"] = p
		}, []string{`eta.profiles.car.hourly[3]: invalid scenario: must be a non-negative number, got -1`}},
		{"detour", func(sc *Scenario) { sc.ETA.DetourFactor = 0.5 }, []string{`eta.detour_factor: invalid scenario: must be at least 1, got 0.5`}},
		{"time zone", func(sc *Scenario) { sc.ETA.Location = "Mars/Olympus" }, []string{`eta.location: invalid scenario: unknown time zone "Mars/Olympus"`}},
		{"duplicate type", func(sc *Scenario) { sc.Types[1].Code = "theft" }, []string{`incident_types[1].code: invalid scenario: duplicate id "theft"`}},
		{"priority low", func(sc *Scenario) { sc.Types[0].Priority = 0 }, []string{`incident_types[0].priority: invalid scenario: must be 1-4, got 0`}},
		{"priority high", func(sc *Scenario) { sc.Types[3].Priority = 5 }, []string{`incident_types[3].priority: invalid scenario: must be 1-4, got 5`}},
		{"service", func(sc *Scenario) { sc.Types[0].ServiceS = -60 }, []string{`incident_types[0].service_s: invalid scenario: must be a non-negative number, got -60`}},
		{"family", func(sc *Scenario) { sc.Types[0].Family = "" }, []string{`incident_types[0].family: invalid scenario: empty family`}},
		{"empty plan", func(sc *Scenario) { sc.Types[0].Plan = Plan{} }, []string{`incident_types[0].plan: invalid scenario: the plan asks for no units and no materials`}},
		{"plan count", func(sc *Scenario) { sc.Types[1].Plan.Units[0].Count = 0 }, []string{`incident_types[1].plan.units[0].count: invalid scenario: must be at least 1, got 0`}},
		{"plan capability", func(sc *Scenario) { sc.Types[1].Plan.Units[1].Capability = "" }, []string{`incident_types[1].plan.units[1].capability: invalid scenario: empty capability`}},
		{"plan substitute", func(sc *Scenario) { sc.Types[1].Plan.Units[1].Substitutes = []string{"special_police"} }, []string{`incident_types[1].plan.units[1].substitutes[0]: invalid scenario: substitute "special_police" must be another, non-empty capability`}},
		{"first no capability", func(sc *Scenario) { sc.Types[1].Plan.Units[1].First = &FirstResponse{MarginS: 60} }, []string{`incident_types[1].plan.units[1].first.capabilities: invalid scenario: no first responder capability`}},
		{"first same capability", func(sc *Scenario) {
			sc.Types[1].Plan.Units[1].First = &FirstResponse{Capabilities: []string{"patrol", "special_police"}}
		}, []string{`incident_types[1].plan.units[1].first.capabilities[1]: invalid scenario: first responder "special_police" must be another, non-empty capability`}},
		{"first empty capability", func(sc *Scenario) { sc.Types[0].Plan.Units[0].First = &FirstResponse{Capabilities: []string{""}} }, []string{`incident_types[0].plan.units[0].first.capabilities[0]: invalid scenario: first responder "" must be another, non-empty capability`}},
		{"first duplicate", func(sc *Scenario) {
			sc.Types[2].Plan.Units[0].First = &FirstResponse{Capabilities: []string{"patrol", "first_aid", "patrol"}}
		}, []string{`incident_types[2].plan.units[0].first.capabilities[2]: invalid scenario: duplicate first responder "patrol"`}},
		{"first margin", func(sc *Scenario) {
			sc.Types[2].Plan.Units[0].First = &FirstResponse{Capabilities: []string{"patrol"}, MarginS: -1}
		}, []string{`incident_types[2].plan.units[0].first.margin_s: invalid scenario: must be a non-negative number, got -1`}},
		{"first margin not finite", func(sc *Scenario) {
			sc.Types[2].Plan.Units[0].First = &FirstResponse{Capabilities: []string{"patrol"}, MarginS: math.NaN()}
		}, []string{`incident_types[2].plan.units[0].first.margin_s: invalid scenario: must be a non-negative number, got NaN`}},
		{"plan material", func(sc *Scenario) { sc.Types[2].Plan.Materials["defibrillator"] = 1 }, []string{`incident_types[2].plan.materials.defibrillator: invalid scenario: unknown item "defibrillator"`}},
		{"plan material quantity", func(sc *Scenario) { sc.Types[3].Plan.Materials["sandbag"] = -1 }, []string{`incident_types[3].plan.materials.sandbag: invalid scenario: negative quantity -1`}},
		{"fallback", func(sc *Scenario) { sc.Fallback = "other" }, []string{`fallback_type: invalid scenario: fallback type "other" is not in the catalogue`}},
		{"target", func(sc *Scenario) { sc.Targets[2] = 0 }, []string{`targets_s[2]: invalid scenario: the P3 response target must be positive, got 0`}},
		{"matrix unknown town", func(sc *Scenario) {
			sc.TravelMatrix = &geo.MatrixConfig{Entries: []geo.MatrixEntry{{From: "shiqi", To: "atlantis", Seconds: 60}}}
		}, []string{`travel_matrix: invalid scenario: entries[0]: "shiqi" or "atlantis" is neither an H3 cell nor a town`}},
		{"matrix seconds", func(sc *Scenario) {
			sc.TravelMatrix = &geo.MatrixConfig{Entries: []geo.MatrixEntry{{From: "shiqi", To: "xiaolan", Seconds: 60}, {From: "shiqi", To: "xiaolan", Seconds: -1}}}
		}, []string{`travel_matrix: invalid scenario: entries[1].seconds: must be positive, got -1`}},
		{"matrix band", func(sc *Scenario) {
			sc.TravelMatrix = &geo.MatrixConfig{Entries: []geo.MatrixEntry{{From: "shiqi", To: "xiaolan", Band: "lunch", Seconds: 60}}}
		}, []string{`travel_matrix: invalid scenario: entries[0].band: unknown band "lunch"`}},
		{"all problems at once", func(sc *Scenario) {
			sc.Units[0].Team = "fire2"
			sc.Units[5].Station = "X"
			sc.Targets[0] = -1
		}, []string{`units[0].team: invalid scenario: unknown team "fire2"`, `units[5].station: invalid scenario: unknown station "X"`, `targets_s[0]: invalid scenario: the P1 response target must be positive, got -1`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := loadSmall(t)
			tt.mutate(sc)
			// Through the public path: YAML bytes (NaN and Inf survive it).
			data, err := yaml.Marshal(sc)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse("small.yaml", data)
			if err == nil {
				t.Fatal("Parse accepted a bad scenario")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), "small.yaml: "+w) {
					t.Errorf("error lacks %q:\n%v", "small.yaml: "+w, err)
				}
			}
			if n := len(strings.Split(err.Error(), "\n")); n < len(tt.want) {
				t.Errorf("%d problems reported, want at least %d", n, len(tt.want))
			}
			// Validate names the scenario instead of a file.
			if err := sc.Validate(); err == nil || !strings.HasPrefix(err.Error(), "small: ") {
				t.Errorf("Validate = %v, want an error starting with the scenario name", err)
			}
		})
	}
}

func TestValidateAllowsUnheldCapability(t *testing.T) {
	sc := loadSmall(t)
	sc.Types[0].Plan.Units = []Requirement{{Capability: "helicopter", Count: 1}}
	if err := sc.Validate(); err != nil {
		t.Fatalf("a capability nobody holds must be allowed: %v", err)
	}
	w := sc.Warnings()
	if len(w) != 2 || !strings.Contains(w[0], `incident_types[0].plan.units[0].capability: no unit has "helicopter" and no substitute is held`) {
		t.Fatalf("warnings = %q", w)
	}
}

// TestFirstResponseSchema: the first responders of a requirement read the
// same from JSON and YAML, are absent from the JSON when not set, and a
// capability only reserves hold is a warning (first responders are never
// reserves).
func TestFirstResponseSchema(t *testing.T) {
	js := `{"capability":"traffic_control","count":1,"substitutes":["patrol"],"first":{"capabilities":["patrol"],"margin_s":180}}`
	ym := "{capability: traffic_control, count: 1, substitutes: [patrol], first: {capabilities: [patrol], margin_s: 180}}"
	want := Requirement{Capability: "traffic_control", Count: 1, Substitutes: []string{"patrol"},
		First: &FirstResponse{Capabilities: []string{"patrol"}, MarginS: 180}}
	var a, b Requirement
	if err := json.Unmarshal([]byte(js), &a); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(ym), &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, want) || !reflect.DeepEqual(b, want) {
		t.Fatalf("json %+v, yaml %+v, want %+v", a, b, want)
	}
	if out, _ := json.Marshal(a); string(out) != js {
		t.Fatalf("round trip %s", out)
	}
	if out, _ := json.Marshal(Requirement{Capability: "patrol", Count: 1}); string(out) != `{"capability":"patrol","count":1}` {
		t.Fatalf("no first responders: %s", out)
	}
	sc := loadSmall(t)
	sc.Types[2].Plan.Units[0].First = &FirstResponse{Capabilities: []string{"patrol", "labour"}, MarginS: 240}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	w := sc.Warnings()
	if !slices.Contains(w, `incident_types[2].plan.units[0].first.capabilities[1]: no professional unit has "labour" (first responders are never reserves)`) ||
		slices.ContainsFunc(w, func(s string) bool { return strings.Contains(s, "first.capabilities[0]") }) {
		t.Fatalf("warnings = %q", w)
	}
}

func TestParseScenarioDecodeErrors(t *testing.T) {
	small, err := os.ReadFile(smallScenarioPath)
	if err != nil {
		t.Fatal(err)
	}
	sc := loadSmall(t)
	js, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file string
		data       string
		want       string
	}{
		{"yaml unknown field", "a.yaml", string(small) + "\nbogus: 1\n", "field bogus not found"},
		{"yaml unknown nested field", "a.yml", strings.Replace(string(small), "crew: 4}", "crew: 4, colour: red}", 1), "field colour not found"},
		{"yaml two documents", "a.yaml", string(small) + "\n---\nname: x\n", "more than one YAML document"},
		{"yaml empty", "a.yaml", "", "empty document"},
		{"yaml wrong type", "a.yaml", "towns: 3\n", "cannot unmarshal"},
		{"json unknown field", "a.json", strings.Replace(string(js), `"name":"small"`, `"name":"small","bogus":1`, 1), `unknown field "bogus"`},
		{"json trailing data", "a.json", string(js) + ` {}`, "data after the scenario"},
		{"json syntax", "a.json", `{"name":`, "unexpected EOF"},
		{"json with yaml extension absent, sniffed", "scenario", strings.Replace(string(js), `"name":"small"`, `"name":"small","bogus":1`, 1), `unknown field "bogus"`},
		{"targets too long", "a.json", strings.Replace(string(js), `[600,900,1800,3600]`, `[600,900,1800,3600,7200]`, 1), "targets_s: want 4 elements but got 5"},
		{"targets too short", "a.json", strings.Replace(string(js), `[600,900,1800,3600]`, `[600,900]`, 1), "targets_s: want 4 elements but got 2"},
		{"hourly too short", "a.json", strings.Replace(string(js), `"hourly":[1.2,`, `"hourly":[`, 1), "eta.profiles.car.hourly: want 24 elements but got 23"},
		{"yaml targets too long", "a.yaml", strings.Replace(string(small), `[600, 900, 1800, 3600]`, `[600, 900, 1800, 3600, 1]`, 1), "want 4 elements but got 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.file, []byte(tt.data))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), tt.file+": ") {
				t.Fatalf("error %q must start with the file name and wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q lacks %q", err, tt.want)
			}
		})
	}
}

// TestLoadScenarioSniffsFormat: a file without a known extension is JSON if
// it starts with '{', else YAML.
func TestLoadScenarioSniffsFormat(t *testing.T) {
	want := loadSmall(t)
	js, err := json.MarshalIndent(want, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	small, err := os.ReadFile(smallScenarioPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, data := range map[string][]byte{"s.json": js, "s-json.txt": append([]byte("\n  "), js...), "s-yaml.txt": small, "s.yml": small, "s": small} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := Load(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: loaded scenario differs", name)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// TestScenarioRoundTrip: the default marshalled to JSON and YAML parses back
// to the same value.
func TestScenarioRoundTrip(t *testing.T) {
	for _, sc := range []*Scenario{mustDefault(t), loadSmall(t)} {
		js, err := json.Marshal(sc)
		if err != nil {
			t.Fatal(err)
		}
		ym, err := yaml.Marshal(sc)
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string][]byte{sc.Name + ".json": js, sc.Name + ".yaml": ym} {
			got, err := Parse(name, data)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !reflect.DeepEqual(got, sc) {
				t.Fatalf("%s: round trip changed the scenario", name)
			}
		}
	}
}

func TestCheckOnePlusTenPlusTwo(t *testing.T) {
	sc := mustDefault(t)
	if err := sc.CheckOnePlusTenPlusTwo(); err != nil {
		t.Fatal(err)
	}
	sc.Teams = append(sc.Teams, teams.Team{ID: "extra", Kind: teams.KindCommand})
	err := sc.CheckOnePlusTenPlusTwo()
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "2 command + 10 professional + 2 reserve") {
		t.Fatalf("got %v", err)
	}
	if err := sc.Validate(); err != nil {
		t.Fatalf("Validate must not enforce 1+10+2: %v", err)
	}
}

func FuzzParseScenario(f *testing.F) {
	small, err := os.ReadFile(smallScenarioPath)
	if err != nil {
		f.Fatal(err)
	}
	var sc Scenario
	if err := yaml.Unmarshal(small, &sc); err != nil {
		f.Fatal(err)
	}
	js, err := json.Marshal(&sc)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("s.yaml", small)
	f.Add("s.json", js)
	f.Add("s", js)
	f.Add("s", small)
	f.Add("s.yaml", []byte("a: &a [*a, *a]\n"))
	f.Add("s.yaml", []byte("targets_s: [1, 2, 3, 4, 5]\n"))
	f.Add("s.json", []byte(`{"towns":[{"center":{"lat":1e999}}]}`))
	f.Add("s.yaml", append(append([]byte(nil), small...), []byte(travelMatrixYAML)...))
	f.Add("s.yaml", []byte("travel_matrix: {entries: [{from: 88411dc43dfffff, to: shiqi, seconds: 1e999}]}\n"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		sc, err := Parse(name, data)
		if err != nil {
			if sc != nil {
				t.Fatal("a scenario returned with an error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		// Whatever parses is valid and survives a JSON round trip.
		if err := sc.validate(name); err != nil {
			t.Fatalf("parsed but invalid: %v", err)
		}
		b, err := json.Marshal(sc)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		if _, err := Parse("again.json", b); err != nil {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// travelMatrixYAML is a travel matrix for the small scenario: town pairs,
// one by band, and a cell pair.
const travelMatrixYAML = `
travel_matrix:
  entries:
    - {from: shiqi, to: xiaolan, seconds: 1500}
    - {from: shiqi, to: xiaolan, band: evening_rush, seconds: 2400}
    - {from: 88411dc43dfffff, to: 88411d19d1fffff, band: day, seconds: 240}
`

// TestLoadTravelMatrix: a scenario's travel matrix loads, in YAML and JSON,
// and the engine's travel rule can be built from it.
func TestLoadTravelMatrix(t *testing.T) {
	small, err := os.ReadFile(smallScenarioPath)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := Parse("s.yaml", append(small, []byte(travelMatrixYAML)...))
	if err != nil {
		t.Fatal(err)
	}
	if sc.TravelMatrix == nil || len(sc.TravelMatrix.Entries) != 3 || sc.TravelMatrix.Entries[1].Band != "evening_rush" {
		t.Fatalf("matrix %+v", sc.TravelMatrix)
	}
	js, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse("s.json", js)
	if err != nil || !reflect.DeepEqual(again.TravelMatrix, sc.TravelMatrix) {
		t.Fatalf("through JSON: %+v %v", again.TravelMatrix, err)
	}
	towns, err := geo.NewTowns(sc.Towns, 0)
	if err != nil {
		t.Fatal(err)
	}
	m, err := geo.NewMatrix(*sc.TravelMatrix, towns)
	if err != nil || m.Len() != 5+1 {
		t.Fatalf("matrix of %v entries, err %v", m.Len(), err)
	}
}
