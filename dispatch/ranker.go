package dispatch

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/resources"
)

// RankRequest asks for the units and materials of a plan at a point.
type RankRequest struct {
	At       geo.Point
	Plan     scenario.Plan
	Priority int
	Now      time.Time
	// Exclude names units that must not be offered (already on the incident, declined).
	Exclude map[string]bool
	// Backlog, when set, returns how many units of a capability other
	// open incidents are still waiting for (the queue). The responders
	// policy's reserve rule then counts a busy unit expected free only
	// for capabilities nobody waits for: in a surge a unit that frees up
	// serves the queue first, not this call. Nil: no queue.
	Backlog func(capability string) int
}

// searchFunc returns the k available units of capability ci (professionals,
// or reserves) of least cost.
type searchFunc func(ci int32, reserve bool, k int, q geo.Point, lbPerM float64, cost geo.CostFunc, dst []geo.Hit) []geo.Hit

// Rank recommends units and depots for a plan. It does not change the state.
//
// Requirements are filled greedily in plan order, and a unit picked for one
// is not offered for a later one. For a requirement of n units with
// capability C:
//
//  1. the professional (and command) units with C, by cost = ETA + coverage
//     cost, ties by unit id; the next Alternates after the first n are kept
//     as alternates;
//  2. when fewer than n were found, the substitutes in order fill the rest
//     (marked substitute);
//  3. when still fewer than n, or when a pick's ETA is above the priority's
//     target (Scenario.Targets), reserve-team units with C (then the
//     substitutes) may come, at cost = travel + activation delay:
//     - closest: picks within target are kept, the remaining slots go to
//     the cheapest of the late professional picks and the reserves;
//     - responders: only when no pick is within target, no first responder
//     candidate (step 5) is, and no busy professional with C, a substitute
//     or a first responder capability is expected on scene within it (its
//     expected free time, expectFree, plus its ETA from where it will be).
//     Then the reserves among the n soonest arrivals of all of these
//     (professionals first on a tie) are called, and the late professional
//     picks fill the other slots;
//  4. what is still missing is a shortfall.
//  5. responders only, once every requirement is filled, in plan order: a
//     requirement with first responders (Requirement.First) gets the
//     cheapest available professional unit with one of their capabilities
//     as an extra pick (marked first_responder), when its ETA plus the
//     margin is below the ETA of the requirement's first unit, or when that
//     ETA is above the target (or there is no unit) and it arrives sooner;
//     not when a unit already picked has one of the capabilities and
//     arrives that early.
//
// Coverage cost = CoverageWeightS x the number of the unit's capabilities for
// which it is the last available professional unit in its town, counting
// units picked for earlier requirements of this plan as gone. Materials: for
// each item, the depots with stock, by prep time + truck travel time, split
// with resources.Split; a missing quantity is a shortfall.
func (s *State) Rank(req RankRequest) Recommendation {
	return s.rank(req, s.indexSearch, s.indexBusy)
}

// rankBrute is the oracle: the same rules with a plain loop over every unit
// instead of the spatial indices (of available units, and of busy units by
// where they will be free).
func (s *State) rankBrute(req RankRequest) Recommendation {
	return s.rank(req, s.bruteSearch, s.bruteBusy)
}

func (s *State) indexSearch(ci int32, reserve bool, k int, q geo.Point, lbPerM float64, cost geo.CostFunc, dst []geo.Hit) []geo.Hit {
	return s.fleet.Nearest(ci, reserve, q, k, lbPerM, cost, dst)
}

