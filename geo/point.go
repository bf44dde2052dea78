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
func DistanceM(a, b Point) float64 { return hToM(havH(trigOf(a), trigOf(b))) }

const rad = math.Pi / 180

// trig holds the terms of a point that haversine needs, so an index can
// compute them once per item. DistanceM and the index use the same
// functions, so their distances are bit-identical.
type trig struct{ latR, cos, lng float64 }

func trigOf(p Point) trig {
	la := p.Lat * rad
	return trig{latR: la, cos: math.Cos(la), lng: p.Lng}
}

// havH is the haversine term h = sin²(Δφ/2) + cosφ1·cosφ2·sin²(Δλ/2).
func havH(a, b trig) float64 {
	s1 := math.Sin((b.latR - a.latR) / 2)
	s2 := math.Sin((b.lng - a.lng) * rad / 2)
	return s1*s1 + a.cos*b.cos*s2*s2
}

// hToM turns a haversine term into metres.
func hToM(h float64) float64 {
	if h > 1 {
		h = 1
	}
	return 2 * EarthRadiusM * math.Asin(math.Sqrt(h))
}

// mToH is the inverse of hToM for 0 <= d <= pi*R.
func mToH(d float64) float64 {
	if d >= math.Pi*EarthRadiusM {
		return 1
	}
	s := math.Sin(d / (2 * EarthRadiusM))
	return s * s
}
