package main

import (
	"context"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/segmentio/kafka-go"
)

// browserTab starts a headless chromium on a fresh profile (skipped when
// none is installed) and returns a tab that ends with the test.
func browserTab(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skip("chromium not installed")
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.WindowSize(1600, 1000))
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// pageTrue polls a JavaScript predicate every 10 ms until it holds and
// returns how long that took; the test fails after timeout.
func pageTrue(t *testing.T, ctx context.Context, timeout time.Duration, what, predicate string) time.Duration {
	t.Helper()
	start := time.Now()
	var last error
	for time.Since(start) < timeout {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+predicate+")"))
		if err == nil && ok {
			return time.Since(start)
		}
		last = err
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, ctx.Err())
		}
	}
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
	t.Fatalf("%s: not true after %v (%v): %s\n%s", what, timeout, last, predicate, text)
	return 0
}

// TestRefusedCallOnConsole: a record Python's json.dumps would write with a
// NaN latitude, sent over Kafka, is dead-lettered and counted, and shows on
// the dispatcher's console within 1 s as a manual incident with the reason
// and its raw text (as text: the markup in it stays inert).
func TestRefusedCallOnConsole(t *testing.T) {
	brokers := startBroker(t)
	h := startEngine(t, brokers, "", nil)
	defer h.stop()
	ctx := browserTab(t)
	if _, err := chromedp.RunResponse(ctx, chromedp.Navigate("http://"+h.cfg.HTTPAddr+"/?token="+url.QueryEscape(h.tokens["dispatcher"]))); err != nil {
		t.Fatal(err)
	}
	pageTrue(t, ctx, 20*time.Second, "console connected", `document.body.dataset.role === "dispatcher" && document.getElementById("conn")?.dataset.state === "connected"`)

	at := e2eStart.Format(time.RFC3339)
	raw := `{"id": "PY-NAN-1", "reported_at": "` + at + `", "type": "fire.building", "address": "<img src=x onerror=window.pwned=1>", "lat": NaN, "lng": 113.39}`
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: "incidents", BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	sent := time.Now()
	if err := w.WriteMessages(context.Background(), kafka.Message{Key: []byte("PY-NAN-1"), Value: []byte(raw)}); err != nil {
		t.Fatal(err)
	}
	shown := pageTrue(t, ctx, 10*time.Second, "NaN call in the queue as manual", `document.querySelector('#queue [data-id="PY-NAN-1"] .tag-manual') !== null`)
	if took := time.Since(sent); took > time.Second {
		t.Errorf("NaN call shown %v after it was sent, want within 1 s", took)
	} else {
		t.Logf("NaN call shown %v after it was sent (the page polled for %v)", took.Round(time.Millisecond), shown.Round(time.Millisecond))
	}

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#queue [data-id="PY-NAN-1"]`))); err != nil {
		t.Fatal(err)
	}
	pageTrue(t, ctx, 5*time.Second, "raw text in the detail", `document.getElementById("raw-record")?.textContent === `+jsString(raw))
	pageTrue(t, ctx, time.Second, "reason shown by name, markup inert", `document.querySelector("#detail dd.invalid")?.textContent.length > 0 && document.querySelectorAll("#detail img").length === 0 && !window.pwned`)
	dlq := readTopic(t, brokers, "incidents.dlq", 1)
	if string(dlq[0].Value) != raw {
		t.Errorf("dead letter %q, want the original bytes", dlq[0].Value)
	}
	pollUntil(t, 10*time.Second, "dead letter counted", func() bool {
		return strings.Contains(httpGet(t, "http://"+h.cfg.HTTPAddr+"/metrics", ""), `dispatch_dead_letters_total{reason="bad_json"} 1`)
	})
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\u2028", `\u2028`, "\u2029", `\u2029`)
	return `"` + r.Replace(s) + `"`
}
