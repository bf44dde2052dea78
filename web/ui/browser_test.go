package ui_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium (apt-get install -y chromium).
const chromiumPath = "/usr/bin/chromium"

// findChromium returns the chromium binary. Without one the test is
// skipped, except under CI=true, where the browser tests must run.
func findChromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return chromiumPath
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "chromium not installed: the browser tests need it (Debian: apt-get install -y chromium)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true makes them mandatory")
	}
	t.Skip(msg)
	return ""
}

// newBrowser starts a headless chromium with a fresh profile and returns a
// tab context that ends with the test. Each call is a separate browser: two
// consoles never share cookies.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(findChromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("lang", "en-GB"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1600, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1600, 1100), chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// do runs browser actions and fails the test on error.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// navigate runs steps that make the page navigate (a form submitted, a
// link followed) and waits until the new page has loaded.
func navigate(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if _, err := chromedp.RunResponse(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression (promises are awaited) and returns its value.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// pollInterval is how often waitFor asks the page again.
const pollInterval = 25 * time.Millisecond

// waitFor polls a JavaScript predicate until it is truthy, for at most
// timeout. Errors while the page navigates (the old document's context is
// gone) are retried, not fatal. On timeout the test fails with the page text.
func waitFor(t *testing.T, ctx context.Context, timeout time.Duration, what, predicate string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var lastErr error
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+predicate+")"))
		if err == nil && ok {
			return
		}
		if err != nil {
			lastErr = err
			if ctx.Err() != nil {
				t.Fatalf("waiting for %s: %v", what, ctx.Err())
			}
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
			t.Fatalf("waiting for %s: not true after %v (last error: %v): %s\npage text:\n%s", what, timeout, lastErr, predicate, body)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		}
	}
}

// waitJS is waitFor with a 10 s timeout.
func waitJS(t *testing.T, ctx context.Context, what, predicate string) {
	t.Helper()
	waitFor(t, ctx, 10*time.Second, what, predicate)
}

// clickJS clicks the element matching selector from inside the page, in one
// step, retrying until it exists. chromedp's Click looks the node up first
// and fails ("Could not find node with given id") when the live queue is
// re-rendered between the look-up and the click.
func clickJS(t *testing.T, ctx context.Context, what, selector string) {
	t.Helper()
	waitJS(t, ctx, what, fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el) return false; el.click(); return true })()`, selector))
}

// screenshotDir is where the README's screenshots are kept.
var screenshotDir = filepath.Join("testdata", "screenshots")

// screenshot saves a PNG of the page (the window, or the whole page when
// full) as a test artefact in $ARTIFACTS or the test's temp dir. With
// readme set and UPDATE_SCREENSHOTS=1 it also replaces
// testdata/screenshots/<name>.png, the picture the README shows.
func screenshot(t *testing.T, ctx context.Context, name string, readme bool) {
	t.Helper()
	do(t, ctx, "tidy the page", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0); document.activeElement && document.activeElement.blur && document.activeElement.blur(); document.getElementById("toast") && (document.getElementById("toast").hidden = true)`))
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := os.Getenv("ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
	if readme && os.Getenv("UPDATE_SCREENSHOTS") == "1" {
		if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), buf, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("updated %s", filepath.Join(screenshotDir, name+".png"))
	}
}

// TestReadmeScreenshots: the screenshots the README shows exist and are PNGs.
func TestReadmeScreenshots(t *testing.T) {
	for _, name := range []string{"dispatcher-console", "team-leader-console"} {
		b, err := os.ReadFile(filepath.Join(screenshotDir, name+".png"))
		if err != nil {
			t.Errorf("%v: run UPDATE_SCREENSHOTS=1 go test ./web/ui/", err)
			continue
		}
		if !strings.HasPrefix(string(b), "\x89PNG\r\n\x1a\n") || len(b) < 10000 {
			t.Errorf("%s.png is not a screenshot (%d bytes)", name, len(b))
		}
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dispatcher-console", "team-leader-console"} {
		if !strings.Contains(string(readme), "web/ui/testdata/screenshots/"+name+".png") {
			t.Errorf("README.md does not show %s.png", name)
		}
	}
}
