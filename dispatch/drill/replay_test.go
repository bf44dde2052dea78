package drill

import (
	"bytes"
	"context"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
)

// recorder is a store that notes what it is asked to write.
type recorder struct {
	dispatch.Store
	mu         sync.Mutex
	applies    int  // Apply calls
	maxBatch   int  // most outcomes in one Apply
	alternates bool // some record kept alternates
}

func (r *recorder) Apply(ctx context.Context, outs []*dispatch.Outcome) error {
	r.mu.Lock()
	r.applies++
	r.maxBatch = max(r.maxBatch, len(outs))
	for _, o := range outs {
		if o.Incident != nil && o.Incident.Rec != nil && len(o.Incident.Rec.Alternates) > 0 {
			r.alternates = true
		}
	}
	r.mu.Unlock()
	return r.Store.Apply(ctx, outs)
}

// gcSettings returns the GC percent and the soft memory limit.
func gcSettings() (int, int64) {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p, debug.SetMemoryLimit(-1)
}

// TestReplay: Replay gives the report of New, Run and Report with the
// batch-job settings of `dispatchd replay -speed max` (the engine's 3
// alternates, which change no decision, GC percent 300 and a 1 GiB soft limit while it runs, group commit when
// asked), prints its progress and speed, and touches none of that when
// paced.
func TestReplay(t *testing.T) {
	sc := zhongshan(t)
	ctx := context.Background()
	gen := func(span time.Duration) Source {
		g, err := NewGenerator(GenConfig{Scenario: sc, Seed: 9, Duration: span})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	// what New, Run and Report give without alternates: the same report
	d, err := New(Config{Scenario: sc, Store: memstore.New(Retention()), Drill: "r", Rank: dispatch.RankConfig{Alternates: -1}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Run(ctx, gen(6*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := res.Report(ReportConfig{Label: "x"})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := rep.JSON()
	percent0, limit0 := gcSettings()
	line := regexp.MustCompile(`replayed \d+ calls in [0-9.]+m?s: \d+ incidents/s\n$`)

	replay := func(cfg ReplayConfig) (*recorder, []byte, string) {
		t.Helper()
		rec := &recorder{Store: memstore.New(Retention())}
		var status bytes.Buffer
		cfg.Scenario, cfg.Store, cfg.Drill, cfg.Logger, cfg.Status, cfg.Report = sc, rec, "r", quiet, &status, ReportConfig{Label: "x"}
		got, err := Replay(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if p, l := gcSettings(); p != percent0 || l != limit0 {
			t.Fatalf("GC settings after the replay: %d %d, were %d %d", p, l, percent0, limit0)
		}
		b, _ := got.JSON()
		return rec, b, status.String()
	}

	var plain *recorder
	t.Run("as fast as possible", func(t *testing.T) {
		var percent int
		var limit int64
		cfg := ReplayConfig{Source: gen(6 * time.Hour)}
		cfg.Progress = func(Progress) { percent, limit = gcSettings() }
		rec, got, status := replay(cfg)
		plain = rec
		if !bytes.Equal(got, want) {
			t.Error("Replay's report differs from Run's")
		}
		if percent != 300 || limit != 1<<30 {
			t.Errorf("GC percent %d, memory limit %d while replaying", percent, limit)
		}
		if !rec.alternates {
			t.Error("no record kept alternates: Replay keeps the engine's default of 3 at every speed")
		}
		if !line.MatchString(status) || strings.Count(status, "\n") != 1 {
			t.Errorf("status %q", status)
		}
	})
	t.Run("group commit", func(t *testing.T) {
		rec, got, _ := replay(ReplayConfig{Source: gen(6 * time.Hour), GroupCommit: 100})
		if !bytes.Equal(got, want) {
			t.Error("the report through a group commit differs")
		}
		if plain == nil || rec.applies*10 > plain.applies {
			t.Fatalf("%d writes, %d without group commit", rec.applies, plain.applies)
		}
		a, err := plain.Load(ctx, "r")
		if err != nil {
			t.Fatal(err)
		}
		b, err := rec.Load(ctx, "r")
		if err != nil || b.LastSeq != a.LastSeq || len(b.Open) != len(a.Open) {
			t.Fatalf("stored: last seq %d, %d open (%v); without group commit %d, %d", b.LastSeq, len(b.Open), err, a.LastSeq, len(a.Open))
		}
	})
	t.Run("alternates asked for", func(t *testing.T) {
		cfg := ReplayConfig{Source: gen(2 * time.Hour)}
		cfg.Rank.Alternates = 3
		if rec, _, _ := replay(cfg); !rec.alternates {
			t.Error("no record kept alternates")
		}
	})
	t.Run("progress bar", func(t *testing.T) {
		_, _, status := replay(ReplayConfig{Source: gen(2 * time.Hour), Total: 600, Bar: true})
		if !strings.Contains(status, "incidents") || !line.MatchString(status) {
			t.Errorf("status %q", status)
		}
	})
	t.Run("paced", func(t *testing.T) {
		var percent int
		cfg := ReplayConfig{Source: gen(time.Hour), GroupCommit: 100}
		cfg.Speed = 1e5 // an hour in 36 ms
		cfg.Progress = func(Progress) { percent, _ = gcSettings() }
		rec, _, _ := replay(cfg)
		if percent != percent0 || !rec.alternates || rec.maxBatch > 10 {
			t.Errorf("paced: GC percent %d, alternates %v, batches up to %d outcomes", percent, rec.alternates, rec.maxBatch)
		}
	})
	t.Run("errors", func(t *testing.T) {
		if _, err := Replay(ctx, ReplayConfig{Config: Config{Scenario: sc, Store: memstore.New(Retention()), Drill: "r"}}); err == nil {
			t.Error("no source accepted")
		}
		if _, err := Replay(ctx, ReplayConfig{Config: Config{Scenario: sc, Drill: "r"}, Source: gen(time.Hour)}); err == nil {
			t.Error("no store accepted")
		}
		if p, l := gcSettings(); p != percent0 || l != limit0 {
			t.Errorf("GC settings after a failed replay: %d %d", p, l)
		}
	})
}