func (s *State) bruteSearch(ci int32, reserve bool, k int, q geo.Point, _ float64, cost geo.CostFunc, dst []geo.Hit) []geo.Hit {
	all := dst[:0]
	for i := range int32(s.fleet.Len()) {
		r := s.fleet.Record(i)
		if !r.Status().Assignable() || r.Reserve() != reserve || !r.Has(ci) {
			continue
		}
		d := geo.DistanceM(q, r.Position())
		if c, ok := cost(i, d); ok {
			all = append(all, geo.Hit{ID: i, DistM: d, Cost: c})
		}
	}
	slices.SortFunc(all, func(a, b geo.Hit) int {
		if c := cmp.Compare(a.Cost, b.Cost); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return all[:min(k, len(all))]
}

func (s *State) target(priority int) float64 {
	if priority >= 1 && priority <= 4 && s.targets[priority-1] > 0 {
		return s.targets[priority-1]
	}
	return math.Inf(1)
}

type candidate struct {
	id    int32
	hit   geo.Hit
	capab string
	sub   bool
	res   bool
	cover float64
}

// eta is the candidate's time to the scene (activation included).
func (c *candidate) eta() float64 { return c.hit.Cost - c.cover }

func (s *State) rank(req RankRequest, search searchFunc, busy busyFunc) Recommendation {
	hour := s.eta.Hour(req.Now)
	target := s.target(req.Priority)
	sc := &s.scratch
	sc.q = s.tr.PlaceOf(req.At)
	floor := s.tr.FloorTo(sc.q, hour) // every ETA to req.At is at least floor x the model's
	sc.picked = sc.picked[:0]
	sc.taken = sc.taken[:0]
	defer func() { // forget the units this decision counted as gone
		for _, k := range sc.taken {
			sc.held[k] = 0
		}
	}()
	var rec Recommendation
	ncap := s.ncap
	excluded := func(id int32) bool {
		if slices.Contains(sc.picked, id) {
			return true
		}
		return req.Exclude != nil && req.Exclude[s.fleet.Record(id).ID()]
	}
	coverage := func(id int32) float64 {
		if s.cfg.CoverageWeightS == 0 {
			return 0
		}
		r := s.fleet.Record(id)
		town := r.Town()
		if r.Reserve() || town < 0 {
			return 0
		}
		n := 0
		for _, c := range r.Capabilities() {
			if s.fleet.Available(town, c)-s.scratch.held[int(town)*ncap+int(c)] == 1 {
				n++
			}
		}
		return s.cfg.CoverageWeightS * float64(n)
	}
	costPro := func(id int32, d float64) (float64, bool) {
		if excluded(id) {
			return 0, false
		}
		return s.unitSeconds(id, d, hour, sc.q) + coverage(id), true
	}
	costRes := func(id int32, d float64) (float64, bool) {
		if excluded(id) {
			return 0, false
		}
		return s.unitSeconds(id, d, hour, sc.q) + s.fleet.Record(id).ActivationDelayS(), true
	}
	lbPerM := func(ci int32) float64 {
		m := 0.0
		for _, p := range s.fleet.SpeedProfiles(ci) {
			m = math.Max(m, s.eta.Speed(p, hour))
		}
		if m == 0 {
			return 0
		}
		// the margin covers the rounding of a correction at the floor
		return floor * s.eta.Detour() / m * (1 - 1e-9)
	}
	find := func(capab string, reserve bool, k int, sub bool) []candidate {
		ci, ok := s.fleet.Capability(capab)
		if !ok || k <= 0 {
			return nil
		}
		cost := costPro
		if reserve {
			cost = costRes
		}
		sc.hits = search(ci, reserve, k, req.At, lbPerM(ci), cost, sc.hits[:0])
		out := make([]candidate, len(sc.hits))
		for i, h := range sc.hits {
			out[i] = candidate{id: h.ID, hit: h, capab: capab, sub: sub, res: reserve}
			if !reserve {
				out[i].cover = coverage(h.ID)
			}
		}
		return out
	}
	pick := func(c candidate) {
		sc.picked = append(sc.picked, c.id)
		r := s.fleet.Record(c.id)
		if town := r.Town(); !r.Reserve() && town >= 0 {
			for _, cc := range r.Capabilities() {
				k := int32(int(town)*ncap + int(cc))
				sc.held[k]++
				sc.taken = append(sc.taken, k)
			}
		}
	}
	units := 0 // picks at most: the size of rec.Units
	firsts := 0
	for _, rq := range req.Plan.Units {
		units += max(rq.Count, 0)
		if rq.First != nil && s.responders {
			firsts++
		}
	}
	units += firsts
	// With first responders: each requirement's first ETA and the end of its
	// picks in rec.Units, and every candidate picked.
	var (
		firstETA []float64
		reqEnd   []int
		chosen   []candidate
	)
	if firsts > 0 {
		firstETA = make([]float64, 0, len(req.Plan.Units))
		reqEnd = make([]int, 0, len(req.Plan.Units))
	}
	for _, rq := range req.Plan.Units {
		n := rq.Count
		pros := find(rq.Capability, false, n+s.cfg.Alternates, false)
		var alts []candidate
		if len(pros) > n {
			pros, alts = pros[:n], pros[n:]
		}
		for _, sub := range rq.Substitutes {
			if len(pros) >= n {
				break
			}
			for _, c := range pros {
				sc.picked = append(sc.picked, c.id) // exclude while searching substitutes
			}
			more := find(sub, false, n-len(pros), true)
			sc.picked = sc.picked[:len(sc.picked)-len(pros)]
			pros = append(pros, more...)
		}
		final := pros
		late := slices.ContainsFunc(pros, func(c candidate) bool { return c.hit.Cost-c.cover > target })
		if s.responders && (len(pros) < n || late) {
			if !slices.ContainsFunc(pros, func(c candidate) bool { return c.eta() <= target }) {
				final = s.lastResort(rq, pros, target, find, busy, lbPerM, req, hour, excluded)
			}
		} else if len(pros) < n || late {
			var keep, pool []candidate
			for _, c := range pros {
				if c.hit.Cost-c.cover <= target {
					keep = append(keep, c)
				} else {
					pool = append(pool, c)
				}
			}
			want := n - len(keep)
			for _, c := range pros {
				sc.picked = append(sc.picked, c.id)
			}
			reserves := s.reserveCandidates(rq, want, find)
			sc.picked = sc.picked[:len(sc.picked)-len(pros)]
			pool = append(pool, reserves...)
			slices.SortStableFunc(pool, func(a, b candidate) int {
				if c := cmp.Compare(a.hit.Cost, b.hit.Cost); c != 0 {
					return c
				}
				return cmp.Compare(a.id, b.id)
			})
			final = append(keep, pool[:min(want, len(pool))]...)
		}
		if rec.Units == nil && len(final) > 0 {
			rec.Units = make([]UnitPick, 0, units)
		}
		for _, c := range final {
			rec.Units = append(rec.Units, s.unitPick(c, rq, target, req.Priority, hour))
		}
		for _, c := range final {
			pick(c)
		}
		if firsts > 0 {
			e := math.Inf(1)
			for i := range final {
				e = min(e, final[i].eta())
			}
			firstETA = append(firstETA, e)
			reqEnd = append(reqEnd, len(rec.Units))
			chosen = append(chosen, final...)
		}
		if len(alts) > 0 {
			if rec.Alternates == nil {
				rec.Alternates = map[string][]UnitPick{}
			}
			as := rec.Alternates[rq.Capability]
			if as == nil {
				as = make([]UnitPick, 0, len(alts))
			}
			for _, c := range alts {
				as = append(as, s.unitPick(c, rq, target, req.Priority, hour))
			}
			rec.Alternates[rq.Capability] = as
		}
		if missing := n - len(final); missing > 0 {
			rec.Shortfalls = append(rec.Shortfalls, shortfall("unit", rq.Capability, missing,
				Why{Code: WhyNoUnit, Capability: rq.Capability, Substitutes: rq.Substitutes}))
		}
	}
	if firsts > 0 {
		inserted := 0
		for ri, rq := range req.Plan.Units {
			if rq.First == nil {
				continue
			}
			e, margin := firstETA[ri], rq.First.MarginS
			ahead := func(eta float64) bool { return eta+margin < e || (e > target && eta < e) }
			if (e <= target && e <= margin) || s.aheadAlready(chosen, rq.First.Capabilities, ahead) {
				continue // nobody can be ahead, or somebody picked already is
			}
			var best candidate
			found := false
			for _, capab := range rq.First.Capabilities {
				if cs := find(capab, false, 1, false); len(cs) > 0 &&
					(!found || cs[0].hit.Cost < best.hit.Cost || (cs[0].hit.Cost == best.hit.Cost && cs[0].id < best.id)) {
					best, found = cs[0], true
				}
			}
			if !found || !ahead(best.eta()) {
				continue
			}
			p := s.unitPick(best, rq, target, req.Priority, hour)
			p.FirstResponder = true
			p.because(firstWhy(best.eta(), e, rq.Capability, target, req.Priority))
			rec.Units = slices.Insert(rec.Units, reqEnd[ri]+inserted, p)
			inserted++
			pick(best)
			chosen = append(chosen, best)
		}
	}
	s.rankMaterials(&rec, req, hour)
	return rec
}

func (s *State) unitPick(c candidate, rq scenario.Requirement, target float64, priority, hour int) UnitPick {
	r := s.fleet.Record(c.id)
	eta := c.hit.Cost - c.cover
	p := UnitPick{UnitID: r.ID(), Team: r.Team(), Requirement: rq.Capability, Capability: c.capab, Substitute: c.sub,
		Reserve: c.res, EtaS: eta, DistanceM: c.hit.DistM, CoverageCost: c.cover, Cost: c.hit.Cost,
		Town: s.fleet.TownCode(r.Town())}
	src, n := s.tr.SourceOf(r.Profile(), hour, s.placeOf(c.id), s.scratch.q)
	w := Why{Code: WhyETA, EtaS: eta, DistanceM: c.hit.DistM}
	if src != geo.SourceModel {
		p.EtaSource, p.EtaTrips = src.String(), n
		w.Source, w.Trips = p.EtaSource, n
	}
	p.because(w)
	if c.sub {
		p.because(Why{Code: WhySubstitute, Capability: rq.Capability})
	}
	if c.res {
		p.because(Why{Code: WhyReserve, ActivationS: r.ActivationDelayS(), Priority: priority, TargetS: target})
	}
	if c.cover > 0 {
		p.because(Why{Code: WhyCoverage, CostS: c.cover, Town: p.Town})
	}
	return p
}

func (s *State) rankMaterials(rec *Recommendation, req RankRequest, hour int) {
	if len(req.Plan.Materials) == 0 {
		return
	}
	etas := make([]float64, len(s.depots))
	for i, d := range s.depots {
		etas[i] = d.PrepS + s.eta.Seconds(geo.DistanceM(req.At, d.Location), s.truck, hour)
	}
	opts := make([]resources.DepotOption, 0, len(s.depots))
	for _, item := range sortedKeys(req.Plan.Materials) {
		need := req.Plan.Materials[item]
		opts = opts[:0]
		for i, d := range s.depots {
			if a := s.inv.Available(d.ID, item); a > 0 {
				opts = append(opts, resources.DepotOption{Depot: d.ID, EtaS: etas[i], Available: a})
			}
		}
		allocs, missing := resources.Split(need, opts)
		for _, a := range allocs {
			rec.Materials = append(rec.Materials, MaterialPick{Item: item, DepotID: a.Depot, Qty: a.Qty, EtaS: a.EtaS})
		}
		if missing > 0 {
			rec.Shortfalls = append(rec.Shortfalls, shortfall("material", item, missing,
				Why{Code: WhyNoStock, Have: need - missing, Need: need, Item: item}))
		}
	}
}

func fmtSeconds(x float64) string {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return "no target"
	}
	n := int64(math.Round(x))
	b := make([]byte, 0, 12)
	if n >= 3600 {
		b = strconv.AppendInt(b, n/3600, 10)
		b = append(b, 'h')
		n %= 3600
	}
	if n >= 60 || len(b) > 0 {
		b = strconv.AppendInt(b, n/60, 10)
		b = append(b, 'm')
		n %= 60
	}
	b = strconv.AppendInt(b, n, 10)
	b = append(b, 's')
	return string(b)
}

// etaReason is "ETA 3m32s over 1.6 km", then where the ETA came from
// unless the model: " (learned from 12 trips)", " (agency matrix)",
// built without fmt (it runs for every pick).
func etaReason(eta, distM float64, src string, trips int) string {
	b := make([]byte, 0, 56)
	b = append(b, "ETA "...)
	b = append(b, fmtSeconds(eta)...)
	b = append(b, " over "...)
	b = strconv.AppendFloat(b, math.Round(distM/100)/10, 'f', 1, 64)
	b = append(b, " km"...)
	switch src {
	case geo.SourceLearned.String():
		b = append(b, " (learned from "...)
		b = strconv.AppendInt(b, int64(trips), 10)
		if trips == 1 {
			b = append(b, " trip)"...)
		} else {
			b = append(b, " trips)"...)
		}
	case geo.SourceMatrix.String():
		b = append(b, " (agency matrix)"...)
	case geo.SourceOverride.String():
		b = append(b, " (known travel time)"...)
	}
	return string(b)
}
