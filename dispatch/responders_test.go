package dispatch

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

// lineAt is the incident of the line city.
var lineAt = geo.Point{Lat: 22.5, Lng: 113.3}

// lineUnit is a unit of the line city, distM metres east of the incident.
type lineUnit struct {
	id, team string
	caps     []string
	distM    float64
}

// lineCity is a one-town city where every unit has its own station east of
// the incident, cars at 36 km/h (10 m/s) without detour: a unit d metres
// away is about d/10 seconds away. The militia reserve has a 30-minute
// activation delay. Targets P1-P4: 600, 900, 1800, 3600 s.
func lineCity(units ...lineUnit) *scenario.Scenario {
	sc := &scenario.Scenario{
		Towns: []geo.Town{{Code: "t", Center: lineAt}},
		Teams: []teams.Team{{ID: "police", Kind: teams.KindProfessional}, {ID: "traffic", Kind: teams.KindProfessional},
			{ID: "militia", Kind: teams.KindReserve, ActivationDelayS: 1800}},
		ETA:     geo.ETAConfig{DetourFactor: 1, Profiles: map[string]geo.SpeedProfile{"car": {SpeedKmh: 36}}},
		Targets: [4]float64{600, 900, 1800, 3600},
	}
	for _, u := range units {
		p := geo.Point{Lat: lineAt.Lat, Lng: lineAt.Lng + u.distM/(111320*math.Cos(lineAt.Lat*math.Pi/180))}
		sc.Stations = append(sc.Stations, teams.Station{ID: "S-" + u.id, Town: "t", Location: p})
		sc.Units = append(sc.Units, teams.Unit{ID: u.id, Team: u.team, Capabilities: u.caps, Station: "S-" + u.id, Profile: "car"})
	}
	return sc
}

func patrol(id string, d float64) lineUnit { return lineUnit{id, "police", []string{"patrol"}, d} }
func traffic(id string, d float64) lineUnit {
	return lineUnit{id, "traffic", []string{"traffic_control"}, d}
}
func militia(id string, d float64) lineUnit {
	return lineUnit{id, "militia", []string{"labour", "rescue", "patrol"}, d}
}

// trafficPlan: a traffic unit (or a patrol) with a patrol first responder.
func trafficPlan(marginS float64) scenario.Plan {
	return scenario.Plan{Units: []scenario.Requirement{{Capability: "traffic_control", Count: 1, Substitutes: []string{"patrol"},
		First: &scenario.FirstResponse{Capabilities: []string{"patrol"}, MarginS: marginS}}}}
}

func patrolPlan() scenario.Plan {
	return scenario.Plan{Units: []scenario.Requirement{{Capability: "patrol", Count: 1}}}
}

// pickCode is a pick as the tables write it: the unit id, + for a first
// responder, * for a reserve.
func pickCode(p UnitPick) string {
	g := p.UnitID
	if p.FirstResponder {
		g += "+"
	}
	if p.Reserve {
		g += "*"
	}
	return g
}

