package drill

import (
	"math"
	"slices"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/geo"
)

// ETAReport is how well the engine predicted its units' travel times: the
// absolute percentage error |predicted - actual| / actual of every trip to
// a scene (dispatch.Trip: en route to on scene), as medians in percent.
type ETAReport struct {
	// Truth is how units moved (Config.Truth); Learning whether the engine
	// learned from the trips; KnowTruth whether it knew the truth.
	Truth     string `json:"truth"`
	Learning  bool   `json:"learning"`
	KnowTruth bool   `json:"know_truth,omitempty"`
	// Spread is the truth's per-trip spread (TruthConfig.Spread).
	Spread float64 `json:"spread,omitempty"`
	// Trips arrived, of which Learned passed the filter and Bad did not.
	Trips   int `json:"trips"`
	Learned int `json:"learned"`
	Bad     int `json:"bad"`
	// MAPE... are median absolute percentage errors: all trips, the first
	// 7 days', the last 30 days', and each 30 days' from the first call.
	MAPEAll       float64   `json:"mape_all"`
	MAPEFirstWeek float64   `json:"mape_first_week"`
	MAPELastMonth float64   `json:"mape_last_month"`
	MAPEMonthly   []float64 `json:"mape_monthly,omitempty"`
	// BySource counts the trips by the source of their prediction.
	BySource []Count `json:"by_source,omitempty"`
}

type etaObs struct {
	at  int64
	ape float32
	src geo.Source
}

// trip records one arrived trip.
func (c *collector) trip(t *dispatch.Trip) {
	c.tripsBad += b2i(t.Bad != "")
	c.tripsLearned += b2i(t.Learned)
	if !(t.ActualS > 0) {
		return
	}
	c.etas = append(c.etas, etaObs{at: t.Arrive.UnixNano(), ape: float32(math.Abs(t.PredictedS-t.ActualS) / t.ActualS), src: t.Source})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// etaReport summarises the trips; nil when there were none.
func (c *collector) etaReport(cfg Config) *ETAReport {
	if len(c.etas) == 0 && c.tripsBad == 0 {
		return nil
	}
	truth := cfg.Truth
	if truth == "" {
		truth = TruthModel
	}
	r := &ETAReport{Truth: truth, Learning: !cfg.Rank.NoLearn, KnowTruth: cfg.KnowTruth, Trips: len(c.etas),
		Learned: c.tripsLearned, Bad: c.tripsBad}
	if c.d.truth != nil {
		r.Spread = c.d.truth.Spread()
	}
	med := func(from, to int64) float64 {
		var xs []float64
		for _, e := range c.etas {
			if e.at >= from && e.at < to {
				xs = append(xs, float64(e.ape))
			}
		}
		if len(xs) == 0 {
			return 0
		}
		slices.Sort(xs)
		return math.Round(xs[(len(xs)-1)/2]*1000) / 10
	}
	const week, month = 7 * dayNs, 30 * dayNs
	end := c.last + 1
	r.MAPEAll = med(math.MinInt64, math.MaxInt64)
	r.MAPEFirstWeek = med(c.start, c.start+week)
	r.MAPELastMonth = med(end-month, end)
	for t := c.start; t < end; t += month {
		r.MAPEMonthly = append(r.MAPEMonthly, med(t, t+month))
	}
	n := map[geo.Source]int{}
	for _, e := range c.etas {
		n[e.src]++
	}
	for _, s := range []geo.Source{geo.SourceModel, geo.SourceLearned, geo.SourceMatrix, geo.SourceOverride} {
		if n[s] > 0 {
			r.BySource = append(r.BySource, Count{Key: s.String(), N: n[s]})
		}
	}
	return r
}
