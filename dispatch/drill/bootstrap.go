package drill

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
)

// The bootstrap of Compare: resamples of the common days, drawn with a
// fixed seed so that a comparison is deterministic.
const (
	// BootstrapResamples is how many resamples of the days Compare draws.
	BootstrapResamples = 2000
	bootstrapSeed      = 20130305
)

// agg is a group of incidents over a multiset of days.
type agg struct {
	count, served, late int64
	sum, max            float64
	hist                [HistBins]int64
}

func (a *agg) reset() {
	a.count, a.served, a.late, a.sum, a.max = 0, 0, 0, 0, 0
	clear(a.hist[:])
}

// add counts group g w times.
func (a *agg) add(g *DayGroup, w int64) {
	if g == nil || w == 0 {
		return
	}
	a.count += w * int64(g.Count)
	a.served += w * int64(g.Served)
	a.late += w * int64(g.Late)
	a.sum += float64(w) * g.SumS
	if g.Served > 0 {
		a.max = max(a.max, g.MaxS)
	}
	for i, b := range g.Hist.Bins {
		a.hist[b] += w * int64(g.Hist.Counts[i])
	}
}

// quantile is the nearest-rank p-quantile of the served times, placed
// within its bin by linear interpolation (the times of a bin taken as
// spread evenly over it; the overflow bin up to the largest time), so that
// differences smaller than a bin still show: NaN when none was served.
func (a *agg) quantile(p float64) float64 {
	if a.served == 0 {
		return math.NaN()
	}
	rank := max(int64(math.Ceil(p*float64(a.served))), 1)
	var cum int64
	for b, n := range a.hist {
		if n == 0 {
			continue
		}
		if cum+n >= rank {
			lo, hi := HistBinRange(b)
			hi = min(hi, math.Max(a.max, lo))
			return lo + (hi-lo)*float64(rank-cum)/float64(n)
		}
		cum += n
	}
	return a.max
}

// stat is a figure of an aggregate.
type stat func(*agg) float64

func quantileStat(p float64) stat { return func(a *agg) float64 { return a.quantile(p) } }

func meanStat(a *agg) float64 {
	if a.served == 0 {
		return math.NaN()
	}
	return a.sum / float64(a.served)
}

func withinStat(a *agg) float64 {
	if a.count == 0 {
		return math.NaN()
	}
	return float64(a.count-a.late) / float64(a.count)
}

func countStat(a *agg) float64 { return float64(a.count) }

// daySeries is one run's group over the common days: by day, nil when the
// day has none. all: the union of the priorities.
type daySeries struct {
	days []*DayGroup
	all  [4][]*DayGroup
}

// scalar is a day figure of one run over a multiset of days: w[d] draws of
// day d.
type scalar func(w []int64) float64

// bootSpec is how a comparison row is recomputed on a resample: from a
// group's aggregate (stat of daySeries a and b) or from day figures.
type bootSpec struct {
	a, b   *daySeries
	stat   stat
	sa, sb scalar
}

// resampleDays draws the bootstrap's resamples of n days: w[r][d] is how
// many times resample r draws day d.
func resampleDays(n, resamples int) [][]int64 {
	rng := rand.New(rand.NewPCG(bootstrapSeed, uint64(n)))
	out := make([][]int64, resamples)
	for r := range out {
		w := make([]int64, n)
		for range n {
			w[rng.IntN(n)]++
		}
		out[r] = w
	}
	return out
}

// bootstrap computes, for each spec, the 95 % percentile interval of B - A
// over the resamples; ok is false where a figure was undefined in more than
// 5 % of the resamples. Specs sharing daySeries share their aggregates; the
// work is split over two goroutines by spec, so that the result does not
// depend on the schedule.
func bootstrap(specs []*bootSpec, weights [][]int64) (lo, hi []float64, ok []bool) {
	lo, hi, ok = make([]float64, len(specs)), make([]float64, len(specs)), make([]bool, len(specs))
	// group the specs by their pair of daySeries
	type key struct{ a, b *daySeries }
	groups := map[key][]int{}
	var order []key
	for i, s := range specs {
		if s == nil {
			continue
		}
		k := key{s.a, s.b}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	var wg sync.WaitGroup
	const workers = 2
	for wk := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var aa, ab agg
			diffs := make([][]float64, len(specs))
			for gi := wk; gi < len(order); gi += workers {
				k := order[gi]
				idx := groups[k]
				for _, i := range idx {
					diffs[i] = diffs[i][:0]
				}
				for _, w := range weights {
					if k.a != nil {
						k.a.aggregate(&aa, w)
						k.b.aggregate(&ab, w)
					}
					for _, i := range idx {
						s := specs[i]
						var x, y float64
						if s.stat != nil {
							x, y = s.stat(&aa), s.stat(&ab)
						} else {
							x, y = s.sa(w), s.sb(w)
						}
						if d := y - x; !math.IsNaN(d) && !math.IsInf(d, 0) {
							diffs[i] = append(diffs[i], d)
						}
					}
				}
				for _, i := range idx {
					d := diffs[i]
					if len(d) < len(weights)*95/100 || len(d) == 0 {
						continue
					}
					slices.Sort(d)
					lo[i], hi[i], ok[i] = d[int(0.025*float64(len(d)-1))], d[int(math.Ceil(0.975*float64(len(d)-1)))], true
				}
			}
		}()
	}
	wg.Wait()
	return lo, hi, ok
}

// aggregate sums the daySeries over the days drawn w times.
func (s *daySeries) aggregate(a *agg, w []int64) {
	a.reset()
	if s.days != nil {
		for d, n := range w {
			a.add(s.days[d], n)
		}
		return
	}
	for p := range s.all {
		for d, n := range w {
			a.add(s.all[p][d], n)
		}
	}
}
