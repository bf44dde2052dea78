package drill

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"text/tabwriter"
)

// Comparison puts two runs side by side: A is the baseline, B the change.
type Comparison struct {
	A string `json:"a"`
	B string `json:"b"`
	// Days is how many days both runs cover: the bootstrap resamples them
	// (0 when a report has no per-day data or they cover fewer than
	// MinBootstrapDays); Resamples how many times.
	Days      int          `json:"days"`
	Resamples int          `json:"resamples,omitempty"`
	Rows      []CompareRow `json:"rows"`
}

// Verdicts of a comparison row.
const (
	// VerdictBetter and VerdictWorse: B is better or worse than A, the 95 %
	// interval of B - A excluding zero.
	VerdictBetter = "better"
	VerdictWorse  = "worse"
	// VerdictUnclear: the interval holds zero.
	VerdictUnclear = "no clear difference"
	// MinBootstrapDays is the fewest days the bootstrap resamples: with
	// fewer, a comparison falls back to the 1 % rule, without intervals.
	MinBootstrapDays = 5
)

// CompareRow is one metric of both runs.
type CompareRow struct {
	Section string  `json:"section"`
	Metric  string  `json:"metric"`
	A       float64 `json:"a"`
	B       float64 `json:"b"`
	// Unit is "s", "share", "count", "rate" (a count per day or per unit
	// and day) or "hours".
	Unit string `json:"unit"`
	// CI is the 95 % confidence interval of B - A: a bootstrap over the
	// days both runs cover (the same resampled days for A and B, which
	// replay the same stream), the figure recomputed from the days' data
	// (percentiles from their histograms, interpolated within a bin).
	// Absent without per-day data or
	// when the figure is undefined on too many resamples.
	CI *[2]float64 `json:"ci95,omitempty"`
	// NA and NB are the sample behind the figure in A and B, counted in
	// NOf: the incidents (NOf ""), the days of each run for a figure of days
	// (a count, the longest queue, a rate: NOf "days"), the units of the team
	// for a utilisation (NOf "units").
	NA  int    `json:"n_a"`
	NB  int    `json:"n_b"`
	NOf string `json:"n_of,omitempty"`
	// Verdict, for a metric with a better direction: VerdictBetter or
	// VerdictWorse when the interval excludes zero, VerdictUnclear when it
	// does not. Reports without per-day data, or covering fewer than
	// MinBootstrapDays days, fall back to a difference of more than 1 %
	// (0.5 point for shares), "" otherwise. "" for a metric
	// without a direction (utilisation).
	Verdict string `json:"verdict,omitempty"`
}

