package resources

import (
	"cmp"
	"slices"
)

// DepotOption is a depot that could supply an item: its time to deliver and
// what it has available.
type DepotOption struct {
	Depot     string
	EtaS      float64
	Available int
}

// Alloc is a quantity drawn from one depot.
type Alloc struct {
	Depot string
	Qty   int
	EtaS  float64
}

// Split divides a request for need items over depots so that the time until
// all of it has arrived (the largest EtaS of the depots used) is as small as
// possible. Among splits with that time it draws from the nearest depots
// first, so the answer is unique: depots sorted by (EtaS, Depot) and taken
// greedily. When the depots together hold less than need, everything
// available is allocated and missing is the rest: a shortfall is reported,
// never dropped. Allocs are sorted by (EtaS, Depot).
//
// Why greedy is optimal: any split with makespan T uses only depots with
// EtaS <= T, so it is feasible iff those depots hold at least need; the
// smallest such T is reached exactly when the nearest-first prefix first
// covers need.
func Split(need int, opts []DepotOption) (allocs []Alloc, missing int) {
	if need <= 0 {
		return nil, 0
	}
	sorted := make([]DepotOption, 0, len(opts))
	for _, o := range opts {
		if o.Available > 0 {
			sorted = append(sorted, o)
		}
	}
	slices.SortFunc(sorted, func(a, b DepotOption) int {
		if c := cmp.Compare(a.EtaS, b.EtaS); c != 0 {
			return c
		}
		return cmp.Compare(a.Depot, b.Depot)
	})
	left := need
	for _, o := range sorted {
		if left == 0 {
			break
		}
		q := min(o.Available, left)
		allocs = append(allocs, Alloc{Depot: o.Depot, Qty: q, EtaS: o.EtaS})
		left -= q
	}
	return allocs, left
}

// Makespan returns the time until every alloc has arrived.
func Makespan(allocs []Alloc) float64 {
	m := 0.0
	for _, a := range allocs {
		m = max(m, a.EtaS)
	}
	return m
}
