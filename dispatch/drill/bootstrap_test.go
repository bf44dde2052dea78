package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch/memstore"
)

func TestHistBins(t *testing.T) {
	cases := []struct {
		s      float64
		bin    int
		lo, hi float64
	}{
		{-1, 0, 0, 10}, {0, 0, 0, 10}, {9.99, 0, 0, 10}, {10, 1, 10, 20}, {3599, 359, 3590, 3600},
		{3600, 360, 3600, 3660}, {21599, 659, 21540, 21600}, {21600, 660, 21600, 22200},
		{172799, 911, 172200, 172800}, {172800, 912, 172800, math.Inf(1)}, {1e9, 912, 172800, math.Inf(1)},
	}
	for _, c := range cases {
		b := HistBin(c.s)
		lo, hi := HistBinRange(b)
		if b != c.bin || lo != c.lo || hi != c.hi {
			t.Errorf("%v s: bin %d [%v, %v), want %d [%v, %v)", c.s, b, lo, hi, c.bin, c.lo, c.hi)
		}
	}
}

func TestHistJSON(t *testing.T) {
	var h Hist
	for _, s := range []float64{5, 15, 12, 4000, 1e6, 5} {
		h.add(s)
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `"0:2,2 366:1 912:1"` {
		t.Errorf("%s", b)
	}
	var back Hist
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, h) || back.Total() != 6 {
		t.Errorf("%+v, %v", back, err)
	}
	h = Hist{Bins: []int32{3, 5, 6, 9}, Counts: []int32{1, 2, 3, 4}}
	if b, _ := json.Marshal(h); string(b) != `"3:1,0,2,3 9:4"` {
		t.Errorf("%s", b)
	}
	for _, bad := range []string{`"1:2 0:1"`, `"1:2,3 2:1"`, `"x:1"`, `"1:-1"`, `"913:1"`, `"912:1,1"`, `3`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestAggQuantile: percentiles from a histogram are the exact nearest-rank
// ones to within a bin.
func TestAggQuantile(t *testing.T) {
	var g DayGroup
	var v []float64
	for i := range 1000 {
		s := float64(i*i%7919) * 1.7
		v = append(v, s)
		g.add(s, false)
	}
	slices.Sort(v)
	var a agg
	a.add(&g, 1)
	for _, p := range []float64{0.5, 0.9, 0.99} {
		exact := percentile(v, p)
		lo, hi := HistBinRange(HistBin(exact))
		if q := a.quantile(p); q < lo || q > hi {
			t.Errorf("p%v: %v, exact %v in [%v, %v)", p*100, q, exact, lo, hi)
		}
	}
	if m := meanStat(&a); math.Abs(m-g.SumS/1000) > 1e-9 {
		t.Errorf("mean %v", m)
	}
	a.add(&g, 2) // the same day drawn twice more: the same percentiles
	if q := a.quantile(0.9); math.Abs(q-percentile(v, 0.9)) > 10 {
		t.Errorf("p90 of three draws %v", q)
	}
}

// weekReplay replays six ordinary days of the generated city.
func weekReplay(t *testing.T, turnout time.Duration) *Report {
	t.Helper()
	sc := zhongshan(t)
	g, err := NewGenerator(GenConfig{Scenario: sc, Seed: 5, Start: DefaultStart.AddDate(0, 2, 0), Duration: 6 * 24 * time.Hour, Surges: []Surge{}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{Scenario: sc, Store: memstore.New(Retention()), Drill: "w", Seed: 5, Turnout: turnout, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Run(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := res.Report(ReportConfig{Label: turnout.String()})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestByDay replays six days once for its subtests.
func TestByDay(t *testing.T) {
	rep := weekReplay(t, 0)
	t.Run("adds up", func(t *testing.T) { testByDayAddsUp(t, rep) })
	t.Run("compare", func(t *testing.T) { testCompareBootstrap(t, rep) })
}

// testByDayAddsUp: the per-day data add up to the report's figures, and
// survive the JSON round trip.
func testByDayAddsUp(t *testing.T, rep *Report) {
	if len(rep.ByDay) < 6 || rep.ByDay[0].Date != "2013-03-01" {
		t.Fatalf("%d days from %s", len(rep.ByDay), rep.ByDay[0].Date)
	}
	var count, late, queued, unserved, waited [1]int
	prio := make([]int, 4)
	busy := make([]float64, len(rep.Teams))
	reserve := make([]int, len(rep.Teams))
	towns := map[string]int{}
	for _, d := range rep.ByDay {
		for p, g := range d.Priority {
			count[0] += g.Count
			late[0] += g.Late
			prio[p] += g.Count
			if g.Hist.Total() != g.Served {
				t.Errorf("%s P%d: histogram of %d, %d served", d.Date, p+1, g.Hist.Total(), g.Served)
			}
		}
		for _, g := range d.Towns {
			towns[g.Key] += g.Count
		}
		queued[0] += d.Queued
		unserved[0] += d.Unserved
		waited[0] += d.Wait.Count
		for i := range busy {
			busy[i] += d.BusyHours[i]
			reserve[i] += d.ReserveCalls[i]
		}
	}
	all := rep.Response.All
	if count[0] != all.Count || math.Abs(1-float64(late[0])/float64(count[0])-all.WithinTarget) > 1e-4 {
		t.Errorf("days: %d incidents, %d late; report %d, within %v", count[0], late[0], all.Count, all.WithinTarget)
	}
	for p, s := range rep.Response.ByPriority {
		if prio[p] != s.Count {
			t.Errorf("P%d: %d by day, %d", p+1, prio[p], s.Count)
		}
	}
	for _, s := range rep.Response.ByTown {
		if towns[s.Key] != s.Count {
			t.Errorf("%s: %d by day, %d", s.Key, towns[s.Key], s.Count)
		}
	}
	if queued[0] != rep.Queue.Queued || unserved[0] != rep.Queue.Unserved || waited[0] != rep.Queue.Waited {
		t.Errorf("queue by day %d/%d/%d, report %+v", queued[0], unserved[0], waited[0], rep.Queue)
	}
	for i, tm := range rep.Teams {
		if math.Abs(busy[i]-tm.BusyHours) > 0.1 || reserve[i] != tm.Activations {
			t.Errorf("%s: %.2f busy hours and %d reserve calls by day, report %.1f and %d", tm.Team, busy[i], reserve[i], tm.BusyHours, tm.Activations)
		}
	}
	b, err := rep.JSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeReport(b)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := back.JSON()
	if !bytes.Equal(b, again) {
		t.Error("the report's JSON does not survive a round trip")
	}
	// the per-day data come last, one line a day, after every older field
	if i := bytes.Index(b, []byte(`"by_day"`)); i < bytes.Index(b, []byte(`"daily"`)) || bytes.Count(b[i:], []byte("\n")) != len(rep.ByDay)+3 {
		t.Errorf("by_day is not last, one line a day")
	}
}

// testCompareBootstrap: a run compared with itself shows no clear
// difference anywhere (every interval is [0, 0]); a run whose units leave
// three minutes later is marked worse on response, with intervals that
// exclude zero; the same comparison twice gives the same text.
func testCompareBootstrap(t *testing.T, a *Report) {
	self := Compare(a, a)
	if self.Days < 6 || self.Resamples != BootstrapResamples {
		t.Fatalf("%d days, %d resamples", self.Days, self.Resamples)
	}
	for _, r := range self.Rows {
		if r.CI == nil && r.Unit == "s" && r.NA == 0 {
			continue // a time of no incident (no wait in ordinary days): undefined
		}
		if r.CI == nil && (strings.HasPrefix(r.Section, "primary") || r.Section == "first responders") {
			continue // per day the report keeps the first unit's times only: no interval (compare.go)
		}
		if r.CI == nil || r.CI[0] != 0 || r.CI[1] != 0 {
			t.Errorf("%s %s: interval %v against itself", r.Section, r.Metric, r.CI)
		}
		if r.Verdict != VerdictUnclear && r.Verdict != "" {
			t.Errorf("%s %s: %q against itself", r.Section, r.Metric, r.Verdict)
		}
	}
	slow := weekReplay(t, 4*time.Minute)
	cmp := Compare(a, slow)
	verdict := map[string]CompareRow{}
	for _, r := range cmp.Rows {
		verdict[r.Section+" "+r.Metric] = r
	}
	for _, key := range []string{"response all p50", "response all p90", "response all mean", "response all within target",
		"response P1 p90", "response P2 mean", "response P3 p50"} {
		r := verdict[key]
		if r.Verdict != VerdictWorse || r.CI == nil || (r.CI[0] <= 0 && r.CI[1] >= 0) {
			t.Errorf("%s: %q, interval %v", key, r.Verdict, r.CI)
		}
		if r.NA == 0 || r.NA != r.NB {
			t.Errorf("%s: sample sizes %d and %d", key, r.NA, r.NB)
		}
	}
	// +3 minutes of turnout: the p50 difference is about 180 s, a little
	// more where units are busy longer
	if r := verdict["response all p50"]; r.CI[0] < 150 || r.CI[1] > 240 || r.CI[0] > r.B-r.A+10 || r.CI[1] < r.B-r.A-10 {
		t.Errorf("p50 %+.1f s, interval %v", r.B-r.A, r.CI)
	}
	var t1, t2 bytes.Buffer
	if err := cmp.WriteText(&t1); err != nil {
		t.Fatal(err)
	}
	if err := Compare(a, slow).WriteText(&t2); err != nil {
		t.Fatal(err)
	}
	if t1.String() != t2.String() {
		t.Error("the same comparison twice gave another text")
	}
	for _, want := range []string{">> worse", "95% CI of B-A", "bootstrap over the", "[+"} {
		if !strings.Contains(t1.String(), want) {
			t.Errorf("comparison lacks %q:\n%s", want, t1.String())
		}
	}
}

func TestResampleDays(t *testing.T) {
	w := resampleDays(10, 3)
	if !reflect.DeepEqual(w, resampleDays(10, 3)) {
		t.Error("resamples differ with the same seed")
	}
	for _, r := range w {
		n := int64(0)
		for _, k := range r {
			n += k
		}
		if n != 10 {
			t.Errorf("a resample of %d days", n)
		}
	}
}
