package drill

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPlotsHourlyForShortDrills: a drill under a week is plotted by hour
// from its first call (Report.Hourly, one point an hour, every call in
// its hour), a longer one by day.
func TestPlotsHourlyForShortDrills(t *testing.T) {
	lines := func(days int) func() Source {
		var b bytes.Buffer
		for i, at := range []time.Time{DefaultStart.Add(time.Hour), DefaultStart.Add(5 * time.Hour), DefaultStart.AddDate(0, 0, days-1).Add(10 * time.Hour)} {
			fmt.Fprintf(&b, `{"id":"H-%d","reported_at":%q,"type":"theft","lat":22.522,"lng":113.379}`+"\n", i, at.Format(time.RFC3339))
		}
		return func() Source { return NewJSONLReader(bytes.NewReader(b.Bytes())) }
	}
	for _, tt := range []struct {
		days   int
		hourly bool
	}{{1, true}, {3, true}, {HourlyBelowDays - 1, true}, {HourlyBelowDays, false}, {9, false}} {
		rep, _ := replay(t, lines(tt.days), 0, nil)
		if rep.Days != tt.days {
			t.Fatalf("%d-day drill reported as %d days", tt.days, rep.Days)
		}
		if (rep.Hourly != nil) != tt.hourly {
			t.Fatalf("%d days: hourly %v, want %v", tt.days, rep.Hourly != nil, tt.hourly)
		}
		resp, queue := string(rep.Plots()["response.svg"]), string(rep.Plots()["queue.svg"])
		by := "by day"
		if tt.hourly {
			by = "by hour"
			h := rep.Hourly
			calls := 0
			for _, n := range h.Calls {
				calls += n
			}
			if calls != rep.Calls || len(h.P90[0]) != len(h.Calls) || len(h.QueueMax) != len(h.Calls) || len(h.Calls) < (tt.days-1)*24+10 {
				t.Errorf("%d days: hourly %+v, %d calls", tt.days, h, rep.Calls)
			}
			if h.Calls[0] != 1 || h.Calls[4] != 1 || h.P90[2][0] <= 0 || h.P90[2][1] != -1 {
				t.Errorf("%d days: the calls of the first and fifth hours not where they were: %v %v", tt.days, h.Calls, h.P90[2])
			}
		}
		if !strings.Contains(resp, "p90 "+by) || !strings.Contains(queue, "of each "+strings.TrimPrefix(by, "by ")) {
			t.Errorf("%d days: plots not %s:\n%.300s", tt.days, by, resp)
		}
		cmp := Compare(rep, rep)
		if d := string(cmp.Plots(rep, rep)["compare-daily.svg"]); !strings.Contains(d, "p90 "+by) {
			t.Errorf("%d days: comparison plot not %s", tt.days, by)
		}
	}
}

// TestCompareRowsShowSampleSize: every row of a comparison says what its
// figure was computed from in each run: incidents, days or units.
func TestCompareRowsShowSampleSize(t *testing.T) {
	sc := zhongshan(t)
	gen := func() Source {
		g, err := NewGenerator(GenConfig{Scenario: sc, Seed: 7, Duration: 36 * time.Hour, Surges: smallSurges()})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	a, _ := replay(t, gen, 0, nil)
	b, _ := replay(t, gen, 300, nil)
	cmp := Compare(a, b)
	var text bytes.Buffer
	if err := cmp.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(text.String(), "\n")
	kinds := map[string]int{}
	for _, r := range cmp.Rows {
		kinds[r.NOf]++
		switch r.NOf {
		case "days":
			if r.NA != a.Days || r.NB != b.Days {
				t.Errorf("%s %s: %d/%d days, the runs have %d/%d", r.Section, r.Metric, r.NA, r.NB, a.Days, b.Days)
			}
		case "units":
			if r.NA == 0 {
				t.Errorf("%s %s: no units", r.Section, r.Metric)
			}
		case "":
			if r.NA > a.Incidents || r.NB > b.Incidents {
				t.Errorf("%s %s: %d/%d incidents of %d/%d", r.Section, r.Metric, r.NA, r.NB, a.Incidents, b.Incidents)
			}
		default:
			t.Errorf("%s %s: sample of %q", r.Section, r.Metric, r.NOf)
		}
		n := num(r.NA) + "/" + num(r.NB)
		if r.NOf != "" {
			n += " " + r.NOf
		}
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, r.Section+" ") && strings.Contains(l, " "+r.Metric+" ") && strings.Contains(l, n) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s %s: no line shows its sample %q:\n%s", r.Section, r.Metric, n, text.String())
		}
	}
	if kinds[""] == 0 || kinds["days"] == 0 || kinds["units"] == 0 {
		t.Errorf("samples by kind %v", kinds)
	}
	if !strings.Contains(text.String(), "n A/B") {
		t.Error("no sample column")
	}
}
