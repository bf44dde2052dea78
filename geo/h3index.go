package geo

import (
	"fmt"
	"math"
	"slices"

	"github.com/uber/h3-go/v4"
)

// MaxLevels is the most resolutions one H3Index keeps.
const MaxLevels = 4

// IndexConfig configures an H3Index.
type IndexConfig struct {
	// Resolutions of the H3 cells the index keeps (each 0-15, distinct),
	// finest first. Default {8}. See ResolutionsFor.
	Resolutions []int
	// AreaM2 is the area the items are spread over. Nearest searches at the
	// kept resolution where the distinct positions of the items would put
	// about two in a cell if they were spread over it. 0: always the finest.
	AreaM2 float64
	// Cells, when set, is shared by several indices queried from the same
	// point (one per capability): the query's cell is computed once per
	// resolution. Default: each index has its own.
	Cells *CellCache
}

// CellCache remembers the cells of the last point asked for at each
// resolution (an H3 lookup through cgo costs about a microsecond).
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

// H3Index is an exact point index over H3 cells.
//
// Items at the same point with the same class form a spot; a spot is priced
// once per search (one distance, one cost) and only its ids are then
// compared, so a station with hundreds of units waiting costs about as much
// as one unit. Spots are kept in cell buckets at every configured
// resolution (at most MaxLevels); a search runs at the one that suits the
// current number of spots: coarse while units wait at a few stations, fine
// once they are spread out. Set and Remove are O(1) (amortized, as map
// inserts are): an append or swap-delete in the spot, plus, when an item
// starts or ends a spot, one map update per resolution and the H3 cells of
// the new point (cgo, shared through the CellCache).
//
// Nearest expands grid rings around the query's cell and stops only when no
// item in an unexplored ring can beat the k-th best found: for a query q in
// cell o, every point of a cell at grid distance >= k is at least
// LB(k) = min over ring-k cells c of (dist(centre_o, centre_c) - R_c) - dist(q, centre_o)
// away (R_c the cell's circumradius), because a great-circle path leaving the
// disk of radius k-1 crosses a ring-k cell. LB per origin cell is cached.
// When walking rings would cost more than scanning every spot, it scans.
// It is not safe for concurrent use.
type H3Index struct {
	res     []int
	cellM2  []float64 // average cell area per level
	area    float64
	spotOf  []int32 // item -> index in spots; -1 = absent
	slotOf  []int32 // item -> position in its spot's ids
	spots   []spot
	free    []int32 // empty entries of spots
	byKey   map[spotKey]int32
	buckets [MaxLevels]map[Cell][]int32 // spot indices by cell, per level
	n       int                         // items
	live    int                         // spots with items
	lvLive  int                         // live when lv was chosen
	lv      int                         // search level for lvLive spots
	rings   map[Cell]*ringCache
	info    map[Cell]cellInfo
	cells   *CellCache
}

// spot is the items of one class at one point.
type spot struct {
	p     Point
	t     trig
	class uint32
	ids   []int32
	cell  [MaxLevels]Cell
	slot  [MaxLevels]int32 // position in the cell's bucket, per level
}

type spotKey struct {
	p     Point
	class uint32
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
	if len(cfg.Resolutions) == 0 {
		cfg.Resolutions = []int{8}
	}
	if len(cfg.Resolutions) > MaxLevels {
		return nil, fmt.Errorf("index: %d resolutions, at most %d", len(cfg.Resolutions), MaxLevels)
	}
	for i, r := range cfg.Resolutions {
		if r < 0 || r > 15 {
			return nil, fmt.Errorf("index: resolution %d out of 0-15", r)
		}
		if slices.Contains(cfg.Resolutions[:i], r) {
			return nil, fmt.Errorf("index: resolution %d twice", r)
		}
	}
	if cfg.AreaM2 < 0 || math.IsNaN(cfg.AreaM2) || math.IsInf(cfg.AreaM2, 0) {
		return nil, fmt.Errorf("index: area %v", cfg.AreaM2)
	}
	if cfg.Cells == nil {
		cfg.Cells = &CellCache{}
	}
	ix := &H3Index{res: slices.Clone(cfg.Resolutions), area: cfg.AreaM2, byKey: map[spotKey]int32{},
		rings: map[Cell]*ringCache{}, info: map[Cell]cellInfo{}, cells: cfg.Cells, lvLive: -1}
	for l, r := range ix.res {
		ix.cellM2 = append(ix.cellM2, CellAreaM2(r))
		ix.buckets[l] = map[Cell][]int32{}
	}
	return ix, nil
}

// Resolutions returns the resolutions the index keeps, finest first.
func (ix *H3Index) Resolutions() []int { return slices.Clone(ix.res) }

// Len returns the number of items.
func (ix *H3Index) Len() int { return ix.n }

// Spots returns the number of distinct (point, class) stacks of items.
func (ix *H3Index) Spots() int { return ix.live }

// Set inserts id at p with class class, or moves it there.
func (ix *H3Index) Set(id int32, p Point, class uint32) {
	for int(id) >= len(ix.spotOf) {
		ix.spotOf = append(ix.spotOf, -1)
		ix.slotOf = append(ix.slotOf, 0)
	}
	if si := ix.spotOf[id]; si >= 0 {
		if sp := &ix.spots[si]; sp.p == p && sp.class == class {
			return
		}
		ix.unlink(id)
	}
	si := ix.spotFor(p, class)
	sp := &ix.spots[si]
	ix.spotOf[id], ix.slotOf[id] = si, int32(len(sp.ids))
	sp.ids = append(sp.ids, id)
	ix.n++
}

