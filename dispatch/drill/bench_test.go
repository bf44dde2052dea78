package drill

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/pgstore"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/dispatch/storetest"
)

// benchDays reads a span in days from the environment.
func benchDays(env string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(env)); err == nil && n > 0 {
		return n
	}
	return def
}

// peakRSS returns the process's peak resident set size in MiB (Linux), 0 elsewhere.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var kb float64
		if _, err := fmt.Sscanf(sc.Text(), "VmHWM: %f kB", &kb); err == nil {
			return kb / 1024
		}
	}
	return 0
}

// testDB creates a fresh database and drops it at cleanup (storetest.NewDatabase).
func testDB(tb testing.TB) string {
	tb.Helper()
	return storetest.NewDatabase(tb, "drill_test")
}

// BenchmarkReplay replays the synthetic stream (seed 1, the default surges
// that fall in the span) as fast as possible, simulation included, as
// `dispatchd replay --speed max` does (GC percent 300, soft memory limit
// 1 GiB, no alternates: DRILL_BENCH_ALTERNATES=3 keeps the engine's
// default). The span is
// DRILL_BENCH_DAYS days (default 30; 365 for the year) in memory and
// DRILL_BENCH_PG_DAYS (default 1) with PostgreSQL, each step durable
// ("postgres") or 1,000 outcomes a transaction ("postgres-group", see
// GroupCommit). It reports incidents/s,
// the span's calls and the process's peak RSS.
func BenchmarkReplay(b *testing.B) {
	// the command keeps the engine's default of 3 alternates at every
	// speed; DRILL_BENCH_ALTERNATES=-1 measures without them
	alternates := 0
	if n, err := strconv.Atoi(os.Getenv("DRILL_BENCH_ALTERNATES")); err == nil {
		alternates = n
	}
	for _, store := range []string{"memory", "postgres", "postgres-group"} {
		days := benchDays("DRILL_BENCH_DAYS", 30)
		if store != "memory" {
			days = benchDays("DRILL_BENCH_PG_DAYS", 1)
		}
		b.Run(fmt.Sprintf("store=%s/days=%d", store, days), func(b *testing.B) {
			sc, err := scenario.Default()
			if err != nil {
				b.Fatal(err)
			}
			defer debug.SetGCPercent(debug.SetGCPercent(300))
			defer debug.SetMemoryLimit(debug.SetMemoryLimit(1 << 30))
			var calls int
			var total time.Duration
			for i := 0; i < b.N; i++ {
				var st dispatch.Store = memstore.New(Retention())
				if store != "memory" {
					pg, err := pgstore.New(context.Background(), pgstore.Config{URL: testDB(b), Logger: quiet})
					if err != nil {
						b.Fatal(err)
					}
					st = pg
					if store == "postgres-group" {
						st = NewGroupCommit(pg, 1000)
					}
				}
				g, err := NewGenerator(GenConfig{Scenario: sc, Seed: 1, Duration: time.Duration(days) * 24 * time.Hour})
				if err != nil {
					b.Fatal(err)
				}
				d, err := New(Config{Scenario: sc, Store: st, Drill: fmt.Sprintf("bench-%d", i), Seed: 1, Logger: quiet,
					Rank: dispatch.RankConfig{Alternates: alternates}})
				if err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				b.StartTimer()
				start := time.Now()
				res, err := d.Run(context.Background(), g)
				total += time.Since(start)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				calls += res.Calls()
				st.Close()
			}
			b.ReportMetric(float64(calls)/total.Seconds(), "incidents/s")
			b.ReportMetric(float64(calls/b.N), "calls")
			b.ReportMetric(peakRSS(), "peak-RSS-MiB")
		})
	}
}
