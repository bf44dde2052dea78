package bound

// Oracle finds the most calls that can be served on time by trying every
// assignment (each call late or served by one of its candidates, no unit
// busy twice at once), from the instance alone: no cliques, no reduction,
// no solver. It is exponential in the calls: for tiny instances, to check
// Solve against.
func Oracle(inst *Instance) (served int, assigned []int32) {
	cands := make([][]int32, len(inst.Calls))
	for k, c := range inst.Cands {
		cands[c.Call] = append(cands[c.Call], int32(k))
	}
	busy := make([][]Cand, len(inst.Units))
	cur := make([]int32, len(inst.Calls))
	best := -1
	assigned = make([]int32, len(inst.Calls))
	free := func(c Cand) bool {
		for _, b := range busy[c.Unit] {
			if c.Start < b.End && b.Start < c.End {
				return false
			}
		}
		return true
	}
	var try func(i, n int)
	try = func(i, n int) {
		if n+len(inst.Calls)-i <= best {
			return // cannot beat the best
		}
		if i == len(inst.Calls) {
			best = n
			copy(assigned, cur)
			return
		}
		for _, k := range cands[i] {
			c := inst.Cands[k]
			if !free(c) {
				continue
			}
			busy[c.Unit] = append(busy[c.Unit], c)
			cur[i] = k
			try(i+1, n+1)
			busy[c.Unit] = busy[c.Unit][:len(busy[c.Unit])-1]
		}
		cur[i] = -1
		try(i+1, n)
	}
	try(0, 0)
	return best, assigned
}
