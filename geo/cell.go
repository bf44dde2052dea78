package geo

import (
	"math"

	"github.com/uber/h3-go/v4"
)

// Cell is an H3 cell index.
type Cell uint64

// CellOf returns the H3 cell of resolution res containing p.
func CellOf(p Point, res int) Cell {
	return Cell(h3.LatLngToCell(h3.NewLatLng(p.Lat, p.Lng), res))
}

// String returns the H3 index in its usual hex form.
func (c Cell) String() string { return h3.Cell(c).String() }

// ParseCell parses an H3 index in hex form; ok is false when it is not a valid cell.
func ParseCell(s string) (c Cell, ok bool) {
	hc := h3.Cell(h3.IndexFromString(s))
	return Cell(hc), hc.IsValid()
}

// Center returns the centre of the cell.
func (c Cell) Center() Point {
	ll := h3.Cell(c).LatLng()
	return Point{Lat: ll.Lat, Lng: ll.Lng}
}

// Boundary returns the vertices of the cell.
func (c Cell) Boundary() []Point {
	b := h3.Cell(c).Boundary()
	out := make([]Point, len(b))
	for i, v := range b {
		out[i] = Point{Lat: v.Lat, Lng: v.Lng}
	}
	return out
}

// circumradius returns the largest distance from the cell's centre to any
// point of the cell (a vertex), in metres.
func (c Cell) circumradius() float64 {
	ctr := c.Center()
	r := 0.0
	for _, v := range c.Boundary() {
		r = math.Max(r, DistanceM(ctr, v))
	}
	return r
}

// CellAreaM2 returns the average area of a cell of resolution res in m².
func CellAreaM2(res int) float64 { return h3.HexagonAreaAvgM2(res) }

// Resolution returns the H3 resolution of the cell.
func (c Cell) Resolution() int { return h3.Cell(c).Resolution() }

func h3Res(c Cell) int { return c.Resolution() }
