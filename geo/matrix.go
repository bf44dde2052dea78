package geo

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// MatrixEntry is one travel time of an agency's table: from a cell or a
// town to a cell or a town, in an hour band or in all of them.
type MatrixEntry struct {
	// From and To are an H3 cell (hex index, every cell of the table at one
	// resolution) or a town code; both of one kind.
	From string `json:"from" yaml:"from"`
	To   string `json:"to" yaml:"to"`
	// Band is an hour band (BandNames: night, morning, day, evening_rush,
	// evening); "" for every band.
	Band string `json:"band,omitempty" yaml:"band,omitempty"`
	// Seconds is the travel time.
	Seconds float64 `json:"seconds" yaml:"seconds"`
}

// MatrixConfig is an agency's travel-time table (the scenario's
// travel_matrix, docs/scenario.md).
type MatrixConfig struct {
	Entries []MatrixEntry `json:"entries" yaml:"entries"`
}

// Matrix is a travel-time table: cell pairs (more specific) before town
// pairs. It is immutable.
type Matrix struct {
	res   int // resolution of the cell entries; -1: none
	cells map[TravelKey]float64
	towns map[[3]int16]float64
	tl    *Towns
	codes []string
}

// ErrMatrix is wrapped by every error of NewMatrix.
var ErrMatrix = errors.New("travel matrix")

// NewMatrix checks a table against the city's towns (they locate the
// points of town entries).
func NewMatrix(cfg MatrixConfig, towns *Towns) (*Matrix, error) {
	m := &Matrix{res: -1, cells: map[TravelKey]float64{}, towns: map[[3]int16]float64{}, tl: towns}
	if towns != nil {
		for _, t := range towns.All() {
			m.codes = append(m.codes, t.Code)
		}
	}
	for i, e := range cfg.Entries {
		if !(e.Seconds > 0) || math.IsInf(e.Seconds, 0) {
			return nil, fmt.Errorf("%w: entries[%d].seconds: must be positive, got %v", ErrMatrix, i, e.Seconds)
		}
		bands := []uint8{0, 1, 2, 3, 4}
		if e.Band != "" {
			b := slices.Index(BandNames[:], e.Band)
			if b < 0 {
				return nil, fmt.Errorf("%w: entries[%d].band: unknown band %q (%v)", ErrMatrix, i, e.Band, BandNames)
			}
			bands = []uint8{uint8(b)}
		}
		fc, okf := ParseCell(e.From)
		tc, okt := ParseCell(e.To)
		switch {
		case okf && okt:
			r := h3Res(fc)
			if r != h3Res(tc) || (m.res >= 0 && r != m.res) {
				return nil, fmt.Errorf("%w: entries[%d]: every cell of the table must have one resolution", ErrMatrix, i)
			}
			m.res = r
			for _, b := range bands {
				m.cells[TravelKey{From: fc, To: tc, Band: b}] = e.Seconds
			}
		case !okf && !okt:
			fi, ti := slices.Index(m.codes, e.From), slices.Index(m.codes, e.To)
			if fi < 0 || ti < 0 {
				return nil, fmt.Errorf("%w: entries[%d]: %q or %q is neither an H3 cell nor a town", ErrMatrix, i, e.From, e.To)
			}
			for _, b := range bands {
				m.towns[[3]int16{int16(fi), int16(ti), int16(b)}] = e.Seconds
			}
		default:
			return nil, fmt.Errorf("%w: entries[%d]: from and to must both be cells or both towns", ErrMatrix, i)
		}
	}
	return m, nil
}

// Len returns the number of (pair, band) entries.
func (m *Matrix) Len() int { return len(m.cells) + len(m.towns) }

func (m *Matrix) town(p Point) int16 {
	if m.tl == nil || len(m.towns) == 0 {
		return -1
	}
	code, ok := m.tl.Locate(p)
	if !ok {
		return -1
	}
	return int16(slices.Index(m.codes, code))
}

func (m *Matrix) lookup(a, b Place, band int) (float64, bool) {
	if len(m.cells) > 0 {
		if s, ok := m.cells[TravelKey{From: a.Matrix, To: b.Matrix, Band: uint8(band)}]; ok {
			return s, true
		}
	}
	if len(m.towns) > 0 && a.Town >= 0 && b.Town >= 0 {
		s, ok := m.towns[[3]int16{a.Town, b.Town, int16(band)}]
		return s, ok
	}
	return 0, false
}
