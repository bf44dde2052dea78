package dispatch

import (
	"math"
	"slices"
)

// Move-up by DMEXCLP, the dynamic maximum expected coverage location
// problem (Jagtenberg, Bhulai, van der Mei, ORHC 4, 2015): demand point i
// of weight w_i, covered by k_i idle units of a capability (units whose
// station reaches i within the P1 target), is worth w_i (1 - q^k_i), q the
// busy fraction of the capability; one more unit covering i adds
// w_i (1-q) q^k_i. A unit that comes free goes to the station of its team
// where it adds the most; after a dispatch leaves demand uncovered, the
// idle unit whose move adds the most (net of what its own station loses)
// moves.

// coverGrid is the static part of the model for one speed profile: which
// station covers which demand point.
type coverGrid struct {
	weight []float64 // demand weights (town populations)
	covers [][]int32 // covers[s]: the demand points station s reaches within the target
}

// coverCounts are the idle units of one capability by station and the
// demand points' coverage counts k_i that follow.
type coverCounts struct {
	idle []int32 // by station
	k    []int32 // by demand point
}

func newCoverCounts(stations, points int) *coverCounts {
	return &coverCounts{idle: make([]int32, stations), k: make([]int32, points)}
}

// add moves n idle units (n may be negative) onto station s.
func (c *coverCounts) add(g *coverGrid, s int, n int32) {
	c.idle[s] += n
	for _, i := range g.covers[s] {
		c.k[i] += n
	}
}

// gainAt is what one more idle unit at station s adds: sum over the points
// s covers of w_i (1-q) q^k_i.
func gainAt(g *coverGrid, c *coverCounts, s int, q float64) float64 {
	v := 0.0
	for _, i := range g.covers[s] {
		v += g.weight[i] * (1 - q) * math.Pow(q, float64(c.k[i]))
	}
	return v
}

// lossAt is what one idle unit fewer at station s loses: sum over the
// points s covers of w_i (1-q) q^(k_i - 1) (the unit is among the k_i).
func lossAt(g *coverGrid, c *coverCounts, s int, q float64) float64 {
	v := 0.0
	for _, i := range g.covers[s] {
		if c.k[i] > 0 {
			v += g.weight[i] * (1 - q) * math.Pow(q, float64(c.k[i]-1))
		}
	}
	return v
}

// coverValue is the expected covered demand sum_i w_i (1 - q^k_i): the
// brute-force side of the model, which the incremental gains are tested
// against.
func coverValue(g *coverGrid, k []int32, q float64) float64 {
	v := 0.0
	for i, w := range g.weight {
		v += w * (1 - math.Pow(q, float64(k[i])))
	}
	return v
}

// bestStation returns, among the allowed stations, the one where one more
// idle unit adds the most, and that gain; ties go to the first allowed
// (the caller lists the unit's own station first). -1 when none is allowed.
func bestStation(g *coverGrid, c *coverCounts, allowed []int, q float64) (int, float64) {
	best, bestGain := -1, math.Inf(-1)
	for _, s := range allowed {
		if v := gainAt(g, c, s, q); v > bestGain+1e-12 {
			best, bestGain = s, v
		}
	}
	return best, bestGain
}

// move is one relocation of an idle unit between stations.
type move struct {
	unit     int32 // fleet number
	from, to int
	gain     float64 // expected covered demand added, net
}

// bestMove returns the relocation of one idle unit, among candidates
// (units with their station and the stations they may go to), that adds
// the most expected coverage net of what its station loses; ok false when
// none adds more than minGain. Ties: the first candidate, the first
// station, in the order given.
func bestMove(g *coverGrid, c *coverCounts, cands []moveCandidate, q, minGain float64) (move, bool) {
	best := move{gain: minGain}
	found := false
	for _, m := range cands {
		if c.idle[m.from] <= 0 {
			continue
		}
		loss := lossAt(g, c, m.from, q)
		c.add(g, m.from, -1)
		for _, s := range m.to {
			if s == m.from {
				continue
			}
			if v := gainAt(g, c, s, q) - loss; v > best.gain+1e-12 {
				best, found = move{unit: m.unit, from: m.from, to: s, gain: v}, true
			}
		}
		c.add(g, m.from, 1)
	}
	return best, found
}

// moveCandidate is an idle unit that may move: where it is, where it may go.
type moveCandidate struct {
	unit int32
	from int
	to   []int
}

// bruteBestMove is bestMove's oracle: every move evaluated by the total
// expected coverage before and after.
func bruteBestMove(g *coverGrid, c *coverCounts, cands []moveCandidate, q, minGain float64) (move, bool) {
	base := coverValue(g, c.k, q)
	best := move{gain: minGain}
	found := false
	for _, m := range cands {
		if c.idle[m.from] <= 0 {
			continue
		}
		for _, s := range m.to {
			if s == m.from {
				continue
			}
			k := slices.Clone(c.k)
			for _, i := range g.covers[m.from] {
				k[i]--
			}
			for _, i := range g.covers[s] {
				k[i]++
			}
			if v := coverValue(g, k, q) - base; v > best.gain+1e-9 {
				best, found = move{unit: m.unit, from: m.from, to: s, gain: v}, true
			}
		}
	}
	return best, found
}