// Compare compares two reports of the same stream (policies or
// deployments); every row carries the 95 % bootstrap interval of B - A
// over their common days (BootstrapResamples resamples, a fixed seed).
func Compare(a, b *Report) *Comparison {
	c := &Comparison{A: a.Label, B: b.Label}
	bs := newBootSetup(a, b)
	var specs []*bootSpec
	var dirs []*bool
	// lower: true when a lower value is better; spec: how the bootstrap
	// recomputes the row (nil: it cannot).
	// n: the incidents behind the figure in A and B, if any
	add := func(section, metric string, x, y float64, unit string, lower *bool, spec *bootSpec, n ...int) {
		row := CompareRow{Section: section, Metric: metric, A: x, B: y, Unit: unit}
		if len(n) == 2 {
			row.NA, row.NB = n[0], n[1]
		} else {
			row.NA, row.NB, row.NOf = a.Days, b.Days, "days"
		}
		c.Rows = append(c.Rows, row)
		specs = append(specs, spec)
		dirs = append(dirs, lower)
	}
	lower, higher := true, false
	quantiles := map[string]float64{"p50": 0.5, "p90": 0.9, "p99": 0.99}
	groupStat := func(metric string) stat {
		switch metric {
		case "mean":
			return meanStat
		case "within target":
			return withinStat
		}
		return quantileStat(quantiles[metric])
	}
	statRows := func(section string, x, y Stat, sa, sb *daySeries) {
		for _, m := range []struct {
			name string
			x, y float64
		}{{"p50", x.P50, y.P50}, {"p90", x.P90, y.P90}, {"p99", x.P99, y.P99}, {"mean", x.Mean, y.Mean}} {
			add(section, m.name, m.x, m.y, "s", &lower, bs.group(sa, sb, groupStat(m.name)), x.Count, y.Count)
		}
		add(section, "within target", x.WithinTarget, y.WithinTarget, "share", &higher, bs.group(sa, sb, withinStat), x.Count, y.Count)
	}
	statRows("response all", a.Response.All, b.Response.All, bs.all(0), bs.all(1))
	for i := range a.Response.ByPriority {
		if i < len(b.Response.ByPriority) {
			p := i
			pick := func(d *DayStats) *DayGroup { return &d.Priority[p] }
			statRows("response "+a.Response.ByPriority[i].Key, a.Response.ByPriority[i], b.Response.ByPriority[i], bs.series(0, pick), bs.series(1, pick))
		}
	}
	// Reports made before policies have no late counts, no time to first
	// primary unit and no first responders.
	both := len(a.PrimaryResponse.ByPriority) > 0 && len(b.PrimaryResponse.ByPriority) > 0
	if both {
		for i := range a.Response.ByPriority {
			if i < len(b.Response.ByPriority) {
				p := i
				x, y := a.Response.ByPriority[i], b.Response.ByPriority[i]
				add("response "+x.Key, "late", float64(x.Late), float64(y.Late), "count", &lower,
					bs.sum(func(d *DayStats) float64 { return float64(d.Priority[p].Late) }), x.Count, y.Count)
			}
		}
		// per day the report keeps the first unit's times only: these rows have no interval
		for i := range a.PrimaryResponse.ByPriority {
			if i < len(b.PrimaryResponse.ByPriority) {
				x, y := a.PrimaryResponse.ByPriority[i], b.PrimaryResponse.ByPriority[i]
				add("primary "+x.Key, "p90", x.P90, y.P90, "s", &lower, nil, x.Count, y.Count)
				add("primary "+x.Key, "mean", x.Mean, y.Mean, "s", &lower, nil, x.Count, y.Count)
			}
		}
		for _, x := range a.PrimaryResponse.ByFamily {
			for _, y := range b.PrimaryResponse.ByFamily {
				if x.Key == y.Key {
					add("primary type "+x.Key, "p90", x.P90, y.P90, "s", &lower, nil, x.Count, y.Count)
				}
			}
		}
		add("first responders", "sent", float64(a.FirstResponders.Sent), float64(b.FirstResponders.Sent), "count", nil, nil)
	}
	if a.Diversions+b.Diversions > 0 {
		add("diversions", "per day", a.DiversionsPerDay, b.DiversionsPerDay, "rate", nil, nil)
	}
	if a.MoveUps+b.MoveUps > 0 {
		add("move-ups", "per unit and day", a.MoveUpsPerUnitDay, b.MoveUpsPerUnitDay, "rate", nil, nil)
	}
	for _, group := range []struct {
		name string
		a, b []Stat
		list func(*DayStats) []DayGroup
	}{{"town", a.Response.ByTown, b.Response.ByTown, func(d *DayStats) []DayGroup { return d.Towns }},
		{"type", a.Response.ByFamily, b.Response.ByFamily, func(d *DayStats) []DayGroup { return d.Families }}} {
		for _, x := range group.a {
			for _, y := range group.b {
				if x.Key == y.Key {
					key, list := x.Key, group.list
					pick := func(d *DayStats) *DayGroup {
						l := list(d)
						for i := range l {
							if l[i].Key == key {
								return &l[i]
							}
						}
						return nil
					}
					sa, sb := bs.series(0, pick), bs.series(1, pick)
					add(group.name+" "+x.Key, "p90", x.P90, y.P90, "s", &lower, bs.group(sa, sb, quantileStat(0.9)), x.Count, y.Count)
					add(group.name+" "+x.Key, "within target", x.WithinTarget, y.WithinTarget, "share", &higher, bs.group(sa, sb, withinStat), x.Count, y.Count)
				}
			}
		}
	}
	waitA, waitB := bs.series(0, func(d *DayStats) *DayGroup { return &d.Wait }), bs.series(1, func(d *DayStats) *DayGroup { return &d.Wait })
	add("queue", "queued incidents", float64(a.Queue.Queued), float64(b.Queue.Queued), "count", &lower,
		bs.sum(func(d *DayStats) float64 { return float64(d.Queued) }), a.Incidents, b.Incidents)
	add("queue", "waited for a first unit", float64(a.Queue.Waited), float64(b.Queue.Waited), "count", &lower, bs.group(waitA, waitB, countStat),
		a.Queue.Waited, b.Queue.Waited)
	add("queue", "wait p90", a.Queue.Wait.P90, b.Queue.Wait.P90, "s", &lower, bs.group(waitA, waitB, quantileStat(0.9)), a.Queue.Waited, b.Queue.Waited)
	add("queue", "longest queue", float64(a.Queue.MaxLength), float64(b.Queue.MaxLength), "count", &lower, bs.max(func(d *DayStats) float64 { return float64(d.QueueMax) }))
	add("queue", "never served", float64(a.Queue.Unserved), float64(b.Queue.Unserved), "count", &lower,
		bs.sum(func(d *DayStats) float64 { return float64(d.Unserved) }), a.Incidents, b.Incidents)
	add("reserves", "activations", float64(reserveCalls(a)), float64(reserveCalls(b)), "count", &lower,
		bs.sum(func(d *DayStats) float64 {
			n := 0
			for _, c := range d.ReserveCalls {
				n += c
			}
			return float64(n)
		}))
	for i, x := range a.Teams {
		for j, y := range b.Teams {
			if x.Team == y.Team {
				add("team "+x.Team, "utilisation", x.Utilisation, y.Utilisation, "share", nil, bs.utilisation(i, j, x.Units, y.Units), x.Units, y.Units)
				c.Rows[len(c.Rows)-1].NOf = "units"
				if x.Kind == "reserve" {
					add("team "+x.Team, "reserve calls", float64(x.Activations), float64(y.Activations), "count", &lower, bs.pair(
						func(d *DayStats) float64 { return float64(at(d.ReserveCalls, i)) }, func(d *DayStats) float64 { return float64(at(d.ReserveCalls, j)) }))
				}
			}
		}
	}
	for _, x := range a.Stock {
		for _, y := range b.Stock {
			if x.Item == y.Item && (x.Shortfall+y.Shortfall > 0) {
				item := x.Item
				add("stock "+x.Item, "short incidents", float64(x.Shortfall), float64(y.Shortfall), "count", &lower,
					bs.sum(func(d *DayStats) float64 { return float64(d.Short[item]) }))
			}
		}
	}
	if bs.n == 0 {
		for i := range c.Rows {
			c.Rows[i].Verdict = thresholdVerdict(c.Rows[i], dirs[i])
		}
		return c
	}
	c.Days, c.Resamples = bs.n, BootstrapResamples
	lo, hi, ok := bootstrap(specs, resampleDays(bs.n, BootstrapResamples))
	for i := range c.Rows {
		r := &c.Rows[i]
		if ok[i] {
			r.CI = &[2]float64{lo[i], hi[i]}
		}
		if dirs[i] == nil {
			continue
		}
		r.Verdict = VerdictUnclear
		if r.CI != nil && (r.CI[0] > 0 || r.CI[1] < 0) {
			if (r.CI[1] < 0) == *dirs[i] {
				r.Verdict = VerdictBetter
			} else {
				r.Verdict = VerdictWorse
			}
		}
	}
	return c
}

