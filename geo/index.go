package geo

import (
	"math"
)

// Hit is one item found by Nearest.
type Hit struct {
	ID    int32
	DistM float64
	Cost  float64
}

// CostFunc gives the cost of item id at great-circle distance distM from the
// query, or ok=false to skip the item. The caller guarantees
// cost >= distM * lbCostPerMetre, and that items set with the same class at
// the same point get the same cost (or are skipped): H3Index prices such a
// stack once and then only breaks the tie by id.
type CostFunc func(id int32, distM float64) (cost float64, ok bool)

// PointIndex is a set of points identified by dense int32 ids with an exact
// k-best search. H3Index, BruteIndex and RTreeIndex implement it and give
// the same answers.
type PointIndex interface {
	// Set inserts id at p with class class, or moves it there. Items of one
	// class at one point must get the same cost from every CostFunc (see
	// CostFunc); a caller that cannot promise that gives every item its own
	// class.
	Set(id int32, p Point, class uint32)
	// Remove deletes id; removing an absent id does nothing.
	Remove(id int32)
	// Len returns the number of items.
	Len() int
	// Nearest appends to dst[:0] the k items of least cost, sorted by
	// (Cost, ID). It is exact: no item left out has a smaller cost, or the
	// same cost and a smaller id.
	Nearest(q Point, k int, lbCostPerMetre float64, cost CostFunc, dst []Hit) []Hit
}

// topK keeps the k best hits sorted by (Cost, ID).
type topK struct {
	k    int
	hits []Hit
	hmax float64 // haversine term of the distance bound of the k-th best cost (H3Index)
}

func less(a, b Hit) bool { return a.Cost < b.Cost || (a.Cost == b.Cost && a.ID < b.ID) }

func (t *topK) full() bool { return len(t.hits) == t.k }

// worst returns the k-th best cost, +Inf while fewer than k are known.
func (t *topK) worst() float64 {
	if len(t.hits) < t.k {
		return math.Inf(1)
	}
	return t.hits[len(t.hits)-1].Cost
}

// push offers h and reports whether it was kept.
func (t *topK) push(h Hit) bool {
	n := len(t.hits)
	if n == t.k {
		if !less(h, t.hits[n-1]) {
			return false
		}
		n--
		t.hits = t.hits[:n]
	}
	t.hits = append(t.hits, h)
	for i := n; i > 0 && less(t.hits[i], t.hits[i-1]); i-- {
		t.hits[i], t.hits[i-1] = t.hits[i-1], t.hits[i]
	}
	return true
}

// ResolutionFor returns the H3 resolution at which n items spread over
// areaM2 put about two items in a cell (between 3 and 12).
func ResolutionFor(n int, areaM2 float64) int {
	best, bestErr := 8, math.Inf(1)
	for r := 3; r <= 12; r++ {
		per := float64(n) * CellAreaM2(r) / areaM2
		if e := math.Abs(math.Log(per / 2)); e < bestErr {
			best, bestErr = r, e
		}
	}
	return best
}

// ResolutionsFor returns the resolutions an H3Index of up to n items over
// areaM2 should keep, finest first: ResolutionFor(n, areaM2), then every
// second coarser one down to about four cells over the whole area, at most
// MaxLevels. Items stacked on few points (units waiting at their stations)
// are then searched at a coarse level, items spread out at a fine one.
func ResolutionsFor(n int, areaM2 float64) []int {
	fine := ResolutionFor(n, areaM2)
	coarse := ResolutionFor(8, areaM2)
	out := []int{fine}
	for r := fine - 2; r >= coarse && len(out) < MaxLevels; r -= 2 {
		out = append(out, r)
	}
	return out
}

// BruteIndex is the oracle: a linear scan over every item.
type BruteIndex struct {
	pos     []Point
	present []bool
	n       int
}

// NewBruteIndex returns an empty brute-force index.
func NewBruteIndex() *BruteIndex { return &BruteIndex{} }

// Set implements PointIndex; the class is not used.
func (b *BruteIndex) Set(id int32, p Point, _ uint32) {
	for int(id) >= len(b.pos) {
		b.pos = append(b.pos, Point{})
		b.present = append(b.present, false)
	}
	if !b.present[id] {
		b.n++
	}
	b.pos[id], b.present[id] = p, true
}

// Remove implements PointIndex.
func (b *BruteIndex) Remove(id int32) {
	if int(id) < len(b.present) && b.present[id] {
		b.present[id] = false
		b.n--
	}
}

// Len implements PointIndex.
func (b *BruteIndex) Len() int { return b.n }

// Nearest implements PointIndex.
func (b *BruteIndex) Nearest(q Point, k int, _ float64, cost CostFunc, dst []Hit) []Hit {
	if k <= 0 {
		return dst[:0]
	}
	top := topK{k: k, hits: dst[:0]}
	for id, ok := range b.present {
		if !ok {
			continue
		}
		d := DistanceM(q, b.pos[id])
		if cs, ok := cost(int32(id), d); ok {
			top.push(Hit{ID: int32(id), DistM: d, Cost: cs})
		}
	}
	return top.hits
}
