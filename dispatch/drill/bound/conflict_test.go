package bound

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// span is a busy interval in minutes.
type span struct {
	call, unit int32
	from, to   int64
}

// handInstance makes an instance from spans (in minutes), sorted by call
// then unit as Build sorts them.
func handInstance(calls, units int, spans ...span) *Instance {
	inst := &Instance{}
	for i := range calls {
		inst.Calls = append(inst.Calls, Call{ID: fmt.Sprintf("C%d", i)})
	}
	for u := range units {
		inst.Units = append(inst.Units, fmt.Sprintf("U%d", u))
	}
	for _, s := range spans {
		inst.Cands = append(inst.Cands, Cand{Call: s.call, Unit: s.unit, Start: s.from * 60e9, End: s.to * 60e9})
	}
	slices.SortStableFunc(inst.Cands, func(a, b Cand) int {
		if a.Call != b.Call {
			return int(a.Call - b.Call)
		}
		return int(a.Unit - b.Unit)
	})
	return inst
}

// calls names the calls of candidate lists, for readable expectations.
func calls(inst *Instance, lists [][]int32) [][]int32 {
	out := [][]int32{}
	for _, l := range lists {
		var cs []int32
		for _, k := range l {
			cs = append(cs, inst.Cands[k].Call)
		}
		out = append(out, cs)
	}
	return out
}

func TestCliques(t *testing.T) {
	cases := []struct {
		name  string
		spans []span
		units int
		want  [][]int32 // the calls of each clique
	}{
		{"disjoint", []span{{0, 0, 0, 10}, {1, 0, 10, 20}, {2, 0, 30, 40}}, 1, [][]int32{}},
		{"back at the instant of the next call", []span{{0, 0, 0, 10}, {1, 0, 10, 20}}, 1, [][]int32{}},
		{"two overlap", []span{{0, 0, 0, 10}, {1, 0, 5, 20}}, 1, [][]int32{{0, 1}}},
		{"chain: two cliques", []span{{0, 0, 0, 10}, {1, 0, 5, 20}, {2, 0, 15, 30}}, 1, [][]int32{{0, 1}, {1, 2}}},
		// 0 holds 1 and 2, which do not overlap each other
		{"nested", []span{{0, 0, 0, 100}, {1, 0, 10, 20}, {2, 0, 30, 40}}, 1, [][]int32{{0, 1}, {0, 2}}},
		// all three share minute 7: one clique, not three pairs
		{"three at once", []span{{0, 0, 0, 10}, {1, 0, 5, 20}, {2, 0, 7, 9}}, 1, [][]int32{{0, 1, 2}}},
		{"same start", []span{{0, 0, 5, 10}, {1, 0, 5, 10}}, 1, [][]int32{{0, 1}}},
		{"per unit", []span{{0, 0, 0, 10}, {1, 0, 5, 20}, {0, 1, 0, 10}, {1, 1, 12, 20}, {2, 1, 15, 30}}, 2, [][]int32{{0, 1}, {1, 2}}},
		{"one candidate", []span{{0, 0, 0, 10}}, 1, [][]int32{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inst := handInstance(3, c.units, c.spans...)
			got := calls(inst, Cliques(inst, nil))
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("cliques %v, want %v", got, c.want)
			}
		})
	}
}

