package dispatch

import (
	"cmp"
	"math"
	"slices"

	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
)

// The responders policy's parts of the ranker (RankConfig.Policy): the
// reserve rule's last resort and the first responders' helpers.

// busyFunc appends to dst[:0] the k busy professional units with one of
// caps whose expected free time is known, of least cost from q (ties by
// unit id), keeping those of cost at most bound. cost(i, d) is the unit's
// wait plus its ETA over d metres from where it will be free, at least
// d*lb(capability); it returns false for a unit that must not count.
type busyFunc func(caps []int32, k int, q geo.Point, bound float64, lb func(int32) float64, cost geo.CostFunc, dst []geo.Hit) []geo.Hit

// findFunc is rank's search for k available units of a capability.
type findFunc func(capab string, reserve bool, k int, sub bool) []candidate

// indexBusy searches the busy units' index of each capability.
func (s *State) indexBusy(caps []int32, k int, q geo.Point, bound float64, lb func(int32) float64, cost geo.CostFunc, dst []geo.Hit) []geo.Hit {
	out := dst[:0]
	for _, c := range caps {
		s.scratch.busyCap = s.busyIx[c].Nearest(q, k, lb(c), cost, s.scratch.busyCap[:0])
		for _, h := range s.scratch.busyCap {
			if !slices.ContainsFunc(out, func(x geo.Hit) bool { return x.ID == h.ID }) {
				out = append(out, h)
			}
		}
	}
	return topHits(out, k, bound)
}

// bruteBusy is indexBusy's oracle: every unit of the fleet.
func (s *State) bruteBusy(caps []int32, k int, q geo.Point, bound float64, _ func(int32) float64, cost geo.CostFunc, dst []geo.Hit) []geo.Hit {
	out := dst[:0]
	for i := range int32(s.fleet.Len()) {
		r := s.fleet.Record(i)
		if r.Status().Assignable() || r.Reserve() || s.free[i].at == 0 || !slices.ContainsFunc(caps, r.Has) {
			continue
		}
		d := geo.DistanceM(q, s.free[i].pos)
		if c, ok := cost(i, d); ok {
			out = append(out, geo.Hit{ID: i, DistM: d, Cost: c})
		}
	}
	return topHits(out, k, bound)
}