// TestResponders: the responders policy's first responders and its
// reserve rule, against closest, in the line city. Each case gives the
// picks expected (unit id, + for a first responder, * for a reserve) and
// the unit shortfalls.
func TestResponders(t *testing.T) {
	type busyUnit struct {
		id     string
		afterS float64 // expected free after this, at the incident
	}
	tests := []struct {
		name     string
		units    []lineUnit
		out      []string // out of service
		busy     []busyUnit
		plan     scenario.Plan
		priority int
		policy   string
		want     []string
		short    int
		reason   string // in the first responder's reasons
	}{
		{"first responder ahead by more than the margin", []lineUnit{traffic("TRF", 9000), patrol("PAT", 1000)}, nil, nil,
			trafficPlan(180), 3, PolicyResponders, []string{"TRF", "PAT+"}, 0, "first responder: 13m19s ahead of the first traffic_control unit (ETA 14m59s)"},
		{"closest ignores first responders", []lineUnit{traffic("TRF", 9000), patrol("PAT", 1000)}, nil, nil,
			trafficPlan(180), 3, PolicyClosest, []string{"TRF"}, 0, ""},
		{"within the margin: no first responder", []lineUnit{traffic("TRF", 2500), patrol("PAT", 1000)}, nil, nil,
			trafficPlan(180), 3, PolicyResponders, []string{"TRF"}, 0, ""},
		{"the primary would miss the target: ahead by less than the margin", []lineUnit{traffic("TRF", 7000), patrol("PAT", 6000)}, nil, nil,
			trafficPlan(180), 1, PolicyResponders, []string{"TRF", "PAT+"}, 0, "which misses the P1 target of 10m0s"},
		{"nothing would come sooner", []lineUnit{traffic("TRF", 7000), patrol("PAT", 8000)}, nil, nil,
			trafficPlan(180), 1, PolicyResponders, []string{"TRF"}, 0, ""},
		{"no primary and no substitute: the first responder goes, the requirement is short",
			[]lineUnit{traffic("TRF", 2000), patrol("PAT", 1000)}, []string{"TRF"}, nil,
			scenario.Plan{Units: []scenario.Requirement{{Capability: "traffic_control", Count: 1,
				First: &scenario.FirstResponse{Capabilities: []string{"patrol"}}}}},
			3, PolicyResponders, []string{"PAT+"}, 1, "no traffic_control unit can come now"},
		{"a unit picked for the plan is already ahead", []lineUnit{traffic("TRF", 9000), patrol("PAT1", 1000), patrol("PAT2", 1100)}, nil, nil,
			scenario.Plan{Units: append(trafficPlan(180).Units, scenario.Requirement{Capability: "patrol", Count: 1})},
			3, PolicyResponders, []string{"TRF", "PAT1"}, 0, ""},
		{"two requirements, one first responder", []lineUnit{traffic("TRF", 9000), patrol("PAT1", 1000), patrol("PAT2", 1100), lineUnit{"AMB", "police", []string{"ambulance"}, 8000}}, nil, nil,
			scenario.Plan{Units: append(trafficPlan(180).Units, scenario.Requirement{Capability: "ambulance", Count: 1,
				First: &scenario.FirstResponse{Capabilities: []string{"patrol"}, MarginS: 60}})},
			1, PolicyResponders, []string{"TRF", "PAT1+", "AMB"}, 0, ""},
		{"closest: a late professional loses to the reserve", []lineUnit{patrol("PAT", 25000), militia("MIL", 100)}, nil, nil,
			patrolPlan(), 1, PolicyClosest, []string{"MIL*"}, 0, ""},
		{"responders: a reserve that beats every professional is called", []lineUnit{patrol("PAT", 25000), militia("MIL", 100)}, nil, nil,
			patrolPlan(), 1, PolicyResponders, []string{"MIL*"}, 0, ""},
		{"closest: a reserve for a late traffic unit", []lineUnit{traffic("TRF", 25000), patrol("PAT", 1000), militia("MIL", 100)}, nil, nil,
			trafficPlan(180), 1, PolicyClosest, []string{"MIL*"}, 0, ""},
		{"responders: a first responder in time spares the reserve", []lineUnit{traffic("TRF", 25000), patrol("PAT", 1000), militia("MIL", 100)}, nil, nil,
			trafficPlan(180), 1, PolicyResponders, []string{"TRF", "PAT+"}, 0, ""},
		{"closest: a reserve although a busy patrol is free sooner", []lineUnit{patrol("PAT1", 25000), patrol("PAT2", 500), militia("MIL", 100)}, nil,
			[]busyUnit{{"PAT2", 900}}, patrolPlan(), 1, PolicyClosest, []string{"MIL*"}, 0, ""},
		{"responders: a busy patrol free sooner spares the reserve; the late one goes", []lineUnit{patrol("PAT1", 25000), patrol("PAT2", 500), militia("MIL", 100)}, nil,
			[]busyUnit{{"PAT2", 900}}, patrolPlan(), 1, PolicyResponders, []string{"PAT1"}, 0, ""},
		{"responders: a busy patrol free later than the reserve does not", []lineUnit{patrol("PAT1", 25000), patrol("PAT2", 500), militia("MIL", 100)}, nil,
			[]busyUnit{{"PAT2", 2000}}, patrolPlan(), 1, PolicyResponders, []string{"MIL*"}, 0, ""},
		{"responders: none available, a busy one sooner: a shortfall for the queue", []lineUnit{patrol("PAT2", 500), militia("MIL", 100)}, nil,
			[]busyUnit{{"PAT2", 900}}, patrolPlan(), 1, PolicyResponders, nil, 1, ""},
		{"responders: none available, no estimate: the reserve", []lineUnit{patrol("PAT2", 500), militia("MIL", 100)}, nil,
			[]busyUnit{{"PAT2", -1}}, patrolPlan(), 1, PolicyResponders, []string{"MIL*"}, 0, ""},
		{"responders: a busy patrol within target covers a late one", []lineUnit{patrol("PAT1", 9000), patrol("PAT2", 500), militia("MIL", 100)}, nil,
			[]busyUnit{{"PAT2", 300}}, patrolPlan(), 1, PolicyResponders, []string{"PAT1"}, 0, ""},
		{"responders: two slots, the reserve takes the one it wins", []lineUnit{patrol("PAT1", 22000), patrol("PAT2", 500), patrol("PAT3", 30000), militia("MIL", 100)}, nil,
			[]busyUnit{{"PAT2", 900}}, scenario.Plan{Units: []scenario.Requirement{{Capability: "patrol", Count: 2}}},
			1, PolicyResponders, []string{"PAT1", "MIL*"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := NewState(lineCity(tt.units...), RankConfig{Policy: tt.policy})
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range tt.out {
				if _, err := st.setStatus(id, teams.StatusOutOfService, "", rankNow); err != nil {
					t.Fatal(err)
				}
			}
			for _, b := range tt.busy {
				if _, err := st.setStatus(b.id, teams.StatusDispatched, "X", rankNow); err != nil {
					t.Fatal(err)
				}
				if b.afterS >= 0 {
					st.expectFree(b.id, rankNow, b.afterS, lineAt)
				}
			}
			req := RankRequest{At: lineAt, Plan: tt.plan, Priority: tt.priority, Now: rankNow}
			rec := st.Rank(req)
			var got []string
			for _, p := range rec.Units {
				got = append(got, pickCode(p))
				if p.FirstResponder && !strings.Contains(strings.Join(p.Reasons, "; "), tt.reason) {
					t.Errorf("first responder reasons %q lack %q", p.Reasons, tt.reason)
				}
			}
			short := 0
			for _, s := range rec.Shortfalls {
				short += s.Missing
			}
			if !slices.Equal(got, tt.want) || short != tt.short {
				t.Fatalf("picks %v shortfall %d, want %v shortfall %d (%+v)", got, short, tt.want, tt.short, rec)
			}
			if brute := st.rankBrute(req); len(brute.Units) != len(rec.Units) {
				t.Fatalf("oracle differs: %+v", brute)
			}
		})
	}
}

