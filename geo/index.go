package geo

import (
	"fmt"
	"math"

	"github.com/uber/h3-go/v4"
)

// Hit is one item found by Nearest.
type Hit struct {
	ID    int32
	DistM float64
	Cost  float64
}

// CostFunc gives the cost of item id at great-circle distance distM from the
// query, or ok=false to skip the item. The caller guarantees
// cost >= distM * lbCostPerMetre.
type CostFunc func(id int32, distM float64) (cost float64, ok bool)

// PointIndex is a set of points identified by dense int32 ids with an exact
// k-best search. H3Index, BruteIndex and RTreeIndex implement it and give
// the same answers.
type PointIndex interface {
	// Set inserts id at p, or moves it there.
	Set(id int32, p Point)
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

// IndexConfig configures an H3Index.
type IndexConfig struct {
	// Resolution of the H3 cells, 0-15. Default 8 (about 0.74 km² a cell).
	// Choose it so that a cell holds a few items: see ResolutionFor.
	Resolution int
	// Cells, when set, is shared by several indices queried from the same
	// point (one per capability): the query's cell is computed once per
	// resolution. Default: each index has its own.
	Cells *CellCache
}

// CellCache remembers the cells of the last query point at each resolution.
// It is not safe for concurrent use.
type CellCache struct {
	q     Point
	cells [16]Cell
}

// Of returns the cell of p at res, computing it at most once per point.
func (c *CellCache) Of(p Point, res int) Cell {
	if p != c.q {
		c.q = p
		c.cells = [16]Cell{}
	}
	if c.cells[res] == 0 {
		c.cells[res] = CellOf(p, res)
	}
	return c.cells[res]
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

// H3Index is an exact point index over H3 cells. Set and Remove are O(1).
// Nearest expands grid rings around the query's cell and stops only when no
// item in an unexplored ring can beat the k-th best found: for a query q in
// cell o, every point of a cell at grid distance >= k is at least
// LB(k) = min over ring-k cells c of (dist(centre_o, centre_c) - R_c) - dist(q, centre_o)
// away (R_c the cell's circumradius), because a great-circle path leaving the
// disk of radius k-1 crosses a ring-k cell. LB per origin cell is cached.
// When walking rings would cost more than scanning every item, it scans.
// It is not safe for concurrent use.
type H3Index struct {
	res     int
	pos     []Point
	trig    []trig
	cell    []Cell
	slot    []int32 // position of the item in its bucket; -1 = absent
	buckets map[Cell][]int32
	n       int
	rings   map[Cell]*ringCache
	info    map[Cell]cellInfo
	cells   *CellCache
}

type ringCache struct {
	center Point
	rings  [][]Cell  // rings[k]: cells at grid distance k
	lb     []float64 // lb[k] = min over rings[k] of dist(centre_o, centre_c) - R_c
}

type cellInfo struct {
	center Point
	radius float64
}

// NewIndex returns an empty H3 index.
func NewIndex(cfg IndexConfig) (*H3Index, error) {
	if cfg.Resolution == 0 {
		cfg.Resolution = 8
	}
	if cfg.Resolution < 0 || cfg.Resolution > 15 {
		return nil, fmt.Errorf("index: resolution %d out of 0-15", cfg.Resolution)
	}
	if cfg.Cells == nil {
		cfg.Cells = &CellCache{}
	}
	return &H3Index{res: cfg.Resolution, buckets: map[Cell][]int32{}, rings: map[Cell]*ringCache{}, info: map[Cell]cellInfo{}, cells: cfg.Cells}, nil
}

// Resolution returns the index's H3 resolution.
func (ix *H3Index) Resolution() int { return ix.res }

func (ix *H3Index) grow(id int32) {
	for int(id) >= len(ix.slot) {
		ix.pos = append(ix.pos, Point{})
		ix.trig = append(ix.trig, trig{})
		ix.cell = append(ix.cell, 0)
		ix.slot = append(ix.slot, -1)
	}
}

// Set inserts id at p or moves it there.
func (ix *H3Index) Set(id int32, p Point) {
	ix.SetCell(id, p, CellOf(p, ix.res))
}

// SetCell is Set with the cell of p already known (at the index's
// resolution); it returns the item's previous cell (0 for an insert).
func (ix *H3Index) SetCell(id int32, p Point, c Cell) (old Cell) {
	ix.grow(id)
	old = ix.cell[id]
	if ix.slot[id] >= 0 {
		if old == c {
			ix.pos[id], ix.trig[id] = p, trigOf(p)
			return old
		}
		ix.unlink(id)
	} else {
		old = 0
	}
	b := ix.buckets[c]
	ix.slot[id] = int32(len(b))
	ix.buckets[c] = append(b, id)
	ix.pos[id], ix.trig[id], ix.cell[id] = p, trigOf(p), c
	ix.n++
	return old
}

func (ix *H3Index) unlink(id int32) {
	c := ix.cell[id]
	b := ix.buckets[c]
	i := ix.slot[id]
	last := b[len(b)-1]
	b[i] = last
	ix.slot[last] = i
	b = b[:len(b)-1]
	if len(b) == 0 {
		delete(ix.buckets, c)
	} else {
		ix.buckets[c] = b
	}
	ix.slot[id] = -1
	ix.n--
}

// Remove deletes id.
func (ix *H3Index) Remove(id int32) {
	if int(id) < len(ix.slot) && ix.slot[id] >= 0 {
		ix.unlink(id)
	}
}

// Len returns the number of items.
func (ix *H3Index) Len() int { return ix.n }

func (ix *H3Index) cellInfo(c Cell) cellInfo {
	if ci, ok := ix.info[c]; ok {
		return ci
	}
	// 0.1 % + 1 m of slack covers rounding in H3's projection and in haversine.
	ci := cellInfo{center: c.Center(), radius: c.circumradius()*1.001 + 1}
	ix.info[c] = ci
	return ci
}

// ringsOf returns the cached rings around o, computed out to at least k.
// A ring distorted by a pentagon (fewer than 6r cells) and every ring after
// it get lb = -1: the caller then falls back to a scan, which is exact.
func (ix *H3Index) ringsOf(o Cell, k int) *ringCache {
	rc := ix.rings[o]
	if rc == nil {
		rc = &ringCache{center: ix.cellInfo(o).center}
		ix.rings[o] = rc
	}
	if k < len(rc.rings) {
		return rc
	}
	want := max(k, 2*len(rc.rings), 4)
	dist := h3.GridDiskDistances(h3.Cell(o), want)
	rc.rings = rc.rings[:0]
	rc.lb = rc.lb[:0]
	broken := false
	for r, ring := range dist {
		cells := make([]Cell, 0, len(ring))
		lb := math.Inf(1)
		for _, c := range ring {
			if c == 0 {
				continue
			}
			cells = append(cells, Cell(c))
			ci := ix.cellInfo(Cell(c))
			lb = math.Min(lb, DistanceM(rc.center, ci.center)-ci.radius)
		}
		want := 6 * r
		if r == 0 {
			want = 1
		}
		if len(cells) != want {
			broken = true
		}
		if broken {
			lb = -1
		} else {
			lb = math.Max(lb, 0)
		}
		rc.rings = append(rc.rings, cells)
		rc.lb = append(rc.lb, lb)
	}
	return rc
}

// Nearest implements PointIndex.
func (ix *H3Index) Nearest(q Point, k int, lbPerM float64, cost CostFunc, dst []Hit) []Hit {
	if k <= 0 || ix.n == 0 {
		return dst[:0]
	}
	top := topK{k: k, hits: dst[:0]}
	qt := trigOf(q)
	// Scanning every item costs about n; walking r rings costs about 3r² cells.
	if ix.n <= 48 {
		return ix.scan(qt, &top, lbPerM, cost)
	}
	o := ix.cells.Of(q, ix.res)
	budget := ix.n + 32
	visited := 0
	var rc *ringCache
	var dq float64
	for r := 0; ; r++ {
		if visited+max(6*r, 1) > budget {
			return ix.scan(qt, &top, lbPerM, cost)
		}
		if rc == nil || r >= len(rc.rings) {
			rc = ix.ringsOf(o, r)
			dq = DistanceM(q, rc.center)
		}
		if rc.lb[r] < 0 {
			return ix.scan(qt, &top, lbPerM, cost)
		}
		if r > 0 && top.full() {
			lb := rc.lb[r] - dq
			lb -= 1e-9*math.Abs(lb) + 1e-6 // float slack: never stop early
			if lb*lbPerM > top.worst() {
				return top.hits
			}
		}
		for _, c := range rc.rings[r] {
			for _, id := range ix.buckets[c] {
				ix.consider(qt, id, &top, lbPerM, cost)
			}
		}
		visited += len(rc.rings[r])
	}
}

// consider offers item id to top. Once top is full, an item whose distance
// alone puts its cost above the k-th best is skipped before the costly part
// of haversine (asin) and the cost function.
func (ix *H3Index) consider(qt trig, id int32, top *topK, lbPerM float64, cost CostFunc) {
	it := &ix.trig[id]
	if top.full() && lbPerM > 0 {
		// sin x >= x - x³/6 on [0, pi/2]: a lower bound of h without sin.
		a := math.Abs(it.latR-qt.latR) / 2
		b := math.Abs(it.lng-qt.lng) * rad / 2
		if b <= math.Pi/2 {
			sa, sb := a-a*a*a/6, b-b*b*b/6
			if sa*sa+qt.cos*it.cos*sb*sb > top.hmax {
				return
			}
		}
	}
	h := havH(qt, *it)
	if top.full() && lbPerM > 0 && h > top.hmax {
		return
	}
	d := hToM(h)
	if cs, ok := cost(id, d); ok && top.push(Hit{ID: id, DistM: d, Cost: cs}) && top.full() && lbPerM > 0 {
		w := top.worst() / lbPerM
		top.hmax = mToH(w+1e-9*w+1e-6) * (1 + 1e-9)
	}
}

// scan is the exact fallback: every item.
func (ix *H3Index) scan(qt trig, top *topK, lbPerM float64, cost CostFunc) []Hit {
	top.hits = top.hits[:0]
	top.hmax = 0
	for _, b := range ix.buckets {
		for _, id := range b {
			ix.consider(qt, id, top, lbPerM, cost)
		}
	}
	return top.hits
}

// BruteIndex is the oracle: a linear scan over every item.
type BruteIndex struct {
	pos     []Point
	present []bool
	n       int
}

// NewBruteIndex returns an empty brute-force index.
func NewBruteIndex() *BruteIndex { return &BruteIndex{} }

// Set implements PointIndex.
func (b *BruteIndex) Set(id int32, p Point) {
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
