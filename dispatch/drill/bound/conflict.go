package bound

import (
	"cmp"
	"slices"
)

// byUnit returns, for each unit, the indices of the active candidates of
// that unit sorted by the start of their interval (then index).
func byUnit(inst *Instance, active []bool) [][]int32 {
	out := make([][]int32, len(inst.Units))
	for k, c := range inst.Cands {
		if active == nil || active[k] {
			out[c.Unit] = append(out[c.Unit], int32(k))
		}
	}
	for _, ks := range out {
		slices.SortFunc(ks, func(a, b int32) int {
			if c := cmp.Compare(inst.Cands[a].Start, inst.Cands[b].Start); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
	}
	return out
}

// Cliques returns the maximal cliques of overlapping busy intervals of
// each unit among the active candidates (nil: all), those of two or more
// candidates: a unit serves at most one candidate of each. Intervals are
// half-open: a unit back at its station at the instant of a call can take
// it. Each clique lists candidate indices in order of start; cliques come
// unit by unit, in order of time.
func Cliques(inst *Instance, active []bool) [][]int32 {
	var out [][]int32
	for _, ks := range byUnit(inst, active) {
		out = append(out, unitCliques(inst.Cands, ks)...)
	}
	return out
}

// unitCliques sweeps one unit's candidates ks (sorted by start): the set
// of intervals containing the start of candidate j is a maximal clique
// unless it still holds at the next start (nothing ended in between).
func unitCliques(cands []Cand, ks []int32) [][]int32 {
	var out [][]int32
	var open []int32
	for i, k := range ks {
		s := cands[k].Start
		open = slices.DeleteFunc(open, func(o int32) bool { return cands[o].End <= s })
		open = append(open, k)
		if len(open) < 2 {
			continue
		}
		if i+1 < len(ks) {
			next := cands[ks[i+1]].Start
			if !slices.ContainsFunc(open, func(o int32) bool { return cands[o].End <= next }) {
				continue // the clique at the next start holds this one
			}
		}
		out = append(out, slices.Clone(open))
	}
	return out
}

// Reduce serves, until none is left, every call one of whose candidates
// overlaps no other active candidate of its unit: some optimal assignment
// serves the call with that unit (switching to it frees the unit the call
// had, or serves a call that was late), so the call and its other
// candidates leave the problem. It returns the candidate that serves each
// call so fixed (-1 for the others) and the candidates still active.
func Reduce(inst *Instance) (fixed []int32, active []bool) {
	fixed = make([]int32, len(inst.Calls))
	for i := range fixed {
		fixed[i] = -1
	}
	active = make([]bool, len(inst.Cands))
	for k := range active {
		active[k] = true
	}
	first := make([]int32, len(inst.Calls)+1) // the candidates of call i are first[i]:first[i+1]
	for _, c := range inst.Cands {
		first[c.Call+1]++
	}
	for i := 1; i < len(first); i++ {
		first[i] += first[i-1]
	}
	for changed := true; changed; {
		changed = false
		for _, ks := range byUnit(inst, active) {
			maxEnd := int64(-1 << 63)
			for i, k := range ks {
				c := inst.Cands[k]
				isolated := maxEnd <= c.Start && (i+1 == len(ks) || inst.Cands[ks[i+1]].Start >= c.End)
				maxEnd = max(maxEnd, c.End)
				if !isolated || !active[k] {
					continue
				}
				fixed[c.Call] = k
				for j := first[c.Call]; j < first[c.Call+1]; j++ {
					active[j] = false
				}
				changed = true
			}
		}
	}
	return fixed, active
}

// Components groups the calls that still have active candidates into
// independent problems: two calls are in one component when a unit's
// clique holds candidates of both. Components come in order of their first
// call; each lists its calls in order.
func Components(inst *Instance, active []bool, cliques [][]int32) [][]int32 {
	parent := make([]int32, len(inst.Calls))
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for _, q := range cliques {
		a := find(inst.Cands[q[0]].Call)
		for _, k := range q[1:] {
			if b := find(inst.Cands[k].Call); b != a {
				parent[max(a, b)] = min(a, b)
				a = min(a, b)
			}
		}
	}
	has := make([]bool, len(inst.Calls))
	for k, c := range inst.Cands {
		if active[k] {
			has[c.Call] = true
		}
	}
	idx := map[int32]int{}
	var out [][]int32
	for i := range inst.Calls {
		if !has[i] {
			continue
		}
		r := find(int32(i))
		j, ok := idx[r]
		if !ok {
			j = len(out)
			idx[r] = j
			out = append(out, nil)
		}
		out[j] = append(out[j], int32(i))
	}
	return out
}

// packing makes the set-packing problem of one component: its variables
// are the active candidates of its calls (vars[v] is the candidate index of
// variable v), its rows one per call with two candidates or more and the
// cliques of its calls.
func packing(inst *Instance, active []bool, calls []int32, cliques [][]int32, cliqueOf map[int32][]int) (p *Packing, vars []int32) {
	local := map[int32]int32{}
	p = &Packing{}
	in := map[int32]bool{}
	for _, ci := range calls {
		in[ci] = true
	}
	for k, c := range inst.Cands {
		if active[k] && in[c.Call] {
			local[int32(k)] = int32(len(vars))
			vars = append(vars, int32(k))
		}
	}
	p.Vars = len(vars)
	row := []int32(nil)
	for _, k := range vars {
		c := inst.Cands[k]
		if len(row) > 0 && inst.Cands[vars[row[0]]].Call != c.Call {
			if len(row) > 1 {
				p.Rows = append(p.Rows, row)
			}
			row = nil
		}
		row = append(row, local[k])
	}
	if len(row) > 1 {
		p.Rows = append(p.Rows, row)
	}
	seen := map[int]bool{}
	for _, ci := range calls {
		for _, q := range cliqueOf[ci] {
			if seen[q] {
				continue
			}
			seen[q] = true
			r := make([]int32, len(cliques[q]))
			for i, k := range cliques[q] {
				r[i] = local[k]
			}
			p.Rows = append(p.Rows, r)
		}
	}
	return p, vars
}
