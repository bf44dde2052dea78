package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func serveConfig(t *testing.T, httpAddr string) *config {
	t.Helper()
	cfg, err := parseConfig("test", nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTPAddr, cfg.EmbeddedKafka, cfg.StateDir = httpAddr, "127.0.0.1:0", t.TempDir()
	return cfg
}

// TestServePortInUse: a taken HTTP port fails first and clearly, before
// anything starts and before any console link is printed.
func TestServePortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var out, logs syncBuffer
	start := time.Now()
	err = serve(context.Background(), serveConfig(t, l.Addr().String()), slog.New(slog.NewTextHandler(&logs, nil)), &out)
	if err == nil || !strings.Contains(err.Error(), "http address "+l.Addr().String()+" unavailable") {
		t.Fatalf("serve on a taken port: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v to fail", took)
	}
	if out.String() != "" || strings.Contains(logs.String(), "kafka") {
		t.Errorf("started before failing:\nout %q\nlogs %q", out.String(), logs.String())
	}
}

// TestServeAnnounce: with -http on every interface (":0" here; ":18081" or
// 0.0.0.0 alike) the printed console links name 127.0.0.1 and the port
// bound, and they work; the embedded broker is said not to be persistent;
// a line is logged at shutdown.
func TestServeAnnounce(t *testing.T) {
	var out, logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, serveConfig(t, ":0"), slog.New(slog.NewTextHandler(&logs, nil)), &out) }()
	link := regexp.MustCompile(`http://127\.0\.0\.1:(\d+)/\?token=\S+`)
	pollUntil(t, 30*time.Second, "console links printed", func() bool { return link.MatchString(out.String()) })
	text := out.String()
	if !strings.Contains(text, "NOT PERSISTENT: its records and offsets") {
		t.Errorf("the embedded broker is not said to be volatile:\n%s", text)
	}
	u := link.FindString(text)
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	io.Copy(io.Discard, resp.Body) //nolint:errcheck // drained
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %d", u, resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "dispatchd stopped") {
		t.Errorf("no line at shutdown:\n%s", logs.String())
	}
}

func TestConsoleBase(t *testing.T) {
	for _, tt := range []struct {
		addr net.Addr
		tls  bool
		want string
	}{
		{&net.TCPAddr{Port: 18081}, false, "http://127.0.0.1:18081"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 18081}, false, "http://127.0.0.1:18081"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8443}, true, "https://127.0.0.1:8443"},
		{&net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 80}, false, "http://10.1.2.3:80"},
		{&net.TCPAddr{IP: net.ParseIP("::1"), Port: 8080}, false, "http://[::1]:8080"},
	} {
		if got := consoleBase(tt.addr, tt.tls); got != tt.want {
			t.Errorf("%v: %s, want %s", tt.addr, got, tt.want)
		}
	}
}

// TestUsageListsSubcommands: every subcommand of the package comment is
// in the usage line.
func TestUsageListsSubcommands(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := regexp.MustCompile(`(?m)^//\tdispatchd (\w+)`).FindAllStringSubmatch(string(src), -1)
	if len(doc) < 7 {
		t.Fatalf("%d subcommands in the package comment", len(doc))
	}
	for _, m := range doc {
		if !strings.Contains(usage(), "|"+m[1]+"|") && !strings.Contains(usage(), "["+m[1]+"|") && !strings.Contains(usage(), "|"+m[1]+"]") {
			t.Errorf("usage %q lacks %s", usage(), m[1])
		}
	}
}