func TestReduce(t *testing.T) {
	cases := []struct {
		name  string
		calls int
		spans []span
		fixed []bool // by call
		comps [][]int32
	}{
		{"alone", 1, []span{{0, 0, 0, 10}}, []bool{true}, nil},
		// call 1 has a free unit (U1); then call 0 has U0 to itself
		{"cascade", 2, []span{{0, 0, 0, 10}, {1, 0, 5, 20}, {1, 1, 5, 20}}, []bool{true, true}, nil},
		// two calls fight for one unit: nothing is fixed, one component
		{"conflict", 2, []span{{0, 0, 0, 10}, {1, 0, 5, 20}}, []bool{false, false}, [][]int32{{0, 1}}},
		// two independent fights
		{"two components", 4, []span{{0, 0, 0, 10}, {1, 0, 5, 20}, {2, 1, 0, 10}, {3, 1, 5, 20}}, []bool{false, false, false, false},
			[][]int32{{0, 1}, {2, 3}}},
		// a call beyond reach stays late and out of every component
		{"no candidate", 3, []span{{0, 0, 0, 10}, {1, 0, 5, 20}}, []bool{false, false, false}, [][]int32{{0, 1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inst := handInstance(c.calls, 2, c.spans...)
			fixed, active := Reduce(inst)
			var got []bool
			for _, k := range fixed {
				got = append(got, k >= 0)
			}
			if !reflect.DeepEqual(got, c.fixed) {
				t.Errorf("fixed %v, want %v", got, c.fixed)
			}
			comps := Components(inst, active, Cliques(inst, active))
			if !reflect.DeepEqual(comps, c.comps) {
				t.Errorf("components %v, want %v", comps, c.comps)
			}
		})
	}
}

func TestPacking(t *testing.T) {
	// calls 0, 1, 2; call 0 has U0 and U1; U0's intervals of 0 and 1
	// overlap; U1's of 0 and 2.
	inst := handInstance(3, 2, span{0, 0, 0, 10}, span{0, 1, 0, 10}, span{1, 0, 5, 20}, span{2, 1, 5, 20})
	_, active := Reduce(inst)
	cl := Cliques(inst, active)
	cliqueOf := map[int32][]int{}
	for q, c := range cl {
		for _, k := range c {
			cliqueOf[inst.Cands[k].Call] = append(cliqueOf[inst.Cands[k].Call], q)
		}
	}
	comps := Components(inst, active, cl)
	if len(comps) != 1 || len(comps[0]) != 3 {
		t.Fatalf("components %v", comps)
	}
	p, vars := packing(inst, active, comps[0], cl, cliqueOf)
	if p.Vars != 4 || !reflect.DeepEqual(vars, []int32{0, 1, 2, 3}) {
		t.Fatalf("vars %d %v", p.Vars, vars)
	}
	want := [][]int32{{0, 1}, {0, 2}, {1, 3}} // call 0's row, then U0's and U1's cliques
	if !reflect.DeepEqual(p.Rows, want) {
		t.Errorf("rows %v, want %v", p.Rows, want)
	}
	var lp bytes.Buffer
	if err := p.WriteLP(&lp); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"Minimize", " obj: - x0 - x1 - x2 - x3", " r0: x0 + x1 <= 1", " r2: x1 + x3 <= 1", "Binaries", "End"} {
		if !strings.Contains(lp.String(), line+"\n") {
			t.Errorf("LP lacks %q:\n%s", line, lp.String())
		}
	}
	if n, err := p.Check([]bool{true, false, false, true}); err != nil || n != 2 {
		t.Errorf("a feasible assignment: %d, %v", n, err)
	}
	if _, err := p.Check([]bool{true, true, false, false}); err == nil {
		t.Error("two units for call 0 accepted")
	}
}

func TestParseCBC(t *testing.T) {
	p := &Packing{Vars: 3, Rows: [][]int32{{0, 1}, {1, 2}}}
	cases := []struct {
		name, solution, log string
		status              Status
		value, bound        int
		err                 bool
	}{
		{"optimal", "Optimal - objective value -2.00000000\n      0 x0   1   -1\n      1 x1   0   -1\n      2 x2   1   -1\n", "",
			StatusOptimal, 2, 2, false},
		{"time limit", "Stopped on time - objective value -1.00000000\n      0 x0   1   -1\n",
			"Result - Stopped on time limit\nObjective value:   -1.00000000\nLower bound:   -2.500\nGap:  1.5\n", StatusTimeLimit, 1, 2, false},
		{"no solution in time", "", "Continuous objective value is -2.5 - 0.00 seconds\nResult - Stopped on time limit\n", StatusTimeLimit, 0, 2, false},
		{"infeasible answer", "Optimal - objective value -2\n 0 x0 1 -1\n 1 x1 1 -1\n", "", "", 0, 0, true},
		{"unknown column", "Optimal - objective value -1\n 0 y7 1 -1\n", "", "", 0, 0, true},
		{"odd status", "Infeasible - objective value 0\n", "", "", 0, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sol, err := parseCBC(p, c.solution, c.log)
			if c.err {
				if err == nil {
					t.Fatalf("accepted: %+v", sol)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sol.Status != c.status || sol.Value != c.value || sol.UpperBound != c.bound {
				t.Errorf("status %q value %d bound %d, want %q %d %d", sol.Status, sol.Value, sol.UpperBound, c.status, c.value, c.bound)
			}
		})
	}
}

// fixedSolver answers every packing with nothing chosen and a bound.
type fixedSolver struct{ bound int }

func (fixedSolver) Name() string { return "fixed" }
func (s fixedSolver) Solve(_ context.Context, p *Packing, _ time.Duration) (*Solution, error) {
	return &Solution{Status: StatusTimeLimit, Chosen: make([]bool, p.Vars), UpperBound: s.bound}, nil
}

// TestSolveStoppedKeepsBound: a solver that stops early gives a weaker but
// valid bound: the served bound counts what it proved, capped by the calls.
func TestSolveStoppedKeepsBound(t *testing.T) {
	inst := handInstance(3, 1, span{0, 0, 0, 10}, span{1, 0, 5, 20}, span{2, 0, 30, 40})
	out, err := Solve(context.Background(), inst, Options{Solver: fixedSolver{bound: 99}})
	if err != nil {
		t.Fatal(err)
	}
	// call 2 is fixed; calls 0 and 1 form one component, bound capped at 2
	if out.Status != StatusTimeLimit || out.Served != 1 || out.ServedBound != 3 || out.Fixed != 1 {
		t.Errorf("%+v", out)
	}
	// stopped, but with nothing more to gain than what it has: optimal
	out, err = Solve(context.Background(), inst, Options{Solver: fixedSolver{bound: 0}})
	if err != nil || out.Status != StatusOptimal || out.ServedBound != 1 {
		t.Errorf("%+v %v", out, err)
	}
}
