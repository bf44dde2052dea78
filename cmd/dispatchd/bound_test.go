package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/zs110/dispatch/dispatch/drill/bound"
)

func TestParseInterspersed(t *testing.T) {
	cases := []struct {
		args []string
		pos  []string
		svg  string
	}{
		{[]string{"a", "b"}, []string{"a", "b"}, ""},
		{[]string{"-svg", "d", "a", "b"}, []string{"a", "b"}, "d"},
		{[]string{"a", "b", "-svg", "d"}, []string{"a", "b"}, "d"},
		{[]string{"a", "--svg", "d", "b"}, []string{"a", "b"}, "d"},
		{[]string{"a", "--", "-svg", "d"}, []string{"a", "-svg", "d"}, ""},
		{nil, nil, ""},
	}
	for _, c := range cases {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		svg := fs.String("svg", "", "")
		pos, err := parseInterspersed(fs, c.args)
		if err != nil || !reflect.DeepEqual(pos, c.pos) || *svg != c.svg {
			t.Errorf("%v: %v, svg %q, %v; want %v, %q", c.args, pos, *svg, err, c.pos, c.svg)
		}
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if _, err := parseInterspersed(fs, []string{"a", "-nope"}); err == nil {
		t.Error("an unknown flag after the files was accepted")
	}
}

// TestBoundCommands: dispatchd bound on a generated day, then report with
// -bound for one and two runs, flags after the file names.
func TestBoundCommands(t *testing.T) {
	if err := (bound.CBC{}).Available(); err != nil {
		msg := "cbc is not installed (apt-get install coinor-cbc): dispatchd bound is not tested"
		if !errors.Is(err, bound.ErrNoCBC) || os.Getenv("CI") == "true" {
			t.Fatal(msg + "; CI=true makes it mandatory: " + err.Error())
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	drillRun(t, "gen", "-seed", "4", "-start", "2013-03-05", "-duration", "1d", "-surges", "none", "-quiet", "-out", p("day.jsonl"))
	out := drillRun(t, "bound", "-from", p("day.jsonl"), "-from-time", "2013-03-05", "-to-time", "2013-03-06", "-seed", "4", "-out", p("bound.json"),
		"-time-limit", "2m")
	for _, want := range []string{"Offline bound", "Late arrivals: at least", "No-congestion bound", "Solver cbc: optimal"} {
		if !strings.Contains(out, want) {
			t.Errorf("bound output lacks %q:\n%s", want, out)
		}
	}
	b, err := bound.DecodeResult(readFile(t, p("bound.json")))
	if err != nil {
		t.Fatal(err)
	}
	if b.Calls < 300 || b.Late < b.NoCongestion || b.LateFound != b.Late || b.Solver.Status != bound.StatusOptimal {
		t.Errorf("bound %+v", b)
	}
	replay := []string{"-from", p("day.jsonl"), "-quiet", "-text=false", "-seed", "4", "-policy", "closest"}
	drillRun(t, "replay", append(replay, "-report", p("closest.json"))...)
	drillRun(t, "replay", append(replay, "-report", p("slow.json"), "-turnout", "5m", "-label", "slow")...)
	one := drillRun(t, "report", p("closest.json"), "-bound", p("bound.json"))
	if !strings.Contains(one, "Response time") || !strings.Contains(one, "against the offline bound") || !strings.Contains(one, "closest") {
		t.Errorf("report with a bound:\n%s", one)
	}
	two := drillRun(t, "report", p("closest.json"), p("slow.json"), "-svg", p("svg"), "-bound", p("bound.json"))
	if !strings.Contains(two, "B against A") || strings.Count(two, "closest") < 2 || strings.Count(two, "slow") < 2 {
		t.Errorf("comparison with a bound:\n%s", two)
	}
	rs, err := bound.Ratios(b, nil)
	if err != nil || len(rs) != 0 {
		t.Errorf("ratios of no run: %v %v", rs, err)
	}
	var o, e bytes.Buffer
	if err := drillCmd(context.Background(), "report", []string{p("closest.json"), p("slow.json"), p("closest.json")}, &o, &e); err == nil {
		t.Error("three runs without a bound accepted")
	}
	if err := drillCmd(context.Background(), "bound", []string{"-from", p("day.jsonl"), "-from-time", "2013-03-06", "-to-time", "2013-03-05"}, &o, &e); err == nil {
		t.Error("an empty window accepted")
	}
}
