package drillio

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch/drill"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/scenario"
)

func TestTopic(t *testing.T) {
	for addr, want := range map[string]string{"kafka://incidents": "incidents", "kafka://": "", "incidents.jsonl": "", "-": ""} {
		if got, ok := Topic(addr); got != want || ok != (want != "") {
			t.Errorf("Topic(%q) = %q %v", addr, got, ok)
		}
	}
}

// TestOpen: a JSON-lines file with its line count, a Kafka topic with its
// record count (unknown with an end time), a missing file.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	gen := func() drill.Source {
		g, err := drill.NewGenerator(drill.GenConfig{Scenario: sc, Seed: 4, Duration: time.Hour, Surges: []drill.Surge{}})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	path := filepath.Join(t.TempDir(), "s.jsonl")
	var buf bytes.Buffer
	n, err := drill.WriteJSONL(&buf, gen(), nil)
	if err != nil || os.WriteFile(path, buf.Bytes(), 0o644) != nil {
		t.Fatal(err)
	}
	src, total, closeSrc, err := Open(ctx, path, SourceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if got := drain(t, src); total != int64(n) || len(got) != n {
		t.Errorf("file: total %d, read %d, wrote %d", total, len(got), n)
	}
	closeSrc()
	if _, _, _, err := Open(ctx, filepath.Join(t.TempDir(), "none.jsonl"), SourceConfig{}); err == nil {
		t.Error("a missing file opened")
	}

	brokers := broker(t, "calls", 1)
	sink, err := NewSink(SinkConfig{Brokers: brokers, Topic: "calls"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sink.WriteAll(ctx, gen(), nil); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	src, total, closeSrc, err = Open(ctx, "kafka://calls", SourceConfig{Brokers: brokers})
	if err != nil {
		t.Fatal(err)
	}
	if got := drain(t, src); total != int64(n) || len(got) != n {
		t.Errorf("topic: total %d, read %d, wrote %d", total, len(got), n)
	}
	closeSrc()
	_, total, closeSrc, err = Open(ctx, "kafka://calls", SourceConfig{Brokers: brokers, To: drill.DefaultStart.Add(30 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	closeSrc()
	if total != -1 {
		t.Errorf("topic up to a time: total %d, want -1 (unknown)", total)
	}
}

// TestWriteReport: JSON, plots and text where asked, nothing elsewhere.
func TestWriteReport(t *testing.T) {
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	g, err := drill.NewGenerator(drill.GenConfig{Scenario: sc, Seed: 4, Duration: time.Hour, Surges: []drill.Surge{}})
	if err != nil {
		t.Fatal(err)
	}
	var cfg drill.ReplayConfig
	cfg.Scenario, cfg.Store, cfg.Drill, cfg.Source = sc, memstore.New(drill.Retention()), "w", g
	rep, err := drill.Replay(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var text bytes.Buffer
	if err := WriteReport(rep, ReportOutput{JSON: filepath.Join(dir, "r.json"), SVGDir: filepath.Join(dir, "svg"), Text: &text}); err != nil {
		t.Fatal(err)
	}
	want, _ := rep.JSON()
	if got, err := os.ReadFile(filepath.Join(dir, "r.json")); err != nil || !bytes.Equal(got, want) {
		t.Errorf("JSON file: %v", err)
	}
	plots, _ := os.ReadDir(filepath.Join(dir, "svg"))
	if len(plots) != len(rep.Plots()) || len(plots) == 0 {
		t.Errorf("%d plots written, report has %d", len(plots), len(rep.Plots()))
	}
	if !bytes.Contains(text.Bytes(), []byte("Response time")) {
		t.Errorf("text %q", text.String())
	}
	if err := WriteReport(rep, ReportOutput{}); err != nil {
		t.Errorf("nothing to write: %v", err)
	}
}
