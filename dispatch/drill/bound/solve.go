package bound

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Options configures Solve.
type Options struct {
	// Solver solves the components. Required.
	Solver Solver
	// TimeLimit bounds the solver's time over all components (0: none);
	// every component gets at least a second, so that a solver that stops
	// early still proves a bound.
	TimeLimit time.Duration
	// Progress, when set, is called after each component.
	Progress func(done, total int)
}

// Outcome is the solved instance.
type Outcome struct {
	// Assigned is, by call, the candidate (index into Instance.Cands) that
	// serves it on time in the best assignment found; -1: late.
	Assigned []int32
	// Served is how many calls the best assignment found serves on time;
	// ServedBound the most any assignment can serve, as proven (Served when
	// Status is optimal).
	Served, ServedBound int
	// NoCongestion is how many calls have no candidate at all; Fixed how
	// many Reduce served before the solver.
	NoCongestion, Fixed int
	Status              Status
	// Components is how many problems went to the solver; Largest the calls
	// of the largest; Vars and Rows their sizes added up.
	Components, Largest, Vars, Rows int
	// SolverWall is the solver's wall time over all components.
	SolverWall time.Duration
}

// Solve finds the most calls that can be served on time: Reduce, then each
// component by the solver.
func Solve(ctx context.Context, inst *Instance, opt Options) (*Outcome, error) {
	if opt.Solver == nil {
		return nil, errors.New("bound: no solver")
	}
	if !slices.IsSortedFunc(inst.Cands, func(a, b Cand) int {
		if c := cmp.Compare(a.Call, b.Call); c != 0 {
			return c
		}
		return cmp.Compare(a.Unit, b.Unit)
	}) {
		return nil, errors.New("bound: candidates not sorted by call then unit")
	}
	out := &Outcome{Assigned: make([]int32, len(inst.Calls)), Status: StatusOptimal}
	has := make([]bool, len(inst.Calls))
	for _, c := range inst.Cands {
		if c.End <= c.Start || int(c.Call) >= len(inst.Calls) || int(c.Unit) >= len(inst.Units) {
			return nil, fmt.Errorf("bound: bad candidate %+v", c)
		}
		has[c.Call] = true
	}
	for i, h := range has {
		if !h {
			out.NoCongestion++
		}
		out.Assigned[i] = -1
	}
	fixed, active := Reduce(inst)
	for i, k := range fixed {
		if k >= 0 {
			out.Assigned[i] = k
			out.Fixed++
		}
	}
	cliques := Cliques(inst, active)
	cliqueOf := map[int32][]int{}
	for q, cl := range cliques {
		for _, k := range cl {
			ci := inst.Cands[k].Call
			if l := cliqueOf[ci]; len(l) == 0 || l[len(l)-1] != q {
				cliqueOf[ci] = append(l, q)
			}
		}
	}
	comps := Components(inst, active, cliques)
	// the largest first: it gets the most of the time limit
	slices.SortStableFunc(comps, func(a, b []int32) int { return cmp.Compare(len(b), len(a)) })
	out.Served, out.ServedBound = out.Fixed, out.Fixed
	out.Components = len(comps)
	began := time.Now()
	for i, calls := range comps {
		p, vars := packing(inst, active, calls, cliques, cliqueOf)
		out.Largest = max(out.Largest, len(calls))
		out.Vars += p.Vars
		out.Rows += len(p.Rows)
		limit := time.Duration(0)
		if opt.TimeLimit > 0 {
			limit = max(opt.TimeLimit-time.Since(began), time.Second)
		}
		sol, err := opt.Solver.Solve(ctx, p, limit)
		if err != nil {
			return nil, err
		}
		n, err := p.Check(sol.Chosen)
		if err != nil || n != sol.Value {
			return nil, fmt.Errorf("bound: %s: solution does not hold (%d chosen, %d claimed): %w", opt.Solver.Name(), n, sol.Value, err)
		}
		for v, ok := range sol.Chosen {
			if ok {
				out.Assigned[inst.Cands[vars[v]].Call] = vars[v]
			}
		}
		out.Served += sol.Value
		out.ServedBound += min(sol.UpperBound, len(calls))
		out.SolverWall += sol.Wall
		// a solver stopped with its incumbent at its proven bound has proven it optimal
		if sol.Status != StatusOptimal && min(sol.UpperBound, len(calls)) > sol.Value {
			out.Status = sol.Status
		}
		if opt.Progress != nil {
			opt.Progress(i+1, len(comps))
		}
	}
	return out, nil
}

// Feasible checks an assignment against the instance itself (not the
// cliques): each call served at most once, by one of its candidates, and
// no unit busy twice at once. It returns how many calls are served.
func Feasible(inst *Instance, assigned []int32) (int, error) {
	if len(assigned) != len(inst.Calls) {
		return 0, fmt.Errorf("bound: %d assignments for %d calls", len(assigned), len(inst.Calls))
	}
	byUnit := map[int32][]Cand{}
	n := 0
	for i, k := range assigned {
		if k < 0 {
			continue
		}
		c := inst.Cands[k]
		if int(c.Call) != i {
			return 0, fmt.Errorf("bound: call %d served by a candidate of call %d", i, c.Call)
		}
		byUnit[c.Unit] = append(byUnit[c.Unit], c)
		n++
	}
	for u, cs := range byUnit {
		slices.SortFunc(cs, func(a, b Cand) int { return cmp.Compare(a.Start, b.Start) })
		for i := 1; i < len(cs); i++ {
			if cs[i].Start < cs[i-1].End {
				return 0, fmt.Errorf("bound: unit %s busy with calls %d and %d at once", inst.Units[u], cs[i-1].Call, cs[i].Call)
			}
		}
	}
	return n, nil
}