// thresholdVerdict is the verdict without per-day data: a difference of
// more than 1 % (0.5 point for shares).
func thresholdVerdict(r CompareRow, lower *bool) string {
	if lower == nil {
		return ""
	}
	diff := r.B - r.A
	sig := math.Abs(diff) > 0.01*math.Max(math.Abs(r.A), math.Abs(r.B))
	if r.Unit == "share" {
		sig = math.Abs(diff) > 0.005
	}
	if !sig {
		return ""
	}
	if (diff < 0) == *lower {
		return VerdictBetter
	}
	return VerdictWorse
}

func at[T any](s []T, i int) T {
	var zero T
	if i < 0 || i >= len(s) {
		return zero
	}
	return s[i]
}

// bootSetup lines up the days both reports cover.
type bootSetup struct {
	n    int
	days [2][]*DayStats
}

// newBootSetup lines up the days both reports cover on which either had
// an incident (the day the last units came back after the last calls is
// no sample); none when there are fewer than MinBootstrapDays.
func newBootSetup(a, b *Report) *bootSetup {
	bs := &bootSetup{}
	incidents := func(d *DayStats) int {
		n := 0
		for _, g := range d.Priority {
			n += g.Count
		}
		return n
	}
	for i := range a.ByDay {
		if d := b.Day(a.ByDay[i].Date); d != nil && incidents(d)+incidents(&a.ByDay[i]) > 0 {
			bs.days[0] = append(bs.days[0], &a.ByDay[i])
			bs.days[1] = append(bs.days[1], d)
		}
	}
	bs.n = len(bs.days[0])
	if bs.n < MinBootstrapDays {
		bs.n, bs.days = 0, [2][]*DayStats{}
	}
	return bs
}

