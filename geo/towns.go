package geo

import (
	"errors"
	"fmt"
	"math"
)

// DefaultTownRadiusM is how far from every town centre a point may be and
// still be inside the city.
const DefaultTownRadiusM = 12000

// Towns locates points in the city's towns. The town of a point is the one
// whose centre is nearest (the Voronoi cells of the town centres): an
// approximation of the real boundaries, which the scenario does not carry.
// A point farther than the radius from every centre is outside the city.
type Towns struct {
	towns  []Town
	radius float64
	cos    []float64
}

// NewTowns builds the locator; radiusM 0 means DefaultTownRadiusM.
func NewTowns(towns []Town, radiusM float64) (*Towns, error) {
	if len(towns) == 0 {
		return nil, errors.New("towns: none")
	}
	if radiusM == 0 {
		radiusM = DefaultTownRadiusM
	}
	t := &Towns{towns: append([]Town(nil), towns...), radius: radiusM}
	for _, tw := range towns {
		if err := tw.Center.Validate(); err != nil {
			return nil, fmt.Errorf("town %s: %w", tw.Code, err)
		}
		t.cos = append(t.cos, math.Cos(tw.Center.Lat*math.Pi/180))
	}
	return t, nil
}

// All returns the towns.
func (t *Towns) All() []Town { return t.towns }

// Locate returns the code of the town whose centre is nearest to p; ok is
// false when p is outside the city (farther than the radius from every
// centre). Ties go to the town listed first.
func (t *Towns) Locate(p Point) (code string, ok bool) {
	best, bestD := -1, math.Inf(1)
	for i := range t.towns {
		d := DistanceM(p, t.towns[i].Center)
		if d < bestD {
			best, bestD = i, d
		}
	}
	if best < 0 || bestD > t.radius {
		return "", false
	}
	return t.towns[best].Code, true
}

// Bounds returns the bounding box of the town centres widened by the radius.
func (t *Towns) Bounds() (min, max Point) {
	min = Point{Lat: 90, Lng: 180}
	max = Point{Lat: -90, Lng: -180}
	for _, tw := range t.towns {
		min.Lat, min.Lng = math.Min(min.Lat, tw.Center.Lat), math.Min(min.Lng, tw.Center.Lng)
		max.Lat, max.Lng = math.Max(max.Lat, tw.Center.Lat), math.Max(max.Lng, tw.Center.Lng)
	}
	dLat := t.radius / 111000
	dLng := dLat / math.Max(0.1, math.Cos(min.Lat*math.Pi/180))
	return Point{min.Lat - dLat, min.Lng - dLng}, Point{max.Lat + dLat, max.Lng + dLng}
}
