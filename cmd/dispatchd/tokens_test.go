package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// tokenRun runs `dispatchd token ARGS` with env and returns its output.
func tokenRun(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := tokenCmd(context.Background(), args, &out, func(k string) string { return env[k] })
	return out.String(), err
}

var printedTokenRE = regexp.MustCompile(`(?m)^  (\S{43})$`)

// addedToken runs `token add` and returns the plain token it printed.
func addedToken(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	out, err := tokenRun(t, env, append([]string{"add"}, args...)...)
	if err != nil {
		t.Fatalf("token add: %v\n%s", err, out)
	}
	m := printedTokenRE.FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "/?token="+url.QueryEscape(m[1])) {
		t.Fatalf("token add printed no token and link:\n%s", out)
	}
	return m[1]
}

// TestTokenCommandsFile: add, list and revoke in the state directory's
// token file; scopes are checked against the scenario.
func TestTokenCommandsFile(t *testing.T) {
	env := map[string]string{"DISPATCH_STATE_DIR": t.TempDir()}
	addedToken(t, env, "--name", "Li Wei", "--role", "dispatcher", "--towns", "shiqi,dongqu", "--expires", "720h")
	addedToken(t, env, "--name", "Chen Jing", "--role", "team_leader", "--team", "police")
	for _, bad := range [][]string{
		{"--name", "X", "--towns", "atlantis"},
		{"--name", "X", "--role", "team_leader", "--team", "navy"},
		{"--name", "X", "--role", "team_leader"},
		{"--role", "dispatcher"},
		{"--name", "X", "--role", "mayor"},
	} {
		if out, err := tokenRun(t, env, append([]string{"add"}, bad...)...); err == nil {
			t.Errorf("token add %v accepted:\n%s", bad, out)
		}
	}
	list, err := tokenRun(t, env, "list")
	if err != nil || !strings.Contains(list, "2 token(s)") || !strings.Contains(list, "Li Wei") || !strings.Contains(list, "towns shiqi,dongqu") || !strings.Contains(list, "team police") {
		t.Fatalf("list: %v\n%s", err, list)
	}
	out, err := tokenRun(t, env, "revoke", "Li Wei")
	if err != nil || !strings.Contains(out, "revoked 1 token(s) of Li Wei") {
		t.Fatalf("revoke: %v %s", err, out)
	}
	if _, err := tokenRun(t, env, "revoke", "Li Wei"); err == nil {
		t.Fatal("revoked twice")
	}
	if list, _ = tokenRun(t, env, "list"); !strings.Contains(list, "revoked") {
		t.Fatalf("list after revoke:\n%s", list)
	}
}

// closedWithin waits for the console's close frame and returns how long it
// took from `since` and the close error.
func closedWithin(t *testing.T, conn *websocket.Conn, since time.Time, limit time.Duration) (time.Duration, *websocket.CloseError) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(limit + 5*time.Second))
	for {
		_, _, err := conn.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return time.Since(since), ce
		}
		if err != nil {
			t.Fatalf("console: %v, want a close frame", err)
		}
	}
}

// openConsole opens /ws with a token and says hello.
func openConsole(t *testing.T, addr, token string) *websocket.Conn {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		t.Fatalf("dial: %v (HTTP %d)", err, code)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.WriteJSON(map[string]any{"type": "hello", "after": 0}); err != nil {
		t.Fatal(err)
	}
	return conn
}

