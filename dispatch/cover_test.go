package dispatch

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randomCover is a small random city: points with weights, stations each
// covering a random subset, idle units spread over the stations.
func randomCover(r *rand.Rand) (*coverGrid, *coverCounts, []moveCandidate) {
	np, ns := 1+r.IntN(8), 1+r.IntN(6)
	g := &coverGrid{weight: make([]float64, np), covers: make([][]int32, ns)}
	for i := range g.weight {
		g.weight[i] = float64(1 + r.IntN(100))
	}
	for s := range g.covers {
		for i := 0; i < np; i++ {
			if r.IntN(3) == 0 {
				g.covers[s] = append(g.covers[s], int32(i))
			}
		}
	}
	c := newCoverCounts(ns, np)
	var cands []moveCandidate
	for u := int32(0); u < int32(r.IntN(7)); u++ {
		s := r.IntN(ns)
		c.add(g, s, 1)
		m := moveCandidate{unit: u, from: s}
		for t := 0; t < ns; t++ {
			if r.IntN(2) == 0 {
				m.to = append(m.to, t)
			}
		}
		cands = append(cands, m)
	}
	return g, c, cands
}

// TestBestMoveMatchesBruteForce: the incremental DMEXCLP gains pick a move
// whose gain, evaluated by the total expected coverage before and after,
// is the best any single move reaches (and none when none gains).
func TestBestMoveMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for n := 0; n < 3000; n++ {
		g, c, cands := randomCover(r)
		q := r.Float64() * 0.95
		minGain := 0.0
		if n%3 == 0 {
			minGain = r.Float64() * 20
		}
		got, ok := bestMove(g, c, cands, q, minGain)
		want, wantOK := bruteBestMove(g, c, cands, q, minGain)
		if ok != wantOK || (ok && math.Abs(got.gain-want.gain) > 1e-6) {
			t.Fatalf("case %d: bestMove %+v %v, brute force %+v %v", n, got, ok, want, wantOK)
		}
		if ok { // the chosen move really gains that much
			before := coverValue(g, c.k, q)
			c.add(g, got.from, -1)
			c.add(g, got.to, 1)
			after := coverValue(g, c.k, q)
			c.add(g, got.to, -1)
			c.add(g, got.from, 1)
			if math.Abs(after-before-got.gain) > 1e-6 {
				t.Fatalf("case %d: move %+v claims %.6f, adds %.6f", n, got, got.gain, after-before)
			}
		}
	}
}

// TestBestStationMatchesBruteForce: the station where one more unit adds
// the most, by the incremental gain and by total coverage.
func TestBestStationMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for n := 0; n < 3000; n++ {
		g, c, _ := randomCover(r)
		q := r.Float64() * 0.95
		allowed := []int{}
		for s := range g.covers {
			if r.IntN(2) == 0 {
				allowed = append(allowed, s)
			}
		}
		got, gain := bestStation(g, c, allowed, q)
		best, bestGain := -1, math.Inf(-1)
		before := coverValue(g, c.k, q)
		for _, s := range allowed {
			c.add(g, s, 1)
			if v := coverValue(g, c.k, q) - before; v > bestGain+1e-9 {
				best, bestGain = s, v
			}
			c.add(g, s, -1)
		}
		if (got < 0) != (best < 0) || (got >= 0 && math.Abs(gain-bestGain) > 1e-6) {
			t.Fatalf("case %d: bestStation %d (%.6f), brute force %d (%.6f)", n, got, gain, best, bestGain)
		}
	}
}
