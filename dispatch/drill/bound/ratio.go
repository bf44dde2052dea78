package bound

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/zs110/dispatch/dispatch/drill"
)

// Ratio is one run's late arrivals in the bound's window, against the
// bound: the ratios of the literature (closest-idle 2.7 times the offline
// optimum's late arrivals, the best online dispatcher 1.9: Jagtenberg, van
// den Berg, van der Mei, EJOR 2017).
type Ratio struct {
	Label string
	// Calls are the run's incidents of the bound's priorities reported in
	// the window; Late those not on scene within target (never served
	// included); ByPriority the late by priority, in the bound's order.
	Calls, Late int
	ByPriority  []int
	// ToBound is Late / the bound (+Inf for late arrivals over a bound of
	// 0, NaN for none over none); ToNoCongestion the same against the
	// no-congestion bound.
	ToBound, ToNoCongestion float64
}

// Dates returns the local days of the window (2013-03-05), which must be
// whole days.
func (r *Result) Dates() ([]string, error) {
	loc := r.From.Location()
	var out []string
	d := r.From
	for ; d.Before(r.To); d = d.AddDate(0, 0, 1) {
		if h, m, s := d.In(loc).Clock(); h != 0 || m != 0 || s != 0 || d.Nanosecond() != 0 {
			break
		}
		out = append(out, d.In(loc).Format(time.DateOnly))
	}
	if !d.Equal(r.To) {
		return nil, fmt.Errorf("bound: the window %s to %s is not whole days: a report counts late arrivals by day",
			r.From.Format(time.RFC3339), r.To.Format(time.RFC3339))
	}
	return out, nil
}

// Ratios reads each report's late arrivals in the bound's window from its
// per-day data.
func Ratios(b *Result, reps []*drill.Report) ([]Ratio, error) {
	dates, err := b.Dates()
	if err != nil {
		return nil, err
	}
	var out []Ratio
	for _, rep := range reps {
		r := Ratio{Label: rep.Label, ByPriority: make([]int, len(b.Priorities))}
		for _, date := range dates {
			day := rep.Day(date)
			if day == nil {
				return nil, fmt.Errorf("bound: report %q has no per-day data for %s (written before by_day, or another window)", rep.Label, date)
			}
			for i, p := range b.Priorities {
				if p < 1 || p > 4 {
					return nil, fmt.Errorf("bound: priority %d out of 1-4", p)
				}
				g := day.Priority[p-1]
				r.Calls += g.Count
				r.Late += g.Late
				r.ByPriority[i] += g.Late
			}
		}
		r.ToBound, r.ToNoCongestion = ratio(r.Late, b.Late), ratio(r.Late, b.NoCongestion)
		out = append(out, r)
	}
	return out, nil
}

func ratio(n, of int) float64 {
	switch {
	case of > 0:
		return float64(n) / float64(of)
	case n > 0:
		return math.Inf(1)
	}
	return math.NaN()
}

// WriteRatios writes the runs' late arrivals against the bound.
func WriteRatios(w io.Writer, b *Result, rs []Ratio) error {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "Late arrivals against the offline bound, %s to %s, priorities %v\n", b.From.Format("2006-01-02 15:04"),
		b.To.Format("2006-01-02 15:04"), b.Priorities)
	status := string(b.Solver.Status)
	if b.Solver.Status != StatusOptimal {
		status += fmt.Sprintf(", gap %.2f%%", b.Solver.Gap*100)
	}
	fmt.Fprintf(&buf, "Bound: at least %d late of %d calls (%s); no-congestion bound %d\n", b.Late, b.Calls, status, b.NoCongestion)
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "\tincidents\tlate"
	for _, p := range b.Priorities {
		head += fmt.Sprintf("\tlate P%d", p)
	}
	fmt.Fprintln(tw, head+"\tto bound\tto no-congestion\t")
	for _, r := range rs {
		line := fmt.Sprintf("%s\t%d\t%d", r.Label, r.Calls, r.Late)
		for _, n := range r.ByPriority {
			line += fmt.Sprintf("\t%d", n)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", line, fmtRatio(r.ToBound), fmtRatio(r.ToNoCongestion))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if slices.ContainsFunc(rs, func(r Ratio) bool { return r.ToBound < 1 }) {
		buf.WriteString("A ratio under 1: that run beat the bound's assumptions (units waiting at their stations, no call held for a unit about to be free)\n")
	}
	if slices.ContainsFunc(rs, func(r Ratio) bool { return r.Calls != b.Calls }) {
		fmt.Fprintf(&buf, "The runs decided other numbers of incidents than the bound's %d calls: the bound leaves out every call that may be a duplicate\n", b.Calls)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func fmtRatio(x float64) string {
	switch {
	case math.IsNaN(x):
		return "-"
	case math.IsInf(x, 1):
		return "inf"
	}
	return fmt.Sprintf("%.2fx", x)
}