// series picks a group of each common day of run r (0: A, 1: B).
func (bs *bootSetup) series(r int, pick func(*DayStats) *DayGroup) *daySeries {
	s := &daySeries{days: make([]*DayGroup, bs.n)}
	for d, day := range bs.days[r] {
		s.days[d] = pick(day)
	}
	return s
}

// all is every priority of run r.
func (bs *bootSetup) all(r int) *daySeries {
	s := &daySeries{}
	for p := range s.all {
		s.all[p] = make([]*DayGroup, bs.n)
		for d, day := range bs.days[r] {
			s.all[p][d] = &day.Priority[p]
		}
	}
	return s
}

// group is a figure of a group of incidents.
func (bs *bootSetup) group(a, b *daySeries, f stat) *bootSpec {
	if bs.n == 0 {
		return nil
	}
	return &bootSpec{a: a, b: b, stat: f}
}

// pair is a day figure, summed over the days, read by fa in A and fb in B.
func (bs *bootSetup) pair(fa, fb func(*DayStats) float64) *bootSpec {
	if bs.n == 0 {
		return nil
	}
	sum := func(days []*DayStats, f func(*DayStats) float64) scalar {
		return func(w []int64) float64 {
			t := 0.0
			for d, n := range w {
				if n > 0 {
					t += float64(n) * f(days[d])
				}
			}
			return t
		}
	}
	return &bootSpec{sa: sum(bs.days[0], fa), sb: sum(bs.days[1], fb)}
}

// sum is a day figure summed over the days.
func (bs *bootSetup) sum(f func(*DayStats) float64) *bootSpec { return bs.pair(f, f) }

// max is a day figure's largest over the days drawn.
func (bs *bootSetup) max(f func(*DayStats) float64) *bootSpec {
	if bs.n == 0 {
		return nil
	}
	top := func(days []*DayStats) scalar {
		return func(w []int64) float64 {
			m := 0.0
			for d, n := range w {
				if n > 0 {
					m = math.Max(m, f(days[d]))
				}
			}
			return m
		}
	}
	return &bootSpec{sa: top(bs.days[0]), sb: top(bs.days[1])}
}

