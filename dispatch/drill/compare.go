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
	A    string       `json:"a"`
	B    string       `json:"b"`
	Rows []CompareRow `json:"rows"`
}

// CompareRow is one metric of both runs.
type CompareRow struct {
	Section string  `json:"section"`
	Metric  string  `json:"metric"`
	A       float64 `json:"a"`
	B       float64 `json:"b"`
	// Unit is "s", "share", "count" or "hours".
	Unit string `json:"unit"`
	// Verdict is "better" or "worse" for B when it differs from A by more
	// than 1 % (or 0.5 percentage point for shares), "" otherwise.
	Verdict string `json:"verdict,omitempty"`
}

// Compare compares two reports of the same stream (policies or deployments).
func Compare(a, b *Report) *Comparison {
	c := &Comparison{A: a.Label, B: b.Label}
	// lower: true when a lower value is better.
	add := func(section, metric string, x, y float64, unit string, lower *bool) {
		row := CompareRow{Section: section, Metric: metric, A: x, B: y, Unit: unit}
		if lower != nil {
			diff := y - x
			sig := math.Abs(diff) > 0.01*math.Max(math.Abs(x), math.Abs(y))
			if unit == "share" {
				sig = math.Abs(diff) > 0.005
			}
			if sig {
				if (diff < 0) == *lower {
					row.Verdict = "better"
				} else {
					row.Verdict = "worse"
				}
			}
		}
		c.Rows = append(c.Rows, row)
	}
	lower, higher := true, false
	stat := func(section string, x, y Stat) {
		add(section, "p50", x.P50, y.P50, "s", &lower)
		add(section, "p90", x.P90, y.P90, "s", &lower)
		add(section, "p99", x.P99, y.P99, "s", &lower)
		add(section, "mean", x.Mean, y.Mean, "s", &lower)
		add(section, "within target", x.WithinTarget, y.WithinTarget, "share", &higher)
	}
	// Reports made before policies have no late counts, no time to first
	// primary unit and no first responders.
	both := len(a.PrimaryResponse.ByPriority) > 0 && len(b.PrimaryResponse.ByPriority) > 0
	stat("response all", a.Response.All, b.Response.All)
	for i := range a.Response.ByPriority {
		if i < len(b.Response.ByPriority) {
			stat("response "+a.Response.ByPriority[i].Key, a.Response.ByPriority[i], b.Response.ByPriority[i])
			if both {
				add("response "+a.Response.ByPriority[i].Key, "late", float64(a.Response.ByPriority[i].Late), float64(b.Response.ByPriority[i].Late), "count", &lower)
			}
		}
	}
	if both {
		stat("primary all", a.PrimaryResponse.All, b.PrimaryResponse.All)
		for i := range a.PrimaryResponse.ByPriority {
			if i < len(b.PrimaryResponse.ByPriority) {
				x, y := a.PrimaryResponse.ByPriority[i], b.PrimaryResponse.ByPriority[i]
				add("primary "+x.Key, "p90", x.P90, y.P90, "s", &lower)
				add("primary "+x.Key, "mean", x.Mean, y.Mean, "s", &lower)
			}
		}
		for _, x := range a.PrimaryResponse.ByFamily {
			for _, y := range b.PrimaryResponse.ByFamily {
				if x.Key == y.Key {
					add("primary type "+x.Key, "p90", x.P90, y.P90, "s", &lower)
				}
			}
		}
		add("first responders", "sent", float64(a.FirstResponders.Sent), float64(b.FirstResponders.Sent), "count", nil)
	}
	for _, group := range []struct {
		name string
		a, b []Stat
	}{{"town", a.Response.ByTown, b.Response.ByTown}, {"type", a.Response.ByFamily, b.Response.ByFamily}} {
		for _, x := range group.a {
			for _, y := range group.b {
				if x.Key == y.Key {
					add(group.name+" "+x.Key, "p90", x.P90, y.P90, "s", &lower)
					add(group.name+" "+x.Key, "within target", x.WithinTarget, y.WithinTarget, "share", &higher)
				}
			}
		}
	}
	add("queue", "queued incidents", float64(a.Queue.Queued), float64(b.Queue.Queued), "count", &lower)
	add("queue", "waited for a first unit", float64(a.Queue.Waited), float64(b.Queue.Waited), "count", &lower)
	add("queue", "wait p90", a.Queue.Wait.P90, b.Queue.Wait.P90, "s", &lower)
	add("queue", "longest queue", float64(a.Queue.MaxLength), float64(b.Queue.MaxLength), "count", &lower)
	add("queue", "never served", float64(a.Queue.Unserved), float64(b.Queue.Unserved), "count", &lower)
	add("reserves", "activations", float64(reserveCalls(a)), float64(reserveCalls(b)), "count", &lower)
	for _, x := range a.Teams {
		for _, y := range b.Teams {
			if x.Team == y.Team {
				add("team "+x.Team, "utilisation", x.Utilisation, y.Utilisation, "share", nil)
				if x.Kind == "reserve" {
					add("team "+x.Team, "reserve calls", float64(x.Activations), float64(y.Activations), "count", &lower)
				}
			}
		}
	}
	for _, x := range a.Stock {
		for _, y := range b.Stock {
			if x.Item == y.Item && (x.Shortfall+y.Shortfall > 0) {
				add("stock "+x.Item, "short incidents", float64(x.Shortfall), float64(y.Shortfall), "count", &lower)
			}
		}
	}
	return c
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

func fmtValue(v float64, unit string) string {
	switch unit {
	case "s":
		return fmtDur(v)
	case "share":
		return pct(v)
	case "count":
		return num(int(v))
	}
	return fmt.Sprintf("%.1f", v)
}

// WriteText writes the comparison for a terminal; differences are marked
// "<< better" or ">> worse" (B against A).
func (c *Comparison) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "A: %s\nB: %s\n\n", c.A, c.B)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "section\tmetric\tA\tB\tB-A\t")
	better, worse := 0, 0
	for _, r := range c.Rows {
		delta := "="
		if r.A != r.B {
			d := r.B - r.A
			sign := "+"
			if d < 0 {
				sign, d = "-", -d
			}
			if r.Unit == "share" {
				delta = sign + fmt.Sprintf("%.1fpt", d*100)
			} else {
				delta = sign + fmtValue(d, r.Unit)
			}
		}
		mark := ""
		switch r.Verdict {
		case "better":
			mark, better = "<< better", better+1
		case "worse":
			mark, worse = ">> worse", worse+1
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Section, r.Metric, fmtValue(r.A, r.Unit), fmtValue(r.B, r.Unit), delta, mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&b, "\nB against A: %d metrics better, %d worse (differences above 1 %%, or 0.5 point for shares).\n", better, worse)
	_, err := w.Write(b.Bytes())
	return err
}
