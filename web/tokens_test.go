package web

import (
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/zs110/dispatch/dispatch/testpki"
)

// revokeIn returns the store's entries with the named console's token
// changed by mod.
func revokeIn(ts *TokenStore, name string, mod func(*TokenEntry)) []TokenEntry {
	es := ts.Entries()
	for i := range es {
		if es[i].Name == name {
			mod(&es[i])
		}
	}
	return es
}

// TestRevokedTokenClosesConsole: a token revoked while its console is open
// is refused on HTTP at once and its websocket is closed with code 4001 and
// a reason that says so, well within 5 s; the other consoles stay.
func TestRevokedTokenClosesConsole(t *testing.T) {
	e := startEnv(t, envOpts{})
	desk, other := e.console("desk", 0), e.console("desk-2", 0)
	desk.until("ready", func() bool { return desk.ready >= 0 })
	other.until("ready", func() bool { return other.ready >= 0 })

	began := time.Now()
	if _, err := e.srv.cfg.Tokens.Replace(revokeIn(e.srv.cfg.Tokens, "desk", func(te *TokenEntry) { te.Revoked = time.Now() })); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.request("GET", "/api/me", e.tokens["desk"], "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked token on HTTP: %d, want 401 at once", resp.StatusCode)
	}
	var ce *websocket.CloseError
	for {
		_, err := desk.next()
		if errors.As(err, &ce) {
			break
		}
		if err != nil {
			t.Fatalf("console of the revoked token: %v, want a close frame", err)
		}
	}
	took := time.Since(began)
	t.Logf("revoke to close: %v (close %d %q)", took.Round(time.Millisecond), ce.Code, ce.Text)
	if ce.Code != closeTokenRefused || !strings.Contains(ce.Text, "token revoked") {
		t.Errorf("close %d %q, want %d with the reason", ce.Code, ce.Text, closeTokenRefused)
	}
	if took > 5*time.Second {
		t.Errorf("closed %v after the revoke, want < 5s", took)
	}
	if e.counter("dispatch_console_disconnects_total", "reason", "token_revoked") != 1 {
		t.Error("disconnect not counted as token_revoked")
	}
	e.src.append(ev("incident.dispatched", "shiqi", ""))
	other.until("the event on the other console", func() bool { return len(other.got) == 1 })
	// The revoked token cannot open a console again.
	if _, resp, err := e.dialWS("desk", nil, nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked token opened a socket: %v", err)
	}
}

