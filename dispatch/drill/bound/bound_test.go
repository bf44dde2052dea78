package bound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/drill"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

var cst = time.FixedZone("CST", 8*3600)

// t0 is 10:00 in Zhongshan: every speed multiplier of the test cities is 1.
var t0 = time.Date(2013, 3, 5, 10, 0, 0, 0, cst)

var centre = geo.Point{Lat: 22.5, Lng: 113.4}

// north returns the point d metres due north of p.
func north(p geo.Point, d float64) geo.Point {
	return geo.Point{Lat: p.Lat + d/(geo.EarthRadiusM*math.Pi/180), Lng: p.Lng}
}

// city is one urban town (P1 target 600 s, P2 900 s), cars at 36 km/h
// (10 m/s) without detour, stations north of the centre at the distances
// given, one patrol car per station (the last one a reserve when
// reserveDelayS > 0), and P1/P2/P3 types needing a patrol car, 600 s on
// scene. backstop cars wait 30 km south: never on time, they keep a
// replay from queueing.
func city(stationsM []float64, reserveDelayS float64, backstop int) *scenario.Scenario {
	sc := &scenario.Scenario{
		Name:  "test",
		Towns: []geo.Town{{Code: "t", NameEN: "Town", Kind: "urban district", Center: centre, Population: 1000}},
		Teams: []teams.Team{{ID: "police", Kind: teams.KindProfessional}, {ID: "militia", Kind: teams.KindReserve, ActivationDelayS: reserveDelayS}},
		ETA:   geo.ETAConfig{DetourFactor: 1, Profiles: map[string]geo.SpeedProfile{"car": {SpeedKmh: 36}}},
		Types: []scenario.IncidentType{
			{Code: "urgent", Family: "urgent", Priority: 1, ServiceS: 600, Plan: scenario.Plan{Units: []scenario.Requirement{{Capability: "patrol", Count: 1}}}},
			{Code: "assault", Family: "violence", Priority: 2, ServiceS: 600, Plan: scenario.Plan{Units: []scenario.Requirement{{Capability: "ambulance", Count: 1, Substitutes: []string{"patrol"}}}}},
			{Code: "theft", Family: "property", Priority: 3, ServiceS: 600, Plan: scenario.Plan{Units: []scenario.Requirement{{Capability: "patrol", Count: 1}}}},
		},
		Fallback: "theft",
		Targets:  [4]float64{600, 900, 1800, 3600},
	}
	for i, d := range stationsM {
		id := fmt.Sprintf("S%d", i)
		sc.Stations = append(sc.Stations, teams.Station{ID: id, Town: "t", Location: north(centre, d)})
		team := "police"
		if reserveDelayS > 0 && i == len(stationsM)-1 {
			team = "militia"
		}
		sc.Units = append(sc.Units, teams.Unit{ID: fmt.Sprintf("U%d", i), Team: team, Capabilities: []string{"patrol"}, Station: id, Profile: "car", Crew: 2})
	}
	if backstop > 0 {
		sc.Stations = append(sc.Stations, teams.Station{ID: "far", Town: "t", Location: north(centre, -30000)})
		for i := range backstop {
			sc.Units = append(sc.Units, teams.Unit{ID: fmt.Sprintf("F%d", i), Team: "police", Capabilities: []string{"patrol"}, Station: "far", Profile: "car", Crew: 2})
		}
	}
	return sc
}

func call(id, typ string, after time.Duration, d float64) dispatch.Incident {
	p := north(centre, d)
	return dispatch.Incident{ID: id, Type: typ, ReportedAt: t0.Add(after), Lat: p.Lat, Lng: p.Lng, HasLocation: true}
}

