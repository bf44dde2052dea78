package drillio

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/drill"
	"github.com/zs110/dispatch/dispatch/kafkaio"
	"github.com/zs110/dispatch/dispatch/scenario"
)

func broker(t *testing.T, topic string, partitions int) []string {
	t.Helper()
	emb, err := kafkaio.StartEmbedded(context.Background(), "127.0.0.1:0", []string{topic}, partitions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	return []string{emb.Addr()}
}

func drain(t *testing.T, src drill.Source) []dispatch.Incident {
	t.Helper()
	var out []dispatch.Incident
	for {
		inc, err := src.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, inc)
	}
}

// TestRoundTrip produces a generated stream to a 3-partition topic and
// reads it back: whole, by time range and by offset range.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	brokers := broker(t, "drill", 3)
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2013, 3, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	gen := func() drill.Source {
		g, err := drill.NewGenerator(drill.GenConfig{Scenario: sc, Seed: 4, Start: start, Duration: 3 * time.Hour, Surges: []drill.Surge{}})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	want := drain(t, gen())
	sink, err := NewSink(SinkConfig{Brokers: brokers, Topic: "drill", BatchSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	n, err := sink.WriteAll(ctx, gen(), nil)
	if err != nil || n != len(want) {
		t.Fatalf("wrote %d (%v), want %d", n, err, len(want))
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	ids := func(incs []dispatch.Incident) []string {
		var out []string
		for _, inc := range incs {
			out = append(out, inc.ID)
		}
		slices.Sort(out)
		return out
	}
	cases := []struct {
		name string
		cfg  SourceConfig
		keep func(dispatch.Incident) bool
	}{
		{"whole topic", SourceConfig{}, func(dispatch.Incident) bool { return true }},
		{"one hour", SourceConfig{From: start.Add(time.Hour), To: start.Add(2 * time.Hour)},
			func(inc dispatch.Incident) bool {
				return !inc.ReportedAt.Before(start.Add(time.Hour)) && inc.ReportedAt.Before(start.Add(2*time.Hour))
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			cfg.Brokers, cfg.Topic = brokers, "drill"
			src, err := NewSource(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			got := drain(t, src)
			var exp []dispatch.Incident
			for _, inc := range want {
				if c.keep(inc) {
					exp = append(exp, inc)
				}
			}
			if !slices.Equal(ids(got), ids(exp)) {
				t.Fatalf("read %d records, want %d", len(got), len(exp))
			}
			for i := 1; i < len(got); i++ {
				if got[i].ReportedAt.Before(got[i-1].ReportedAt) {
					t.Fatalf("record %d out of reported_at order", i)
				}
			}
		})
	}
	// offsets: the first 10 records of partition 1
	src, err := NewSource(ctx, SourceConfig{Brokers: brokers, Topic: "drill", Partitions: []int{1}, EndOffset: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if got := drain(t, src); len(got) != 10 || src.Total() != 10 {
		t.Fatalf("offsets 0-9 of partition 1: %d records, total %d", len(got), src.Total())
	}
	if _, err := NewSource(ctx, SourceConfig{Brokers: brokers, Topic: "drill", Partitions: []int{7}}); err == nil {
		t.Fatal("a partition the topic lacks was accepted")
	}
}
