package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/segmentio/kafka-go"
)

// consoleChromium returns Debian's chromium, or skips the benchmark.
func consoleChromium(b *testing.B) string {
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	b.Skip("chromium not installed (Debian: apt-get install -y chromium)")
	return ""
}

// rowObserver records, in the page, when each incident's row first enters
// the dispatcher's queue (a MutationObserver on #queue: the DOM insertion)
// and the start of the next animation frame after it (the frame that paints
// it), both as Unix milliseconds (performance.timeOrigin + performance.now(),
// the machine's clock, as the Go side's time.Now()).
const rowObserver = `(() => {
  window.__rows = {}; window.__painted = {};
  const q = document.getElementById("queue");
  const seen = (el) => {
    if (!(el instanceof Element)) return;
    const all = el.matches("li[data-id]") ? [el] : [];
    all.push(...el.querySelectorAll("li[data-id]"));
    for (const li of all) {
      const id = li.dataset.id;
      if (window.__rows[id]) continue;
      const at = performance.timeOrigin + performance.now();
      window.__rows[id] = at;
      requestAnimationFrame((ts) => { window.__painted[id] = performance.timeOrigin + ts; });
    }
  };
  new MutationObserver((ms) => { for (const m of ms) for (const n of m.addedNodes) seen(n); }).observe(q, {childList: true, subtree: true});
  return true;
})()`

// loadavg is the machine's load (/proc/loadavg: 1, 5 and 15 minutes).
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// BenchmarkConsoleRowLatency measures the time from an incident record
// written to Kafka (the kafka-go write call, acknowledged by every replica,
// to the embedded broker over TCP) to its row in the dispatcher's queue in
// chromium: dispatchd serving in process, the console signed in with a
// dispatcher's token, 200 records at 20 a second of the benchmark's type
// mix (P1/P2 dispatched at once, P3/P4 recommended), timestamps taken in the
// page. It reports p50, p99 and max of the row in the DOM and of the frame
// that paints it. Run: go test -run '^$' -bench BenchmarkConsoleRowLatency
// -benchtime 1x -count 3 ./cmd/dispatchd/
func BenchmarkConsoleRowLatency(b *testing.B) {
	chromium := consoleChromium(b)
	brokers := startBroker(b)
	h := startEngine(b, brokers, "", nil)
	defer h.stop()

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(b.TempDir()), chromedp.WindowSize(1600, 1000),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true))
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	ctx, cancelTime := context.WithTimeout(ctx, 5*time.Minute)
	defer cancelTime()
	base := "http://" + h.cfg.HTTPAddr
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1600, 1000), chromedp.Navigate(base+"/?token="+url.QueryEscape(h.tokens["dispatcher"]))); err != nil {
		b.Fatalf("open the console: %v", err)
	}
	pageTrue := func(what, expr string) {
		pollUntil(b, 30*time.Second, what, func() bool {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
			return err == nil && ok
		})
	}
	pageTrue("console live", `document.body.dataset.synced === "1" && document.getElementById("queue") !== null`)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](rowObserver)); err != nil {
		b.Fatal(err)
	}

	// The baseline in the same process: a websocket console in Go (no
	// browser), the time its first event for the incident arrives.
	ws := dialConsole(b, h.cfg.HTTPAddr, h.tokens["dispatcher"], 0)
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: "incidents", Balancer: &kafka.Hash{},
		BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	const rate, count = 20, 200
	load0 := loadavg()
	b.ResetTimer()
	var dom, paint, wsLat []time.Duration
	for it := 0; it < b.N; it++ {
		sent := make(map[string]time.Time, count)
		tick := time.NewTicker(time.Second / rate)
		for i := range count {
			<-tick.C
			id := fmt.Sprintf("ROW%d-%04d", it, i)
			lat, lng := cityPoint(i)
			m := incidentMsg(id, benchMix[i%len(benchMix)], lat, lng, time.Now())
			sent[id] = time.Now()
			if err := w.WriteMessages(b.Context(), m); err != nil {
				b.Fatal(err)
			}
		}
		tick.Stop()
		prefix := fmt.Sprintf("ROW%d-", it)
		pageTrue("every row painted", fmt.Sprintf(`Object.keys(window.__painted).filter(k => k.startsWith(%q)).length >= %d`, prefix, count))
		rows, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`window.__rows`))
		if err != nil {
			b.Fatal(err)
		}
		painted, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](`window.__painted`))
		if err != nil {
			b.Fatal(err)
		}
		pollUntil(b, 30*time.Second, "the Go console has every incident", func() bool { return ws.decidedCount() >= (it+1)*count })
		ws.mu.Lock()
		for id, t0 := range sent {
			wsLat = append(wsLat, ws.arrived[id].Sub(t0))
		}
		ws.mu.Unlock()
		for id, t0 := range sent {
			ms := func(v float64) time.Duration { return time.UnixMicro(int64(v * 1000)).Sub(t0) }
			dom = append(dom, ms(rows[id]))
			paint = append(paint, ms(painted[id]))
		}
	}
	b.StopTimer()
	load1 := loadavg()
	q := func(lat []time.Duration, p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	for name, lat := range map[string][]time.Duration{"dom": dom, "paint": paint, "ws": wsLat} {
		slices.Sort(lat)
		b.ReportMetric(q(lat, 0.5), name+"-p50-ms")
		b.ReportMetric(q(lat, 0.99), name+"-p99-ms")
		if name != "ws" {
			b.ReportMetric(q(lat, 1), name+"-max-ms")
		}
	}
	b.ReportMetric(q(dom, 0.5)/q(wsLat, 0.5), "dom/ws-p50")
	b.Logf("%d records at %d/s; load average before %s, after %s; %d cores", len(dom), rate, load0, load1, runtime.NumCPU())
}