// TestRespondersQueue: in a surge (other incidents wait for patrols) a
// busy patrol expected free soon no longer holds back the reserve: it will
// serve the queue first. A queue for another capability changes nothing.
func TestRespondersQueue(t *testing.T) {
	for _, tt := range []struct {
		name   string
		units  []lineUnit
		queued map[string]int
		want   string
	}{
		{"a late patrol and a busy one sooner, no queue: the late one", []lineUnit{patrol("PAT1", 25000), patrol("PAT2", 500), militia("MIL", 100)},
			nil, "PAT1"},
		{"the same with two incidents waiting for patrols: the reserve", []lineUnit{patrol("PAT1", 25000), patrol("PAT2", 500), militia("MIL", 100)},
			map[string]int{"patrol": 2}, "MIL*"},
		{"a queue for boats only: the late patrol", []lineUnit{patrol("PAT1", 25000), patrol("PAT2", 500), militia("MIL", 100)},
			map[string]int{"boat": 5}, "PAT1"},
		{"none available, the queue waits: the reserve, not a shortfall", []lineUnit{patrol("PAT2", 500), militia("MIL", 100)},
			map[string]int{"patrol": 1}, "MIL*"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, err := NewState(lineCity(tt.units...), RankConfig{Policy: PolicyResponders})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.setStatus("PAT2", teams.StatusDispatched, "X", rankNow); err != nil {
				t.Fatal(err)
			}
			st.expectFree("PAT2", rankNow, 900, lineAt)
			req := RankRequest{At: lineAt, Plan: patrolPlan(), Priority: 1, Now: rankNow}
			if tt.queued != nil {
				req.Backlog = func(c string) int { return tt.queued[c] }
			}
			rec := st.Rank(req)
			var got []string
			for _, p := range rec.Units {
				got = append(got, pickCode(p))
			}
			if !slices.Equal(got, []string{tt.want}) || len(rec.Shortfalls) != 0 {
				t.Fatalf("picks %v shortfalls %+v, want %s", got, rec.Shortfalls, tt.want)
			}
			if brute := st.rankBrute(req); !reflect.DeepEqual(brute, rec) {
				t.Fatalf("oracle differs: %+v", brute)
			}
		})
	}
}

