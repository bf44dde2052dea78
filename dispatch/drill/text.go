package drill

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// JSON returns the report as indented JSON (the form a console shows).
// The per-day data (ByDay) comes last, one compact line a day.
func (r *Report) JSON() ([]byte, error) {
	rest := *r
	rest.ByDay = nil
	b, err := json.MarshalIndent(&rest, "", " ")
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if b, err = appendByDay(b, r.ByDay); err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// DecodeReport reads a report written by Report.JSON.
func DecodeReport(b []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if len(r.Response.ByPriority) != 4 {
		return nil, fmt.Errorf("report: %d priorities, want 4", len(r.Response.ByPriority))
	}
	return &r, nil
}

func lateOf(r Response, p int) string {
	if p >= len(r.ByPriority) {
		return "-"
	}
	return num(r.ByPriority[p].Late)
}

// num prints an integer with thousands separators.
func num(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

const timeFmt = "2006-01-02 15:04"

// WriteText writes the report for a terminal.
func (r *Report) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Drill %s: %s, %s (seed %d)\n", r.Drill, r.Scenario, r.Label, r.Seed)
	fmt.Fprintf(&b, "%s to %s (%d days)\n", r.From.Format(timeFmt), r.To.Format(timeFmt), r.Days)
	fmt.Fprintf(&b, "Calls %s: %s incidents decided, %s duplicate calls linked, %s manual, %s unknown type, %s out of order\n\n",
		num(r.Calls), num(r.Incidents), num(r.Duplicates), num(r.Manual), num(r.UnknownType), num(r.OutOfOrder))
	b.WriteString("Response time, call to first unit on scene\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tincidents\tserved\tp50\tp90\tp99\tmean\tmax\twithin target\t")
	row := func(label string, s Stat) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", label, num(s.Count), num(s.Served), fmtDur(s.P50), fmtDur(s.P90),
			fmtDur(s.P99), fmtDur(s.Mean), fmtDur(s.Max), pct(s.WithinTarget))
	}
	row("all", r.Response.All)
	for _, s := range r.Response.ByPriority {
		row(s.Key, s)
	}
	fmt.Fprintln(tw, "\t\t\t\t\t\t\t\t\t")
	for _, s := range r.Response.ByTown {
		row(s.Key, s)
	}
	fmt.Fprintln(tw, "\t\t\t\t\t\t\t\t\t")
	for _, s := range r.Response.ByFamily {
		row(s.Key, s)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if pr := r.PrimaryResponse; len(pr.ByPriority) > 0 {
		b.WriteString("\nTime to first primary unit: call to the first unit of a plan's own capability on scene (not a substitute or a first responder)\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "\tincidents\tserved\tp50\tp90\tp99\tmean\tmax\twithin target\t")
		row("all", pr.All)
		for _, s := range pr.ByPriority {
			row(s.Key, s)
		}
		fmt.Fprintln(tw, "\t\t\t\t\t\t\t\t\t")
		for _, s := range pr.ByFamily {
			row(s.Key, s)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fr := r.FirstResponders
	fmt.Fprintf(&b, "First responders: %s sent to %s incidents (P1/P2/P3/P4 %s/%s/%s/%s", num(fr.Sent), num(fr.Incidents),
		num(fr.ByPriority[0]), num(fr.ByPriority[1]), num(fr.ByPriority[2]), num(fr.ByPriority[3]))
	for _, f := range fr.ByFamily {
		fmt.Fprintf(&b, "; %s %s", f.Key, num(f.N))
	}
	fmt.Fprintf(&b, "); reserve activations %s; late (not on scene within target) P1/P2/P3/P4 %s/%s/%s/%s\n",
		num(r.ReserveActivations), lateOf(r.Response, 0), lateOf(r.Response, 1), lateOf(r.Response, 2), lateOf(r.Response, 3))
	b.WriteString("Targets (call to first unit on scene): ")
	var ts []string
	for i := 0; i < len(r.Targets); i += 4 {
		ts = append(ts, fmt.Sprintf("%s %s/%s/%s/%s", r.Targets[i].Kind, fmtDur(r.Targets[i].TargetS), fmtDur(r.Targets[i+1].TargetS),
			fmtDur(r.Targets[i+2].TargetS), fmtDur(r.Targets[i+3].TargetS)))
	}
	b.WriteString(strings.Join(ts, "; ") + " (P1/P2/P3/P4)\n\n")
	q := r.Queue
	fmt.Fprintf(&b, "Queue: %s incidents waited for some unit of their plan, %s for their first unit (wait p50 %s, p90 %s, p99 %s, max %s); ",
		num(q.Queued), num(q.Waited), fmtDur(q.Wait.P50), fmtDur(q.Wait.P90), fmtDur(q.Wait.P99), fmtDur(q.Wait.Max))
	if q.MaxLength > 0 {
		fmt.Fprintf(&b, "longest queue %s at %s; ", num(q.MaxLength), q.MaxAt.Format(timeFmt))
	}
	fmt.Fprintf(&b, "never served %s\n\n", num(q.Unserved))
	b.WriteString("Teams\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tunits\tbusy hours\tutilisation\treserve calls P1/P2/P3/P4\t")
	for _, t := range r.Teams {
		calls := ""
		if t.Kind == "reserve" {
			calls = fmt.Sprintf("%s (%d/%d/%d/%d)", num(t.Activations), t.ByPriority[0], t.ByPriority[1], t.ByPriority[2], t.ByPriority[3])
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t\n", t.Team, t.Units, num(int(math.Round(t.BusyHours))), pct(t.Utilisation), calls)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Diversions > 0 {
		fmt.Fprintf(&b, "\nDiversions to P1 calls: %d (%.1f a day)\n", r.Diversions, r.DiversionsPerDay)
	}
	if r.MoveUps > 0 {
		fmt.Fprintf(&b, "\nMove-ups: %d (%.3f per professional unit and day)\n", r.MoveUps, r.MoveUpsPerUnitDay)
	}
	fmt.Fprintf(&b, "\nStock (all depots; %d restocks to scenario levels)\n", r.Restocks)
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tinitial\tconsumed\trestocked\tend\tlowest available\tshort incidents\tmissing\t")
	for _, s := range r.Stock {
		low := num(s.MinAvailable)
		if !s.MinAt.IsZero() {
			low += " (" + s.MinAt.Format("01-02 15:04") + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", s.Item, num(s.Initial), num(s.Consumed), num(s.Restocked), num(s.End), low,
			num(s.Shortfall), num(s.Missing))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}
