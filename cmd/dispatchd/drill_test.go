package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zs110/dispatch/dispatch/drill"
)

// drillRun runs a drill subcommand and returns its standard output.
func drillRun(t *testing.T, cmd string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if err := drillCmd(context.Background(), cmd, args, &out, &errb); err != nil {
		t.Fatalf("dispatchd %s %s: %v\n%s", cmd, strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDrillCommands: gen, replay and report from files; the same seed
// gives the same stream and the same report, byte for byte.
func TestDrillCommands(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	gen := []string{"-seed", "3", "-start", "2013-09-22", "-duration", "12h", "-typhoon-start", "2013-09-22T04:00:00+08:00", "-typhoon-calls", "800", "-quiet"}
	drillRun(t, "gen", append(gen, "-out", p("a.jsonl"))...)
	drillRun(t, "gen", append(gen, "-out", p("b.jsonl"))...)
	a := readFile(t, p("a.jsonl"))
	if !bytes.Equal(a, readFile(t, p("b.jsonl"))) {
		t.Fatal("same seed, different streams")
	}
	if n := bytes.Count(a, []byte("\n")); n < 1800 {
		t.Fatalf("%d calls in 12 hours with a typhoon", n)
	}
	replay := []string{"-from", p("a.jsonl"), "-quiet", "-restock-every", "6h"}
	text := drillRun(t, "replay", append(replay, "-policy", "closest", "-report", p("closest.json"), "-svg", p("svg"))...)
	for _, want := range []string{"Response time", "Queue:", "Teams", "Stock"} {
		if !strings.Contains(text, want) {
			t.Errorf("replay output lacks %q", want)
		}
	}
	drillRun(t, "replay", append(replay, "-policy", "closest", "-report", p("again.json"), "-text=false")...)
	if !bytes.Equal(readFile(t, p("closest.json")), readFile(t, p("again.json"))) {
		t.Fatal("same stream, different reports")
	}
	for _, f := range []string{"response.svg", "queue.svg", "stock.svg", "teams.svg"} {
		if _, err := os.Stat(filepath.Join(p("svg"), f)); err != nil {
			t.Error(err)
		}
	}
	drillRun(t, "replay", append(replay, "-report", p("moved.json"), "-text=false", "-coverage-weight", "300",
		"-move", "fire_engine:2:shiqi:xiaolan")...)
	cmp := drillRun(t, "report", "-svg", p("cmp"), "-json", p("cmp.json"), p("closest.json"), p("moved.json"))
	if !strings.Contains(cmp, "A: closest\n") || !strings.Contains(cmp, "B: responders, coverage-aware (300s), diversion, moved fire_engine:2:shiqi:xiaolan") ||
		!strings.Contains(cmp, "first responders") || !strings.Contains(cmp, "B against A") {
		t.Errorf("comparison:\n%s", cmp)
	}
	if _, err := os.Stat(filepath.Join(p("cmp"), "compare-p90.svg")); err != nil {
		t.Error(err)
	}
	if one := drillRun(t, "report", p("closest.json")); one != text {
		t.Error("report of the saved JSON differs from the replay's")
	}
	// The delta truth, learning and not: the report's eta section.
	etas := map[string]drill.ETAReport{}
	for name, flags := range map[string][]string{"learn": nil, "model": {"-learn=false"}, "know": {"-know-truth", "-truth-spread", "0"}} {
		drillRun(t, "replay", append(append(replay, "-truth", "delta", "-report", p(name+".json"), "-text=false"), flags...)...)
		var rep drill.Report
		if err := json.Unmarshal(readFile(t, p(name+".json")), &rep); err != nil || rep.ETA == nil {
			t.Fatalf("%s: %v, eta %+v", name, err, rep.ETA)
		}
		etas[name] = *rep.ETA
	}
	if l, m, k := etas["learn"], etas["model"], etas["know"]; !l.Learning || m.Learning || l.Truth != "delta" || m.Learned != 0 || l.Learned == 0 ||
		!(l.MAPEAll < m.MAPEAll) || !k.KnowTruth || !(k.MAPEAll < 1) || l.Spread != 0.15 || k.Spread != 0 {
		t.Errorf("eta sections: learn %+v\nmodel %+v\nknow %+v", l, m, k)
	}
	var errb bytes.Buffer
	for _, bad := range [][]string{{"-truth", "sea"}, {"-know-truth"}} {
		if err := drillCmd(context.Background(), "replay", append(append(replay, "-text=false"), bad...), &bytes.Buffer{}, &errb); err == nil {
			t.Errorf("replay %v: accepted", bad)
		}
	}
}

func TestDrillKafka(t *testing.T) {
	brokers := startBroker(t)
	dir := t.TempDir()
	drillRun(t, "gen", "-seed", "5", "-duration", "2h", "-surges", "none", "-quiet", "-brokers", brokers[0], "-out", "kafka://incidents")
	drillRun(t, "gen", "-seed", "5", "-duration", "2h", "-surges", "none", "-quiet", "-out", filepath.Join(dir, "s.jsonl"))
	drillRun(t, "replay", "-from", "kafka://incidents", "-brokers", brokers[0], "-quiet", "-text=false", "-report", filepath.Join(dir, "k.json"))
	drillRun(t, "replay", "-from", filepath.Join(dir, "s.jsonl"), "-quiet", "-text=false", "-report", filepath.Join(dir, "f.json"))
	k, f := readFile(t, filepath.Join(dir, "k.json")), readFile(t, filepath.Join(dir, "f.json"))
	// calls of the same second may come in another order from the partitions:
	// compare the counts, not the bytes
	for _, key := range []string{`"calls"`, `"incidents"`, `"duplicates"`} {
		if countField(k, key) != countField(f, key) {
			t.Errorf("%s: kafka %s, file %s", key, countField(k, key), countField(f, key))
		}
	}
	drillRun(t, "replay", "-from", "kafka://incidents", "-brokers", brokers[0], "-quiet", "-text=false", "-drill", "hour",
		"-from-time", "2013-01-01T00:30:00+08:00", "-to-time", "2013-01-01T01:00:00+08:00", "-report", filepath.Join(dir, "h.json"))
	if calls := countField(readFile(t, filepath.Join(dir, "h.json")), `"calls"`); calls == "" || calls == countField(f, `"calls"`) {
		t.Errorf("half an hour of calls: %s", calls)
	}
}

func countField(b []byte, key string) string {
	i := bytes.Index(b, []byte(key+": "))
	if i < 0 {
		return ""
	}
	rest := b[i+len(key)+2:]
	return string(rest[:bytes.IndexAny(rest, ",\n")])
}

func TestDrillPostgres(t *testing.T) {
	db := testDB(t)
	dir := t.TempDir()
	drillRun(t, "gen", "-seed", "2", "-duration", "1h", "-surges", "none", "-quiet", "-out", filepath.Join(dir, "s.jsonl"))
	args := []string{"-from", filepath.Join(dir, "s.jsonl"), "-quiet", "-text=false"}
	drillRun(t, "replay", append(args, "-report", filepath.Join(dir, "mem.json"))...)
	drillRun(t, "replay", append(args, "-database", db, "-drill", "pg1", "-report", filepath.Join(dir, "pg.json"))...)
	mem, pg := readFile(t, filepath.Join(dir, "mem.json")), readFile(t, filepath.Join(dir, "pg.json"))
	if !bytes.Equal(bytes.Replace(mem, []byte(`"drill": "replay"`), []byte(`"drill": "pg1"`), 1), pg) {
		t.Error("the drill in PostgreSQL gave another report than in memory")
	}
	var out, errb bytes.Buffer
	if err := drillCmd(context.Background(), "replay", append(args, "-database", db, "-drill", "pg1"), &out, &errb); err == nil {
		t.Error("a second replay into drill pg1 was accepted")
	}
}

func TestDrillFlagErrors(t *testing.T) {
	cases := []struct {
		cmd  string
		args []string
	}{
		{"replay", nil},
		{"replay", []string{"-from", "x.jsonl", "-speed", "fast"}},
		{"replay", []string{"-from", "/nonexistent.jsonl"}},
		{"replay", []string{"-from", "x", "-move", "fire_engine:2"}},
		{"gen", []string{"-duration", "0d"}},
		{"gen", []string{"-start", "yesterday"}},
		{"gen", []string{"-surges", "earthquake"}},
		{"report", nil},
		{"report", []string{"a", "b", "c"}},
		{"nope", nil},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		if err := drillCmd(context.Background(), c.cmd, c.args, &out, &errb); err == nil {
			t.Errorf("%s %v: accepted", c.cmd, c.args)
		}
	}
}