// TestExpiredTokenClosesConsole: a console whose token expires while it is
// open is closed within the recheck interval after the expiry.
func TestExpiredTokenClosesConsole(t *testing.T) {
	e := startEnv(t, envOpts{server: func(c *Config) { c.TokenRecheck = 200 * time.Millisecond }})
	expiry := time.Now().Add(700 * time.Millisecond)
	if _, err := e.srv.cfg.Tokens.Replace(revokeIn(e.srv.cfg.Tokens, "desk", func(te *TokenEntry) { te.Expires = expiry })); err != nil {
		t.Fatal(err)
	}
	c := e.console("desk", 0)
	c.until("ready", func() bool { return c.ready >= 0 })
	var ce *websocket.CloseError
	for {
		_, err := c.next()
		if errors.As(err, &ce) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	late := time.Since(expiry)
	t.Logf("closed %v after the expiry: %d %q", late.Round(time.Millisecond), ce.Code, ce.Text)
	if ce.Code != closeTokenRefused || !strings.Contains(ce.Text, "token expired") || late < 0 || late > time.Second {
		t.Errorf("close %d %q %v after the expiry", ce.Code, ce.Text, late)
	}
}

// TestTokenFile: add, list, revoke; the file is read again only when it
// changed; a second Create does not overwrite.
func TestTokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "tokens.json")
	f := NewTokenFile(path)
	if ents, err := f.List(); err != nil || len(ents) != 0 {
		t.Fatalf("missing file: %v %v", ents, err)
	}
	mk := func(name string) (string, TokenEntry) {
		plain, e, err := GenerateToken(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		e.Name, e.Role, e.Expires = name, RoleDispatcher, time.Now().Add(time.Hour)
		return plain, e
	}
	p1, e1 := mk("Li Wei")
	_, e2 := mk("Li Wei")
	p3, e3 := mk("Chen Jing")
	if err := f.Create([]TokenEntry{e1}); err != nil {
		t.Fatal(err)
	}
	if err := f.Create([]TokenEntry{e3}); err == nil {
		t.Fatal("a second Create overwrote the file")
	}
	for _, e := range []TokenEntry{e2, e3} {
		if err := f.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Add(e3); err == nil {
		t.Fatal("the same token added twice")
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("file mode: %v %v", st.Mode(), err)
	}
	ts, err := NewTokenStore(nil)
	if err != nil {
		t.Fatal(err)
	}
	sync, err := NewTokenSync(TokenSyncConfig{Store: ts, Sources: []TokenSource{f}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sync.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if p, err := ts.Lookup(p1); err != nil || p.Name != "Li Wei" || p.TokenID != IDOf(e1) {
		t.Fatalf("lookup: %+v %v", p, err)
	}
	done, err := f.Revoke("Li Wei", time.Now())
	if err != nil || len(done) != 2 {
		t.Fatalf("revoke by name: %d %v", len(done), err)
	}
	if done, _ := f.Revoke("Li Wei", time.Now()); len(done) != 0 {
		t.Fatal("revoked twice")
	}
	if err := sync.Load(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Lookup(p1); err == nil {
		t.Fatal("revoked token accepted")
	}
	if err := ts.state(hashToken(p1)); !errors.Is(err, errRevoked) {
		t.Fatalf("state of a revoked token: %v", err)
	}
	if _, err := ts.Lookup(p3); err != nil {
		t.Fatalf("other token refused: %v", err)
	}
	if done, _ := f.Revoke(IDOf(e3), time.Now()); len(done) != 1 {
		t.Fatal("revoke by id")
	}
	ents, _ := f.List()
	if len(ents) != 3 {
		t.Fatalf("%d entries kept, want 3 (revoked ones stay)", len(ents))
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), p1) || strings.Contains(string(b), p3) {
		t.Fatal("the token file holds a token")
	}
}

// TestHTTPS: with a certificate the consoles and API are served over TLS
// only, with Strict-Transport-Security and a Secure cookie; the websocket
// works over wss.
func TestHTTPS(t *testing.T) {
	pki := testpki.New(t)
	e := startEnv(t, envOpts{server: func(c *Config) { c.TLSCertFile, c.TLSKeyFile = pki.CertFile, pki.KeyFile }})
	if !e.srv.TLS() {
		t.Fatal("not TLS")
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: pki.ClientTLS()},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}
	resp, err := c.Get("https://" + e.addr + "/?token=" + url.QueryEscape(e.tokens["desk"]))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Strict-Transport-Security") != hstsValue {
		t.Fatalf("sign-in over https: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == cookieName {
			cookie = ck
		}
	}
	if cookie == nil || !cookie.Secure || !cookie.HttpOnly {
		t.Fatalf("cookie %+v, want Secure and HttpOnly", cookie)
	}
	req, _ := http.NewRequest("GET", "https://"+e.addr+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["desk"])
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("/api/me over https: %d", resp.StatusCode)
	}
	// Plain HTTP on the TLS port is refused; a client without the CA too.
	if resp, err := http.Get("http://" + e.addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP served on the HTTPS listener")
		}
	}
	if _, err := (&http.Client{Timeout: 5 * time.Second}).Get("https://" + e.addr + "/healthz"); err == nil {
		t.Error("a client without the CA trusted the server")
	}
	// wss, with the cookie of the browser sign-in and its Origin.
	d := &websocket.Dialer{TLSClientConfig: pki.ClientTLS(), HandshakeTimeout: 5 * time.Second}
	hdr := http.Header{"Origin": {"https://" + e.addr}, "Cookie": {cookieName + "=" + cookie.Value}}
	conn, _, err := d.Dial("wss://"+e.addr+"/ws", hdr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.WriteJSON(map[string]any{"type": "hello", "after": 0}); err != nil {
		t.Fatal(err)
	}
	cl := &client{t: t, conn: conn, last: -1, ready: -1}
	cl.until("ready", func() bool { return cl.ready >= 0 })
	e.src.append(ev("incident.dispatched", "shiqi", ""))
	cl.until("an event over wss", func() bool { return len(cl.got) == 1 })
}
