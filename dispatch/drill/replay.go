package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/zs110/dispatch/dispatch/memstore"
)

// Retention is what an in-memory store keeps of a drill's history
// (memstore.Config): the newest 32,768 console events and unsent outbox
// records (an in-memory drill has no relay) and the 10,000 most recently
// closed incidents, so that a year of calls fits in memory; the drill's
// whole state and every decided id are kept anyway.
func Retention() memstore.Config {
	return memstore.Config{KeepEvents: 32768, KeepOutbox: 32768, KeepClosed: 10000}
}

// ReplayConfig configures Replay: a drill and what `dispatchd replay` runs
// around it.
type ReplayConfig struct {
	// Config is the drill. Its Store is required (memstore.New(Retention())
	// in memory, or a PostgreSQL store); Replay neither wraps nor closes it
	// but as GroupCommit says. Rank.Alternates keeps the engine's default
	// (3) at every speed: the engine no longer writes JSON, so the next
	// candidates cost little where nobody reads them. Progress, when set, is
	// called as well as the bar.
	Config
	// Source is the stream to replay. Required; Replay does not close it.
	Source Source
	// Total is how many records Source holds, for the progress bar; -1:
	// unknown.
	Total int64
	// GroupCommit, above 1 at Speed 0, writes the outcomes through a
	// GroupCommit of that many a transaction: for a PostgreSQL store, whose
	// every step is durable otherwise. 0 or 1: none.
	GroupCommit int
	// Report configures the report.
	Report ReportConfig
	// Status receives the progress bar (when Bar is set) and, once the drill
	// has run, the line "replayed N calls in D: R incidents/s". Default: no
	// output.
	Status io.Writer
	// Bar draws a progress bar on Status while the drill runs: records
	// decided, simulated time, queue and busy units.
	Bar bool
}

// Replay runs a drill from a source to its report, as `dispatchd replay`
// does (see docs/drills.md): it builds the drill (New), runs it (Run) with
// a progress bar, prints how fast it went and returns the report
// (Result.Report). At Speed 0 it is a batch job: while it runs, the
// process's garbage collector runs less often (GC percent 300) within a
// soft limit of 1 GiB of heap; the previous settings (runtime/debug) are
// back when it returns. It fails as New, Run and Report do.
func Replay(ctx context.Context, cfg ReplayConfig) (*Report, error) {
	if cfg.Source == nil {
		return nil, errors.New("drill: replay: no source")
	}
	status := cfg.Status
	if status == nil {
		status = io.Discard
	}
	dc := cfg.Config
	if dc.Speed == 0 {
		defer debug.SetGCPercent(debug.SetGCPercent(300))
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(1 << 30))
		if cfg.GroupCommit > 1 && dc.Store != nil {
			gc := NewGroupCommit(dc.Store, cfg.GroupCommit)
			// Run flushes when it ends; this writes what a failed run queued.
			// Not Close: that would close the caller's store.
			defer func() { _ = gc.Flush(context.Background()) }()
			dc.Store = gc
		}
	}
	var bar *progressbar.ProgressBar
	if cfg.Bar {
		bar = NewBar(status, cfg.Total, "incidents")
		then := dc.Progress
		dc.Progress = func(p Progress) {
			bar.Describe(fmt.Sprintf("%s queue %d busy %d", p.SimTime.Format(timeFmt), p.Queue, p.Busy))
			_ = bar.Set64(int64(p.Incidents))
			if then != nil {
				then(p)
			}
		}
	}
	d, err := New(dc)
	if err != nil {
		return nil, err
	}
	began := time.Now()
	res, err := d.Run(ctx, cfg.Source)
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(status)
	}
	if err != nil {
		return nil, err
	}
	el := time.Since(began)
	fmt.Fprintf(status, "replayed %d calls in %s: %.0f incidents/s\n", res.Calls(), el.Round(time.Millisecond), float64(res.Calls())/el.Seconds())
	return res.Report(cfg.Report)
}

// NewBar returns the progress bar of the drill commands, drawn on w: total
// things to count (-1: unknown), what they are called.
func NewBar(w io.Writer, total int64, what string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(total, progressbar.OptionSetWriter(w), progressbar.OptionShowIts(), progressbar.OptionShowCount(),
		progressbar.OptionSetItsString(what), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetWidth(30), progressbar.OptionSetRenderBlankState(true))
}