func build(t *testing.T, sc *scenario.Scenario, incs []dispatch.Incident, mod func(*Config)) *Instance {
	t.Helper()
	cfg := Config{Scenario: sc, From: t0, To: t0.Add(24 * time.Hour), ServiceSigma: -1}
	if mod != nil {
		mod(&cfg)
	}
	inst, err := Build(cfg, &drill.SliceSource{Incidents: incs})
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// TestBuildTimes: a candidate is timed as the drill times a unit: on scene
// at turnout + distance / speed (+ activation), back at the station after
// 600 s on scene and the drive back.
func TestBuildTimes(t *testing.T) {
	sc := city([]float64{0, 4000, 0}, 300, 0)
	inst := build(t, sc, []dispatch.Incident{call("A", "urgent", 0, 1000)}, nil)
	// U0: 60 + 100 = 160 s, back at 160 + 600 + 100 = 860 s. U1 (3 km
	// away): 60 + 300 = 360 s. U2, the reserve, at the centre: 60 + 100 +
	// 300 = 460 s.
	want := map[string][2]float64{"U0": {160, 860}, "U1": {360, 1260}, "U2": {460, 1160}}
	if len(inst.Cands) != 3 {
		t.Fatalf("%d candidates", len(inst.Cands))
	}
	for _, c := range inst.Cands {
		w := want[inst.Units[c.Unit]]
		end := float64(c.End-c.Start) / 1e9
		if math.Abs(c.ArriveS-w[0]) > 1e-6 || math.Abs(end-w[1]) > 1e-6 || c.Start != t0.UnixNano() {
			t.Errorf("%s: on scene %.3f s, back %.3f s, want %v", inst.Units[c.Unit], c.ArriveS, end, w)
		}
	}
}

func TestBuildCalls(t *testing.T) {
	sc := city([]float64{0}, 0, 0)
	noLoc := call("M", "urgent", time.Minute, 0)
	noLoc.HasLocation = false
	cases := []struct {
		name       string
		incs       []dispatch.Incident
		mod        func(*Config)
		calls      int
		dups, man  int
		candidates int
	}{
		{"in reach", []dispatch.Incident{call("A", "urgent", 0, 1000)}, nil, 1, 0, 0, 1},
		// 60 + 5,500 m / 10 = 610 s > 600 s: late whatever happens
		{"beyond reach", []dispatch.Incident{call("A", "urgent", 0, 5500)}, nil, 1, 0, 0, 0},
		// the P2 target is 900 s, and a patrol car substitutes for an ambulance
		{"P2 substitute", []dispatch.Incident{call("A", "assault", 0, 5500)}, nil, 1, 0, 0, 1},
		{"P3 left out", []dispatch.Incident{call("A", "theft", 0, 1000)}, nil, 0, 0, 0, 0},
		{"P3 asked for", []dispatch.Incident{call("A", "theft", 0, 1000)}, func(c *Config) { c.Priorities = []int{3} }, 1, 0, 0, 1},
		{"priority of the record", []dispatch.Incident{func() dispatch.Incident { i := call("A", "theft", 0, 1000); i.Priority = 1; return i }()}, nil, 1, 0, 0, 1},
		// a second caller 50 m away 2 minutes later, of the same family, even
		// after a P3 call: a duplicate; another family is a call of its own
		{"duplicate", []dispatch.Incident{call("A", "urgent", 0, 1000), call("B", "urgent", 2*time.Minute, 1050)}, nil, 1, 1, 0, 1},
		{"duplicate of a P3 call", []dispatch.Incident{call("A", "theft", 0, 1000), call("B", "theft", 2*time.Minute, 1050)},
			func(c *Config) { c.Priorities = []int{3} }, 1, 1, 0, 1},
		{"other family", []dispatch.Incident{call("A", "urgent", 0, 1000), call("B", "assault", 2*time.Minute, 1050)}, nil, 2, 0, 0, 2},
		{"too late to be a duplicate", []dispatch.Incident{call("A", "urgent", 0, 1000), call("B", "urgent", 11*time.Minute, 1050)}, nil, 2, 0, 0, 2},
		{"too far to be a duplicate", []dispatch.Incident{call("A", "urgent", 0, 1000), call("B", "urgent", 2*time.Minute, 1200)}, nil, 2, 0, 0, 2},
		// the call before the window still makes the one in it a duplicate
		{"duplicate across the start", []dispatch.Incident{call("A", "urgent", -time.Minute, 1000), call("B", "urgent", time.Minute, 1000)}, nil, 0, 1, 0, 0},
		{"manual", []dispatch.Incident{noLoc}, nil, 0, 0, 1, 0},
		{"after the window", []dispatch.Incident{call("A", "urgent", 25*time.Hour, 1000)}, nil, 0, 0, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inst := build(t, sc, c.incs, c.mod)
			if len(inst.Calls) != c.calls || inst.Duplicates != c.dups || inst.Manual != c.man || len(inst.Cands) != c.candidates {
				t.Errorf("%d calls, %d duplicates, %d manual, %d candidates; want %d, %d, %d, %d", len(inst.Calls), inst.Duplicates,
					inst.Manual, len(inst.Cands), c.calls, c.dups, c.man, c.candidates)
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	sc := city([]float64{0}, 0, 0)
	for name, cfg := range map[string]Config{
		"no scenario":  {From: t0, To: t0.Add(time.Hour)},
		"empty window": {Scenario: sc, From: t0, To: t0},
		"priority 5":   {Scenario: sc, From: t0, To: t0.Add(time.Hour), Priorities: []int{5}},
		"no default":   {Scenario: sc, From: t0, To: t0.Add(time.Hour), Targets: map[string][4]float64{"town": {}}},
	} {
		if _, err := Build(cfg, &drill.SliceSource{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// randomCity is up to stations stations and a few calls within reachM of
// the centre (stations within three quarters of it), up to gap apart: with
// 3 stations, 4 minutes and 4 km, units conflict and some calls are beyond
// reach. With a backstop (city), the calls are P1 and P2 only, and more.
func randomCity(rng *rand.Rand, stations int, gap time.Duration, reachM float64, backstop int) (*scenario.Scenario, []dispatch.Incident) {
	var st []float64
	for range 1 + rng.IntN(stations) {
		st = append(st, (rng.Float64()*2-1)*reachM*0.75)
	}
	delay := 0.0
	if rng.IntN(3) == 0 {
		delay = 120
	}
	sc := city(st, delay, backstop)
	types := []string{"urgent", "assault", "theft"}
	if backstop > 0 {
		types = types[:2]
	}
	var incs []dispatch.Incident
	at := time.Duration(0)
	for i := range 2 + rng.IntN(7+backstop) {
		at += time.Duration(rng.Int64N(int64(gap)))
		incs = append(incs, call(fmt.Sprintf("R%02d", i), types[rng.IntN(len(types))], at, (rng.Float64()*2-1)*reachM))
	}
	return sc, incs
}

// needCBC skips a test when cbc is not installed, except under CI=true,
// where the solver tests must run.
func needCBC(t *testing.T) CBC {
	t.Helper()
	s := CBC{}
	if err := s.Available(); err != nil {
		msg := "cbc is not installed (apt-get install coinor-cbc): the MIP is not checked"
		if !errors.Is(err, ErrNoCBC) || os.Getenv("CI") == "true" {
			t.Fatal(msg + "; CI=true makes it mandatory: " + err.Error())
		}
		t.Skip(msg)
	}
	return s
}

// fullPacking is the whole instance as one packing, without Reduce.
func fullPacking(inst *Instance) *Packing {
	p := &Packing{Vars: len(inst.Cands)}
	var row []int32
	for k, c := range inst.Cands {
		if len(row) > 0 && inst.Cands[row[0]].Call != c.Call {
			p.Rows = append(p.Rows, row)
			row = nil
		}
		row = append(row, int32(k))
	}
	if len(row) > 0 {
		p.Rows = append(p.Rows, row)
	}
	return &Packing{Vars: p.Vars, Rows: append(p.Rows, Cliques(inst, nil)...)}
}

// TestMIPMatchesOracle: on random small cities and call sets, Solve (Reduce,
// components, cbc) and cbc on the whole unreduced model serve exactly as
// many calls on time as the brute-force oracle, and their assignments hold
// against the instance itself.
func TestMIPMatchesOracle(t *testing.T) {
	cbc := needCBC(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	solverRuns := 0
	for i := range 60 {
		sc, incs := randomCity(rng, 3, 4*time.Minute, 4000, 0)
		inst := build(t, sc, incs, func(c *Config) { c.Priorities = []int{1, 2, 3}; c.ServiceSigma = 0.5; c.Seed = uint64(i) })
		want, oracle := Oracle(inst)
		if n, err := Feasible(inst, oracle); err != nil || n != want {
			t.Fatalf("case %d: the oracle's assignment: %d, %v", i, n, err)
		}
		out, err := Solve(ctx, inst, Options{Solver: cbc, TimeLimit: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		solverRuns += out.Components
		if n, err := Feasible(inst, out.Assigned); err != nil || n != out.Served {
			t.Fatalf("case %d: Solve's assignment: %d, %v", i, n, err)
		}
		if out.Status != StatusOptimal || out.Served != want || out.ServedBound != want {
			t.Errorf("case %d (%d calls, %d candidates): Solve serves %d (bound %d, %s), the oracle %d", i, len(inst.Calls), len(inst.Cands),
				out.Served, out.ServedBound, out.Status, want)
		}
		if len(inst.Cands) == 0 {
			continue
		}
		p := fullPacking(inst)
		sol, err := cbc.Solve(ctx, p, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		solverRuns++
		if sol.Status != StatusOptimal || sol.Value != want {
			t.Errorf("case %d: cbc on the whole model serves %d (%s), the oracle %d", i, sol.Value, sol.Status, want)
		}
	}
	if solverRuns < 20 {
		t.Errorf("only %d solver runs: the random cases are too easy", solverRuns)
	}
}

// TestBoundBelowReplay: the bound never exceeds the late arrivals of a
// replay of the same calls by the drill (closest-ETA, the real engine),
// when nothing queued (a queued call served later is what the bound does
// not model).
func TestBoundBelowReplay(t *testing.T) {
	cbc := needCBC(t)
	rng := rand.New(rand.NewPCG(3, 5))
	checked, congested := 0, 0
	for i := range 40 {
		sc, incs := randomCity(rng, 5, 3*time.Minute, 6000, 8)
		d, err := drill.New(drill.Config{Scenario: sc, Store: memstore.New(drill.Retention()), Drill: "b", Seed: uint64(i), RestockEvery: -1,
			Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		res, err := d.Run(context.Background(), &drill.SliceSource{Incidents: incs})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := res.Report(drill.ReportConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Queue.Queued > 0 {
			continue
		}
		late := 0
		for _, day := range rep.ByDay {
			late += day.Priority[0].Late + day.Priority[1].Late
		}
		inst := build(t, sc, incs, func(c *Config) { c.Seed = uint64(i); c.ServiceSigma = 0 })
		out, err := Solve(context.Background(), inst, Options{Solver: cbc})
		if err != nil {
			t.Fatal(err)
		}
		lb := len(inst.Calls) - out.ServedBound
		if lb > late {
			t.Errorf("case %d: bound %d late, the replay %d", i, lb, late)
		}
		if lb > out.NoCongestion {
			congested++
		}
		checked++
		t.Logf("case %d: %d calls, bound %d, no-congestion %d, replay %d", i, len(inst.Calls), lb, out.NoCongestion, late)
	}
	if checked < 20 || congested < 10 {
		t.Errorf("only %d cases without a queue, %d where congestion shows", checked, congested)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestNoCBC: without the cbc command, solving fails with an error that says
// how to install it.
func TestNoCBC(t *testing.T) {
	s := CBC{Path: filepath.Join(t.TempDir(), "cbc")}
	err := s.Available()
	if !errors.Is(err, ErrNoCBC) || !strings.Contains(err.Error(), "apt-get install coinor-cbc") {
		t.Errorf("Available: %v", err)
	}
	inst := handInstance(2, 1, span{0, 0, 0, 10}, span{1, 0, 5, 20})
	if _, err := Solve(context.Background(), inst, Options{Solver: s}); !errors.Is(err, ErrNoCBC) {
		t.Errorf("Solve: %v", err)
	}
}