func apiStatus(t *testing.T, addr, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestPeopleTokensTwoServers: two dispatchd on one database, no token
// file. The first start makes the first tokens once; a token added with
// `dispatchd token add` is accepted by both, its holder's name is what the
// audit trail records; `dispatchd token revoke` refuses it on HTTP and
// closes its open consoles on both servers within 5 s; a restart keeps it
// revoked.
func TestPeopleTokensTwoServers(t *testing.T) {
	db := testDB(t)
	brokers := startBroker(t)
	var out1, out2 syncBuffer
	mk := func(out *syncBuffer, group string) *harness {
		h := newHarness(t, brokers, db, func(c *config) { c.TokensFile, c.StateDir, c.GroupID = "", t.TempDir(), group })
		h.logw = out
		h.start()
		return h
	}
	a := mk(&out1, "people")
	defer a.stop()
	b := mk(&out2, "people")
	defer b.stop()
	first := strings.Count(out1.String(), "/?token=") + strings.Count(out2.String(), "/?token=")
	if first == 0 || (strings.Contains(out1.String(), "/?token=") && strings.Contains(out2.String(), "/?token=")) {
		t.Fatalf("first tokens printed by %d links (want one server's set):\n%s\n%s", first, out1.String(), out2.String())
	}

	env := map[string]string{"DISPATCH_DATABASE_URL": db}
	tok := addedToken(t, env, "--name", "Li Wei", "--role", "dispatcher", "--towns", "shiqi")
	for _, h := range []*harness{a, b} {
		pollUntil(t, 5*time.Second, "the new token accepted", func() bool { return apiStatus(t, h.cfg.HTTPAddr, tok) == http.StatusOK })
	}
	if me := httpGet(t, "http://"+b.cfg.HTTPAddr+"/api/me", tok); !strings.Contains(me, `"name":"Li Wei"`) {
		t.Fatalf("/api/me: %s", me)
	}
	ca, cb := openConsole(t, a.cfg.HTTPAddr, tok), openConsole(t, b.cfg.HTTPAddr, tok)
	if _, err := tokenRun(t, env, "list"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the consoles are past their hello
	began := time.Now()
	if out, err := tokenRun(t, env, "revoke", "Li Wei"); err != nil {
		t.Fatalf("revoke: %v %s", err, out)
	}
	for i, conn := range []*websocket.Conn{ca, cb} {
		took, ce := closedWithin(t, conn, began, 5*time.Second)
		t.Logf("server %d: revoke to console closed in %v (close %d %q)", i+1, took.Round(time.Millisecond), ce.Code, ce.Text)
		if took > 5*time.Second || ce.Code != 4001 || !strings.Contains(ce.Text, "revoked") {
			t.Errorf("server %d: closed after %v with %d %q, want < 5s, 4001, revoked", i+1, took, ce.Code, ce.Text)
		}
	}
	for _, h := range []*harness{a, b} {
		if code := apiStatus(t, h.cfg.HTTPAddr, tok); code != http.StatusUnauthorized {
			t.Errorf("revoked token on HTTP: %d", code)
		}
	}
	b.stop()
	b.start()
	if code := apiStatus(t, b.cfg.HTTPAddr, tok); code != http.StatusUnauthorized {
		t.Errorf("revoked token after a restart: %d", code)
	}
	if strings.Count(out2.String(), "/?token=") > 0 && strings.Count(out1.String(), "/?token=") > 0 {
		t.Error("a restart printed first tokens again")
	}
}

// TestStateDirTokens: without a database or token file, the first start
// makes the tokens and prints their links once; they keep working across a
// restart, which prints none; a token revoked with `dispatchd token revoke`
// closes its console on the running server.
func TestStateDirTokens(t *testing.T) {
	dir := t.TempDir()
	brokers := startBroker(t)
	var out syncBuffer
	h := newHarness(t, brokers, "", func(c *config) { c.TokensFile, c.StateDir = "", dir })
	h.logw = &out
	h.start()
	defer h.stop()
	m := regexp.MustCompile(`dispatcher \(all towns\)\s+http://\S+/\?token=(\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no dispatcher link printed:\n%s", out.String())
	}
	tok, err := url.QueryUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}
	h.stop()
	before := strings.Count(out.String(), "/?token=")
	h.start()
	if n := strings.Count(out.String(), "/?token="); n != before {
		t.Errorf("the restart printed %d more links", n-before)
	}
	if code := apiStatus(t, h.cfg.HTTPAddr, tok); code != http.StatusOK {
		t.Fatalf("first token after a restart: HTTP %d", code)
	}
	conn := openConsole(t, h.cfg.HTTPAddr, tok)
	time.Sleep(200 * time.Millisecond)
	began := time.Now()
	if out, err := tokenRun(t, map[string]string{"DISPATCH_STATE_DIR": dir}, "revoke", "dispatcher"); err != nil {
		t.Fatalf("revoke: %v %s", err, out)
	}
	took, ce := closedWithin(t, conn, began, 5*time.Second)
	t.Logf("token file: revoke to console closed in %v (close %d %q)", took.Round(time.Millisecond), ce.Code, ce.Text)
	if took > 5*time.Second || ce.Code != 4001 {
		t.Errorf("closed after %v with %d", took, ce.Code)
	}
}

// TestAnnounceHTTPS: with a certificate the printed console links say https.
func TestAnnounceHTTPS(t *testing.T) {
	var out bytes.Buffer
	cfg := &config{HTTPAddr: "10.1.2.3:8443", TLSCert: "cert.pem", TLSKey: "key.pem", DatabaseURL: "postgres://x"}
	base := consoleBase(&net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 8443}, cfg.TLSCert != "")
	announce(&out, cfg, base, []string{"k1:9093"}, false, &tokenSetup{where: "PostgreSQL", printed: []printedToken{{"dispatcher", "tok"}}})
	if !strings.Contains(out.String(), "https://10.1.2.3:8443/?token=tok") || strings.Contains(out.String(), "http://") {
		t.Fatalf("announcement:\n%s", out.String())
	}
}
