package drill

import (
	"bytes"
	"context"
	"encoding/xml"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
)

// smallSurges is a small typhoon and the plant fire inside a two-day span,
// so that queues, reserves and stock shortfalls show up in a short drill.
func smallSurges() []Surge {
	s := DefaultSurges(2013)
	s[0].Start, s[0].Duration, s[0].Calls = DefaultStart.Add(20*time.Hour), 12*time.Hour, 1500
	s[1].Start = DefaultStart.Add(30 * time.Hour)
	return s
}

// replay generates a stream and replays it with the policy and deployment given.
func replay(t testing.TB, src func() Source, coverage float64, moves []Move) (*Report, []byte) {
	t.Helper()
	sc := zhongshan(t)
	if err := ApplyMoves(sc, moves); err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{Scenario: sc, Store: memstore.New(Retention()), Drill: "det", Seed: 11, Rank: dispatch.RankConfig{CoverageWeightS: coverage},
		RestockEvery: 24 * time.Hour, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Run(context.Background(), src())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := res.Report(ReportConfig{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := rep.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return rep, b
}

// TestSameSeedSameReport: the same seed gives the same report, byte for
// byte, whether the stream comes from the generator or from its JSON lines.
func TestSameSeedSameReport(t *testing.T) {
	sc := zhongshan(t)
	cfg := GenConfig{Scenario: sc, Seed: 42, Duration: 48 * time.Hour, Surges: smallSurges()}
	gen := func() Source {
		g, err := NewGenerator(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	var file bytes.Buffer
	if _, err := WriteJSONL(&file, gen(), nil); err != nil {
		t.Fatal(err)
	}
	rep, a := replay(t, gen, 0, nil)
	_, b := replay(t, gen, 0, nil)
	_, c := replay(t, func() Source { return NewJSONLReader(bytes.NewReader(file.Bytes())) }, 0, nil)
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, different reports")
	}
	if !bytes.Equal(a, c) {
		t.Fatal("the stream replayed from its JSON lines gave another report")
	}
	// the surge shows: queue, reserves, shortfalls
	if rep.Queue.Queued == 0 || rep.Queue.MaxLength == 0 || rep.Duplicates == 0 || rep.Restocks == 0 {
		t.Errorf("no queue, duplicates or restock in a surge: %+v", rep.Queue)
	}
	reserves := 0
	for _, tm := range rep.Teams {
		reserves += tm.Activations
	}
	if reserves == 0 {
		t.Error("no reserve activation in a surge")
	}
	if rep.Response.All.Served != rep.Incidents-rep.Queue.Unserved || rep.Incidents+rep.Duplicates+rep.Manual != rep.Calls {
		t.Errorf("counts do not add up: %d calls, %d incidents, %d duplicates, %d served", rep.Calls, rep.Incidents, rep.Duplicates, rep.Response.All.Served)
	}
	// text, plots and the comparison of two policies
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Response time", "P1", "xiaolan", "Queue:", "militia", "sandbag"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q", want)
		}
	}
	for name, svg := range rep.Plots() {
		if err := xml.Unmarshal(svg, new(struct{})); err != nil {
			t.Errorf("%s is not well-formed: %v", name, err)
		}
	}
	back, err := DecodeReport(a)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := replay(t, gen, 300, nil)
	cmp := Compare(back, other)
	var ct bytes.Buffer
	if err := cmp.WriteText(&ct); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ct.String(), "coverage-aware (300s)") || !strings.Contains(ct.String(), "B against A") {
		t.Errorf("comparison:\n%s", ct.String())
	}
	for name, svg := range cmp.Plots(back, other) {
		if err := xml.Unmarshal(svg, new(struct{})); err != nil {
			t.Errorf("%s is not well-formed: %v", name, err)
		}
	}
}

