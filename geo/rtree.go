package geo

import (
	"math"

	"github.com/tidwall/rtree"
)

// RTreeIndex is the R-tree baseline (github.com/tidwall/rtree) with the same
// exact Nearest as H3Index: a best-first walk in order of a great-circle
// lower bound to each box, stopped when the bound exceeds the k-th best cost.
type RTreeIndex struct {
	tr      rtree.RTreeGN[float64, int32]
	pos     []Point
	present []bool
}

// NewRTreeIndex returns an empty R-tree index.
func NewRTreeIndex() *RTreeIndex { return &RTreeIndex{} }

func pt(p Point) [2]float64 { return [2]float64{p.Lng, p.Lat} }

// Set implements PointIndex; the class is not used.
func (r *RTreeIndex) Set(id int32, p Point, _ uint32) {
	for int(id) >= len(r.pos) {
		r.pos = append(r.pos, Point{})
		r.present = append(r.present, false)
	}
	if r.present[id] {
		r.tr.Delete(pt(r.pos[id]), pt(r.pos[id]), id)
	}
	r.tr.Insert(pt(p), pt(p), id)
	r.pos[id], r.present[id] = p, true
}

// Remove implements PointIndex.
func (r *RTreeIndex) Remove(id int32) {
	if int(id) < len(r.present) && r.present[id] {
		r.tr.Delete(pt(r.pos[id]), pt(r.pos[id]), id)
		r.present[id] = false
	}
}

// Len implements PointIndex.
func (r *RTreeIndex) Len() int { return r.tr.Len() }

// boxLowerBoundM is a lower bound of the great-circle distance from q to any
// point of the lat/lng box: with haversine h = sin²(Δφ/2) + cosφ1·cosφ2·sin²(Δλ/2),
// Δφ and Δλ are at least their gaps to the box, and cosφ2 at least its
// smallest value over the box's latitudes.
func boxLowerBoundM(q Point, min, max [2]float64) float64 {
	const rad = math.Pi / 180
	dLat := 0.0
	if q.Lat < min[1] {
		dLat = min[1] - q.Lat
	} else if q.Lat > max[1] {
		dLat = q.Lat - max[1]
	}
	dLng := 0.0
	if q.Lng < min[0] {
		dLng = min[0] - q.Lng
	} else if q.Lng > max[0] {
		dLng = q.Lng - max[0]
	}
	if dLng > 180 {
		dLng = 360 - dLng
	}
	cosMin := math.Min(math.Cos(min[1]*rad), math.Cos(max[1]*rad))
	if min[1] <= 0 && max[1] >= 0 {
		cosMin = math.Min(cosMin, 1)
	}
	s1 := math.Sin(dLat * rad / 2)
	s2 := math.Sin(dLng * rad / 2)
	h := s1*s1 + math.Max(0, math.Cos(q.Lat*rad)*cosMin)*s2*s2
	if h > 1 {
		h = 1
	}
	d := 2 * EarthRadiusM * math.Asin(math.Sqrt(h))
	return d - 1e-9*d - 1e-6
}

// Nearest implements PointIndex.
func (r *RTreeIndex) Nearest(q Point, k int, lbPerM float64, cost CostFunc, dst []Hit) []Hit {
	if k <= 0 {
		return dst[:0]
	}
	top := topK{k: k, hits: dst[:0]}
	r.tr.Nearby(
		func(min, max [2]float64, id int32, item bool) float64 {
			if item {
				return DistanceM(q, r.pos[id])
			}
			return boxLowerBoundM(q, min, max)
		},
		func(_, _ [2]float64, id int32, dist float64) bool {
			if top.full() && (dist-1e-9*dist-1e-6)*lbPerM > top.worst() {
				return false
			}
			if cs, ok := cost(id, dist); ok {
				top.push(Hit{ID: id, DistM: dist, Cost: cs})
			}
			return true
		},
	)
	return top.hits
}