// utilisation is a team's busy hours over units x the hours of the days drawn.
func (bs *bootSetup) utilisation(ia, ib, unitsA, unitsB int) *bootSpec {
	if bs.n == 0 {
		return nil
	}
	use := func(days []*DayStats, team, units int) scalar {
		return func(w []int64) float64 {
			busy, n := 0.0, int64(0)
			for d, k := range w {
				if k > 0 {
					busy += float64(k) * at(days[d].BusyHours, team)
					n += k
				}
			}
			if units == 0 || n == 0 {
				return math.NaN()
			}
			return busy / (float64(units) * 24 * float64(n))
		}
	}
	return &bootSpec{sa: use(bs.days[0], ia, unitsA), sb: use(bs.days[1], ib, unitsB)}
}

func fmtValue(v float64, unit string) string {
	switch unit {
	case "s":
		return fmtDur(v)
	case "share":
		return pct(v)
	case "count":
		return num(int(v))
	case "rate":
		return fmt.Sprintf("%.3g", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// WriteText writes the comparison for a terminal: each row with B - A,
// its 95 % interval and sample size, and "<< better", ">> worse" or "no
// clear difference" (B against A).
func (c *Comparison) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "A: %s\nB: %s\n", c.A, c.B)
	if c.Days > 0 {
		fmt.Fprintf(&b, "95 %% intervals of B-A: bootstrap over the %d days both runs cover (%s resamples of the days, the same for A and B)\n\n",
			c.Days, num(c.Resamples))
	} else {
		fmt.Fprintf(&b, "No intervals: fewer than %d days with per-day data in both reports (or reports written before by_day); differences above 1 %% (0.5 point for shares) marked\n\n",
			MinBootstrapDays)
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "section\tmetric\tA\tB\tB-A\t95% CI of B-A\tn A/B\t")
	better, worse, unclear := 0, 0, 0
	for _, r := range c.Rows {
		delta := "="
		if r.A != r.B {
			delta = fmtDelta(r.B-r.A, r.Unit)
		}
		ci := ""
		if r.CI != nil {
			ci = "[" + fmtDelta(r.CI[0], r.Unit) + ", " + fmtDelta(r.CI[1], r.Unit) + "]"
		}
		n := num(r.NA) + "/" + num(r.NB)
		if r.NOf != "" {
			n += " " + r.NOf
		}
		mark := ""
		switch r.Verdict {
		case VerdictBetter:
			mark, better = "<< better", better+1
		case VerdictWorse:
			mark, worse = ">> worse", worse+1
		case VerdictUnclear:
			mark, unclear = "no clear difference", unclear+1
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Section, r.Metric, fmtValue(r.A, r.Unit), fmtValue(r.B, r.Unit), delta, ci, n, mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if c.Days > 0 {
		fmt.Fprintf(&b, "\nB against A: %d metrics better, %d worse, %d without a clear difference (95 %% interval of B-A holding zero).\n", better, worse, unclear)
	} else {
		fmt.Fprintf(&b, "\nB against A: %d metrics better, %d worse (differences above 1 %%, or 0.5 point for shares).\n", better, worse)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// fmtDelta prints a signed difference.
func fmtDelta(d float64, unit string) string {
	if d == 0 {
		return "0"
	}
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	if unit == "share" {
		if d < 0.001 {
			return sign + fmt.Sprintf("%.2fpt", d*100)
		}
		return sign + fmt.Sprintf("%.1fpt", d*100)
	}
	if unit == "count" && d != math.Trunc(d) {
		return sign + fmt.Sprintf("%.1f", d)
	}
	return sign + fmtValue(d, unit)
}

// reserveCalls is the reserve teams' activations (older reports have no
// ReserveActivations).
func reserveCalls(r *Report) int {
	n := 0
	for _, t := range r.Teams {
		n += t.Activations
	}
	return n
}