// TestAlternatesDoNotChangeDecisions: the ranker's alternates (the next
// candidates kept for a dispatcher's swap) change nothing a drill decides,
// so a replay at full speed may go without them.
func TestAlternatesDoNotChangeDecisions(t *testing.T) {
	sc := zhongshan(t)
	var reports [][]byte
	for _, alts := range []int{-1, 0, 5} {
		g, err := NewGenerator(GenConfig{Scenario: sc, Seed: 8, Duration: 30 * time.Hour, Surges: smallSurges()})
		if err != nil {
			t.Fatal(err)
		}
		d, err := New(Config{Scenario: sc, Store: memstore.New(Retention()), Drill: "a", Rank: dispatch.RankConfig{Alternates: alts, CoverageWeightS: 120}, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		res, err := d.Run(context.Background(), g)
		if err != nil {
			t.Fatal(err)
		}
		rep, _ := res.Report(ReportConfig{})
		b, _ := rep.JSON()
		reports = append(reports, b)
	}
	if !bytes.Equal(reports[0], reports[1]) || !bytes.Equal(reports[0], reports[2]) {
		t.Fatal("alternates changed the drill")
	}
}

func TestCompareVerdicts(t *testing.T) {
	a := &Report{Label: "a", Response: Response{All: Stat{P90: 600, WithinTarget: 0.9}, ByPriority: make([]Stat, 4)}}
	b := &Report{Label: "b", Response: Response{All: Stat{P90: 500, WithinTarget: 0.8}, ByPriority: make([]Stat, 4)}}
	verdicts := map[string]string{}
	for _, r := range Compare(a, b).Rows {
		if r.Section == "response all" {
			verdicts[r.Metric] = r.Verdict
		}
	}
	if verdicts["p90"] != "better" || verdicts["within target"] != "worse" || verdicts["p50"] != "" {
		t.Errorf("verdicts %v", verdicts)
	}
}

// TestCompareNewMetrics: late counts, time to first primary unit and first
// responders are compared when both reports have them, never against a
// report made before them; reserve calls always (from the teams).
func TestCompareNewMetrics(t *testing.T) {
	old := func() *Report {
		return &Report{Response: Response{ByPriority: []Stat{{Key: "P1"}, {Key: "P2"}, {Key: "P3"}, {Key: "P4"}}},
			Teams: []TeamUse{{Team: "militia", Kind: "reserve", Activations: 100}}}
	}
	fresh := func(late, sent int) *Report {
		r := old()
		r.Response.ByPriority[0].Late = late
		r.PrimaryResponse = Response{ByPriority: make([]Stat, 4)}
		r.FirstResponders.Sent = sent
		r.Teams[0].Activations = 10
		return r
	}
	tests := []struct {
		name      string
		a, b      *Report
		late      string // verdict of "response P1 late"; "-" when absent
		firsts    bool
		reserveAB [2]float64
	}{
		{"both new", fresh(50, 0), fresh(20, 900), "better", true, [2]float64{10, 10}},
		{"old against new", old(), fresh(20, 900), "-", false, [2]float64{100, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			late, firsts := "-", false
			var reserves [2]float64
			for _, r := range Compare(tt.a, tt.b).Rows {
				switch {
				case r.Section == "response P1" && r.Metric == "late":
					late = r.Verdict
				case r.Section == "first responders":
					firsts = true
				case r.Section == "reserves":
					reserves = [2]float64{r.A, r.B}
				}
			}
			if late != tt.late || firsts != tt.firsts || reserves != tt.reserveAB {
				t.Fatalf("late %q first responders %v reserves %v, want %q %v %v", late, firsts, reserves, tt.late, tt.firsts, tt.reserveAB)
			}
		})
	}
}

func TestApplyMoves(t *testing.T) {
	sc := zhongshan(t)
	in := func(town, capab string) int {
		st := map[string]string{}
		for _, s := range sc.Stations {
			st[s.ID] = s.Town
		}
		n := 0
		for _, u := range sc.Units {
			if st[u.Station] == town && slices.Contains(u.Capabilities, capab) {
				n++
			}
		}
		return n
	}
	shiqi, xiaolan := in("shiqi", "fire_engine"), in("xiaolan", "fire_engine")
	m, err := ParseMove("fire_engine:2:shiqi:xiaolan")
	if err != nil {
		t.Fatal(err)
	}
	if err := ApplyMoves(sc, []Move{m}); err != nil {
		t.Fatal(err)
	}
	if in("shiqi", "fire_engine") != shiqi-2 || in("xiaolan", "fire_engine") != xiaolan+2 {
		t.Errorf("fire engines shiqi %d -> %d, xiaolan %d -> %d", shiqi, in("shiqi", "fire_engine"), xiaolan, in("xiaolan", "fire_engine"))
	}
	if err := sc.Validate(); err != nil {
		t.Errorf("moved scenario invalid: %v", err)
	}
	for _, bad := range []string{"fire_engine:2:shiqi", "fire_engine:x:shiqi:xiaolan", "fire_engine:0:shiqi:xiaolan"} {
		if _, err := ParseMove(bad); err == nil {
			t.Errorf("ParseMove(%q) accepted", bad)
		}
	}
	for _, bad := range []Move{{"fire_engine", 1, "nowhere", "xiaolan"}, {"fire_engine", 1000, "shiqi", "xiaolan"}, {"fire_engine", 1, "shiqi", "shiqi"}} {
		if err := ApplyMoves(sc, []Move{bad}); err == nil {
			t.Errorf("move %v accepted", bad)
		}
	}
}
