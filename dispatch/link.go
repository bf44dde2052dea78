package dispatch

import (
	"math"
	"time"

	"github.com/zs110/dispatch/geo"
)

// linkIndex finds an open incident of the same type family near a new call
// (within radius metres and window of reported_at): duplicate calls about
// one event. It is a spatial hash of cells at least radius wide, so a match
// lies in the 3x3 block of cells around the call.
type linkIndex struct {
	radius  float64
	window  time.Duration
	cellLat float64 // degrees of latitude per cell
	buckets map[[2]int32][]linkEntry
	newest  time.Time
	n       int
}

type linkEntry struct {
	id     string
	family string
	p      geo.Point
	at     time.Time
}

func newLinkIndex(radiusM float64, window time.Duration) *linkIndex {
	li := &linkIndex{radius: radiusM, window: window, buckets: map[[2]int32][]linkEntry{}}
	if radiusM > 0 {
		li.cellLat = radiusM / 111_000 // a degree of latitude is at least 110.5 km
	}
	return li
}

// key returns the cell of p. Longitude cells are as wide in degrees as
// latitude cells, so they are narrower than radius in metres away from the
// equator; find widens its search by 1/cos(lat) to compensate.
func (li *linkIndex) key(p geo.Point) [2]int32 {
	return [2]int32{int32(math.Floor(p.Lat / li.cellLat)), int32(math.Floor(p.Lng / li.cellLat))}
}

func (li *linkIndex) add(rec *IncidentRecord, family string) {
	if li.radius <= 0 || !rec.HasLocation {
		return
	}
	p := pointOf(rec.Lat, rec.Lng)
	k := li.key(p)
	li.buckets[k] = append(li.buckets[k], linkEntry{id: rec.ID, family: family, p: p, at: rec.ReportedAt})
	if rec.ReportedAt.After(li.newest) {
		li.newest = rec.ReportedAt
	}
	li.n++
	if li.n > 4096 && li.n&4095 == 0 {
		li.prune()
	}
}

func (li *linkIndex) remove(id string, rec *IncidentRecord) {
	if li.radius <= 0 || !rec.HasLocation {
		return
	}
	k := li.key(pointOf(rec.Lat, rec.Lng))
	b := li.buckets[k]
	for i := range b {
		if b[i].id == id {
			b[i] = b[len(b)-1]
			b = b[:len(b)-1]
			li.n--
			break
		}
	}
	if len(b) == 0 {
		delete(li.buckets, k)
	} else {
		li.buckets[k] = b
	}
}

// prune drops entries far older than the window of the newest call.
func (li *linkIndex) prune() {
	cut := li.newest.Add(-2 * li.window)
	for k, b := range li.buckets {
		j := 0
		for _, e := range b {
			if e.at.After(cut) {
				b[j] = e
				j++
			}
		}
		li.n -= len(b) - j
		if j == 0 {
			delete(li.buckets, k)
		} else {
			li.buckets[k] = b[:j]
		}
	}
}

// find returns the nearest entry of the same family within radius and
// window of (p, at), ties broken by id; nil when none.
func (li *linkIndex) find(p geo.Point, at time.Time, family string) *linkEntry {
	if li.radius <= 0 {
		return nil
	}
	k := li.key(p)
	cos := math.Cos(p.Lat * math.Pi / 180)
	span := int32(1)
	if cos > 0 {
		span = int32(math.Ceil(1 / cos))
	}
	if span > 64 {
		span = 64
	}
	var best *linkEntry
	bestD := math.Inf(1)
	for dl := int32(-1); dl <= 1; dl++ {
		for dg := -span; dg <= span; dg++ {
			b := li.buckets[[2]int32{k[0] + dl, k[1] + dg}]
			for i := range b {
				en := &b[i]
				if en.family != family {
					continue
				}
				dt := at.Sub(en.at)
				if dt < 0 {
					dt = -dt
				}
				if dt > li.window {
					continue
				}
				d := geo.DistanceM(p, en.p)
				if d > li.radius {
					continue
				}
				if d < bestD || (d == bestD && best != nil && en.id < best.id) {
					best, bestD = en, d
				}
			}
		}
	}
	return best
}