// topHits sorts hits by (cost, id) and keeps the first k of cost at most bound.
func topHits(hits []geo.Hit, k int, bound float64) []geo.Hit {
	slices.SortFunc(hits, func(a, b geo.Hit) int {
		if c := cmp.Compare(a.Cost, b.Cost); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	hits = hits[:min(k, len(hits))]
	for len(hits) > 0 && hits[len(hits)-1].Cost > bound {
		hits = hits[:len(hits)-1]
	}
	return hits
}

// arrival is one way a requirement's slot can be filled: a professional
// (available, a first responder candidate, or busy and expected free) or a
// reserve unit.
type arrival struct {
	eta float64
	id  int32
	res bool
}

// lastResort is the responders policy's reserve rule for a requirement of
// whose picks (pros) none is within target: reserves are called only when
// no professional unit can be on scene within it, and only those among the
// Count soonest arrivals; the late professional picks fill the other slots.
func (s *State) lastResort(rq scenario.Requirement, pros []candidate, target float64, find findFunc, busy busyFunc,
	lb func(int32) float64, req RankRequest, hour int, excluded func(int32) bool) []candidate {
	sc := &s.scratch
	n := rq.Count
	base := len(sc.picked)
	for _, c := range pros {
		sc.picked = append(sc.picked, c.id) // exclude while searching
	}
	defer func() { sc.picked = sc.picked[:base] }()
	opts := make([]arrival, 0, len(pros)+2*n+2)
	for i := range pros {
		opts = append(opts, arrival{eta: pros[i].eta(), id: pros[i].id})
	}
	// caps: the capabilities whose busy units may still come in time
	// (none that the queue waits for, see RankRequest.Backlog).
	caps := make([]int32, 0, 4)
	addCap := func(name string) {
		if req.Backlog != nil && req.Backlog(name) > 0 {
			return
		}
		if ci, ok := s.fleet.Capability(name); ok && !slices.Contains(caps, ci) {
			caps = append(caps, ci)
		}
	}
	addCap(rq.Capability)
	for _, sub := range rq.Substitutes {
		addCap(sub)
	}
	if rq.First != nil {
		for _, capab := range rq.First.Capabilities {
			addCap(capab)
			for _, c := range find(capab, false, 1, false) {
				if !slices.ContainsFunc(opts, func(a arrival) bool { return a.id == c.id }) {
					opts = append(opts, arrival{eta: c.eta(), id: c.id})
				}
			}
		}
	}
	if slices.ContainsFunc(opts, func(a arrival) bool { return a.eta <= target }) {
		return pros // a first responder can be there in time: no reserve
	}
	reserves := s.reserveCandidates(rq, n, find)
	if len(reserves) == 0 {
		return pros
	}
	// Busy professionals count up to the target (one in time: no reserve)
	// or the latest reserve (one no later takes its place).
	bound := target
	for i := range reserves {
		bound = max(bound, reserves[i].hit.Cost)
	}
	now := req.Now.UnixNano()
	cost := func(i int32, d float64) (float64, bool) {
		if excluded(i) {
			return 0, false
		}
		wait := max(0, float64(s.free[i].at-now)/1e9)
		return wait + s.tr.Seconds(d, s.fleet.Record(i).Profile(), hour, s.free[i].pl, s.scratch.q), true
	}
	sc.busyHits = busy(caps, n, req.At, bound, lb, cost, sc.busyHits[:0])
	for _, h := range sc.busyHits {
		if h.Cost <= target {
			return pros // a busy professional can be there in time: no reserve
		}
		opts = append(opts, arrival{eta: h.Cost, id: h.ID})
	}
	for i := range reserves {
		opts = append(opts, arrival{eta: reserves[i].hit.Cost, id: reserves[i].id, res: true})
	}
	slices.SortFunc(opts, func(a, b arrival) int {
		if c := cmp.Compare(a.eta, b.eta); c != 0 {
			return c
		}
		if a.res != b.res {
			if a.res {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.id, b.id)
	})
	var called []candidate
	for _, a := range opts[:min(n, len(opts))] {
		if a.res {
			called = append(called, reserves[slices.IndexFunc(reserves, func(c candidate) bool { return c.id == a.id })])
		}
	}
	if len(called) == 0 {
		return pros
	}
	k := min(len(pros), n-len(called))
	return append(pros[:k:k], called...)
}

// aheadAlready reports whether a unit already picked has one of the first
// responder capabilities and arrives early enough to be the first responder.
func (s *State) aheadAlready(chosen []candidate, caps []string, ahead func(eta float64) bool) bool {
	for i := range chosen {
		if !ahead(chosen[i].eta()) {
			continue
		}
		r := s.fleet.Record(chosen[i].id)
		for _, capab := range caps {
			if ci, ok := s.fleet.Capability(capab); ok && r.Has(ci) {
				return true
			}
		}
	}
	return false
}

// firstWhy says what a first responder arrives ahead of, and by how much.
func firstWhy(eta, first float64, capab string, target float64, priority int) Why {
	if math.IsInf(first, 1) {
		return Why{Code: WhyFirstNone, Capability: capab}
	}
	w := Why{Code: WhyFirst, AheadS: first - eta, Capability: capab, EtaS: first}
	if first > target {
		w.Priority, w.TargetS = priority, target
	}
	return w
}

// reserveCandidates returns up to want reserve-team units for a
// requirement: with its capability first, then with each substitute in
// order, none twice (the reserve rule of both policies; the caller has put
// the units to leave out in the scratch's picked list).
func (s *State) reserveCandidates(rq scenario.Requirement, want int, find findFunc) []candidate {
	sc := &s.scratch
	var reserves []candidate
	for _, capab := range append([]string{rq.Capability}, rq.Substitutes...) {
		if len(reserves) >= want {
			break
		}
		for _, c := range reserves {
			sc.picked = append(sc.picked, c.id)
		}
		more := find(capab, true, want-len(reserves), capab != rq.Capability)
		sc.picked = sc.picked[:len(sc.picked)-len(reserves)]
		reserves = append(reserves, more...)
	}
	return reserves
}