// Remove deletes id.
func (ix *H3Index) Remove(id int32) {
	if int(id) < len(ix.spotOf) && ix.spotOf[id] >= 0 {
		ix.unlink(id)
	}
}

// spotFor returns the spot of (p, class), creating it.
func (ix *H3Index) spotFor(p Point, class uint32) int32 {
	key := spotKey{p, class}
	if si, ok := ix.byKey[key]; ok {
		return si
	}
	var si int32
	if n := len(ix.free); n > 0 {
		si, ix.free = ix.free[n-1], ix.free[:n-1]
	} else {
		si = int32(len(ix.spots))
		ix.spots = append(ix.spots, spot{})
	}
	sp := &ix.spots[si]
	sp.p, sp.t, sp.class, sp.ids = p, trigOf(p), class, sp.ids[:0]
	for l, r := range ix.res {
		c := ix.cells.Of(p, r)
		b := ix.buckets[l][c]
		sp.cell[l], sp.slot[l] = c, int32(len(b))
		ix.buckets[l][c] = append(b, si)
	}
	ix.byKey[key] = si
	ix.live++
	return si
}

// unlink takes a present item out of its spot, and an emptied spot out of
// its buckets.
func (ix *H3Index) unlink(id int32) {
	si := ix.spotOf[id]
	sp := &ix.spots[si]
	i, last := ix.slotOf[id], sp.ids[len(sp.ids)-1]
	sp.ids[i], ix.slotOf[last] = last, i
	sp.ids = sp.ids[:len(sp.ids)-1]
	ix.spotOf[id] = -1
	ix.n--
	if len(sp.ids) > 0 {
		return
	}
	for l := range ix.res {
		c := sp.cell[l]
		b := ix.buckets[l][c]
		j, lastSpot := sp.slot[l], b[len(b)-1]
		b[j], ix.spots[lastSpot].slot[l] = lastSpot, j
		if b = b[:len(b)-1]; len(b) == 0 {
			delete(ix.buckets[l], c)
		} else {
			ix.buckets[l][c] = b
		}
	}
	delete(ix.byKey, spotKey{sp.p, sp.class})
	ix.free = append(ix.free, si)
	ix.live--
}

// level returns the level to search at: the one whose cells would hold
// about two spots each if the spots were spread over the area.
func (ix *H3Index) level() int {
	if ix.live == ix.lvLive {
		return ix.lv
	}
	best, bestErr := 0, math.Inf(1)
	if ix.area > 0 {
		for l := range ix.res {
			per := float64(ix.live) * ix.cellM2[l] / ix.area
			if e := math.Abs(math.Log(per / 2)); e < bestErr {
				best, bestErr = l, e
			}
		}
	}
	ix.lv, ix.lvLive = best, ix.live
	return best
}

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
	// Scanning costs about one step per spot; walking r rings about 3r² cells.
	if ix.live <= 24 {
		return ix.scan(qt, &top, lbPerM, cost)
	}
	l := ix.level()
	buckets := ix.buckets[l]
	o := ix.cells.Of(q, ix.res[l])
	budget := ix.live + 32
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
			for _, si := range buckets[c] {
				ix.visit(qt, &ix.spots[si], &top, lbPerM, cost)
			}
		}
		visited += len(rc.rings[r])
	}
}

// visit offers the items of one spot to top. Once top is full, a spot whose
// distance alone puts its cost above the k-th best is skipped before the
// costly part of haversine (asin). The spot's cost is asked of the first
// item not skipped by cost; after that an item is asked only if its id
// can still beat the k-th best at that cost.
func (ix *H3Index) visit(qt trig, sp *spot, top *topK, lbPerM float64, cost CostFunc) {
	if top.full() && lbPerM > 0 {
		// sin x >= x - x³/6 on [0, pi/2]: a lower bound of h without sin.
		a := math.Abs(sp.t.latR-qt.latR) / 2
		b := math.Abs(sp.t.lng-qt.lng) * rad / 2
		if b <= math.Pi/2 {
			sa, sb := a-a*a*a/6, b-b*b*b/6
			if sa*sa+qt.cos*sp.t.cos*sb*sb > top.hmax {
				return
			}
		}
	}
	h := havH(qt, sp.t)
	if top.full() && lbPerM > 0 && h > top.hmax {
		return
	}
	d := hToM(h)
	priced := false
	var c float64
	for _, id := range sp.ids {
		if priced && top.full() {
			w := &top.hits[len(top.hits)-1]
			if c > w.Cost {
				return
			}
			if c == w.Cost && id >= w.ID {
				continue
			}
		}
		cs, ok := cost(id, d)
		if !ok {
			continue
		}
		c, priced = cs, true
		if top.push(Hit{ID: id, DistM: d, Cost: cs}) && top.full() && lbPerM > 0 {
			w := top.worst() / lbPerM
			top.hmax = mToH(w+1e-9*w+1e-6) * (1 + 1e-9)
		}
	}
}

// scan is the exact fallback: every spot.
func (ix *H3Index) scan(qt trig, top *topK, lbPerM float64, cost CostFunc) []Hit {
	top.hits = top.hits[:0]
	top.hmax = 0
	for i := range ix.spots {
		if sp := &ix.spots[i]; len(sp.ids) > 0 {
			ix.visit(qt, sp, top, lbPerM, cost)
		}
	}
	return top.hits
}