// TestExpectedFree: an estimate lasts while the unit is busy, is replaced
// by the drive home when it returns, and is forgotten when it is back or
// out of service; reserves and available units get none.
func TestExpectedFree(t *testing.T) {
	st, err := NewState(lineCity(patrol("PAT", 3600), militia("MIL", 100)), RankConfig{})
	if err != nil {
		t.Fatal(err)
	}
	free := func(id string) (time.Time, geo.Point, bool) { return st.expectedFree(id) }
	st.expectFree("PAT", rankNow, 60, lineAt)
	if _, _, ok := free("PAT"); ok {
		t.Fatal("an available unit got an estimate")
	}
	for _, id := range []string{"PAT", "MIL"} {
		if _, err := st.setStatus(id, teams.StatusDispatched, "X", rankNow); err != nil {
			t.Fatal(err)
		}
		st.expectFree(id, rankNow, 600, lineAt)
	}
	if at, p, ok := free("PAT"); !ok || !at.Equal(rankNow.Add(600*time.Second)) || p != lineAt {
		t.Fatalf("dispatched: %v %v %v", at, p, ok)
	}
	if _, _, ok := free("MIL"); ok {
		t.Fatal("a reserve got an estimate")
	}
	for _, to := range []teams.Status{teams.StatusEnRoute, teams.StatusOnScene} {
		if _, err := st.setStatus("PAT", to, "X", rankNow); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.setPosition("PAT", lineAt, rankNow); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := free("PAT"); !ok {
		t.Fatal("the estimate was lost on the way")
	}
	back := rankNow.Add(time.Hour)
	if _, err := st.setStatus("PAT", teams.StatusReturning, "", back); err != nil {
		t.Fatal(err)
	}
	n, _ := st.Fleet().Number("PAT")
	home := st.Fleet().Record(n).Home()
	if at, p, ok := free("PAT"); !ok || math.Abs(at.Sub(back).Seconds()-360) > 2 || p != home || p == lineAt {
		t.Fatalf("returning: %v (%v after) %v %v, want home about 360 s after", at, at.Sub(back), p, ok)
	}
	if _, err := st.setStatus("PAT", teams.StatusAvailable, "", back); err != nil {
		t.Fatal(err)
	}
	indexed := 0
	for _, ix := range st.busyIx {
		indexed += ix.Len()
	}
	if _, _, ok := free("PAT"); ok || indexed != 0 {
		t.Fatalf("back available: estimate kept (%d indexed)", indexed)
	}
}

// TestClosestKeepsNoEstimates: closest never reads expected free times,
// so it keeps none.
func TestClosestKeepsNoEstimates(t *testing.T) {
	st, err := NewState(lineCity(patrol("PAT", 3600)), RankConfig{Policy: PolicyClosest})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.setStatus("PAT", teams.StatusDispatched, "X", rankNow); err != nil {
		t.Fatal(err)
	}
	st.expectFree("PAT", rankNow, 600, lineAt)
	if _, _, ok := st.expectedFree("PAT"); ok {
		t.Fatal("closest kept an estimate")
	}
}

func TestUnknownPolicy(t *testing.T) {
	if _, err := NewState(lineCity(patrol("PAT", 1)), RankConfig{Policy: "nearest"}); err == nil || !strings.Contains(err.Error(), `unknown policy "nearest"`) {
		t.Fatalf("err = %v", err)
	}
	st, err := NewState(lineCity(patrol("PAT", 1)), RankConfig{})
	if err != nil || st.cfg.Policy != DefaultPolicy {
		t.Fatalf("default policy %q, %v", st.cfg.Policy, err)
	}
}
