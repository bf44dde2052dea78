package geo

import (
	"errors"
	"fmt"
	"math"
)

// EarthRadiusM is the mean Earth radius used for great-circle distances, in metres.
const EarthRadiusM = 6371008.8

// ErrBadPoint reports a coordinate that is NaN, infinite or out of range.
var ErrBadPoint = errors.New("invalid coordinates")

// Point is a WGS84 position in degrees.
type Point struct {
	Lat float64 `json:"lat" yaml:"lat"`
	Lng float64 `json:"lng" yaml:"lng"`
}

// Validate reports whether p is a usable coordinate: finite, latitude in
// [-90, 90] and longitude in [-180, 180].
func (p Point) Validate() error {
	if math.IsNaN(p.Lat) || math.IsNaN(p.Lng) || math.IsInf(p.Lat, 0) || math.IsInf(p.Lng, 0) {
		return fmt.Errorf("%w: not finite", ErrBadPoint)
	}
	if p.Lat < -90 || p.Lat > 90 {
		return fmt.Errorf("%w: lat %v out of range", ErrBadPoint, p.Lat)
	}
	if p.Lng < -180 || p.Lng > 180 {
		return fmt.Errorf("%w: lng %v out of range", ErrBadPoint, p.Lng)
	}
	return nil
}

// DistanceM returns the great-circle (haversine) distance between a and b in metres.
func DistanceM(a, b Point) float64 {
	const rad = math.Pi / 180
	la1, la2 := a.Lat*rad, b.Lat*rad
	dlat := la2 - la1
	dlng := (b.Lng - a.Lng) * rad
	s1 := math.Sin(dlat / 2)
	s2 := math.Sin(dlng / 2)
	h := s1*s1 + math.Cos(la1)*math.Cos(la2)*s2*s2
	if h > 1 {
		h = 1
	}
	return 2 * EarthRadiusM * math.Asin(math.Sqrt(h))
}
