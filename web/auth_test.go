package web

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTokenStore(t *testing.T) {
	plain, e, err := GenerateToken(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) < 40 || strings.Contains(e.SHA256, plain) {
		t.Fatalf("token %q entry %+v", plain, e)
	}
	e.Name, e.Role, e.Towns = "desk-1", RoleDispatcher, []string{"shiqi"}
	e.Expires = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	ts, err := NewTokenStore([]TokenEntry{e})
	if err != nil {
		t.Fatal(err)
	}
	ts.now = func() time.Time { return time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC) }
	p, err := ts.Lookup(plain)
	if err != nil || p.Name != "desk-1" || p.Role != RoleDispatcher || len(p.Towns) != 1 || p.Towns[0] != "shiqi" {
		t.Fatalf("lookup: %+v %v", p, err)
	}
	for _, bad := range []string{"", plain + "x", plain[:len(plain)-1], strings.ToUpper(plain), e.SHA256, strings.Repeat("a", 10000)} {
		if _, err := ts.Lookup(bad); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("lookup %.20q: %v", bad, err)
		}
	}
	ts.now = func() time.Time { return e.Expires }
	if _, err := ts.Lookup(plain); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("expired token accepted: %v", err)
	}
}

func TestTokenEntryValidation(t *testing.T) {
	_, g, _ := GenerateToken(rand.Reader)
	_, g2, _ := GenerateToken(rand.Reader)
	h := g.SHA256
	cases := []struct {
		name string
		e    []TokenEntry
		ok   bool
	}{
		{"dispatcher", []TokenEntry{{Name: "d", Role: RoleDispatcher, SHA256: h}}, true},
		{"leader", []TokenEntry{{Name: "l", Role: RoleTeamLeader, Team: "fire", SHA256: h}}, true},
		{"drill", []TokenEntry{{Name: "p", Role: RoleDrill, Drill: "typhoon", SHA256: h}}, true},
		{"no name", []TokenEntry{{Role: RoleDispatcher, SHA256: h}}, false},
		{"unknown role", []TokenEntry{{Name: "x", Role: "admin", SHA256: h}}, false},
		{"leader without team", []TokenEntry{{Name: "l", Role: RoleTeamLeader, SHA256: h}}, false},
		{"leader with towns", []TokenEntry{{Name: "l", Role: RoleTeamLeader, Team: "fire", Towns: []string{"shiqi"}, SHA256: h}}, false},
		{"drill without drill", []TokenEntry{{Name: "p", Role: RoleDrill, SHA256: h}}, false},
		{"dispatcher with team", []TokenEntry{{Name: "d", Role: RoleDispatcher, Team: "fire", SHA256: h}}, false},
		{"empty town", []TokenEntry{{Name: "d", Role: RoleDispatcher, Towns: []string{""}, SHA256: h}}, false},
		{"short hash", []TokenEntry{{Name: "d", Role: RoleDispatcher, SHA256: h[:60]}}, false},
		{"upper-case hash", []TokenEntry{{Name: "d", Role: RoleDispatcher, SHA256: strings.ToUpper(h)}}, false},
		{"same token twice", []TokenEntry{{Name: "a", Role: RoleDispatcher, SHA256: h}, {Name: "b", Role: RoleDispatcher, SHA256: h}}, false},
		{"two tokens", []TokenEntry{{Name: "a", Role: RoleDispatcher, SHA256: h}, {Name: "b", Role: RoleDispatcher, SHA256: g2.SHA256}}, true},
	}
	for _, tc := range cases {
		_, err := NewTokenStore(tc.e)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
		if err != nil && !errors.Is(err, ErrBadTokenEntry) {
			t.Errorf("%s: %v is not ErrBadTokenEntry", tc.name, err)
		}
	}
}

func TestLoadTokensAndPrintToken(t *testing.T) {
	var out bytes.Buffer
	if err := PrintToken(&out, TokenRequest{Name: "desk-3", Role: RoleDispatcher, Towns: "shiqi, dongqu", TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("output:\n%s", out.String())
	}
	plain, entry := strings.TrimSpace(lines[1]), strings.TrimSpace(lines[3])
	path := filepath.Join(t.TempDir(), "tokens.json")
	if err := os.WriteFile(path, []byte("["+entry+"]"), 0o600); err != nil {
		t.Fatal(err)
	}
	entries, err := LoadTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := NewTokenStore(entries)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ts.Lookup(plain)
	if err != nil || p.Name != "desk-3" || strings.Join(p.Towns, ",") != "shiqi,dongqu" {
		t.Fatalf("printed token: %+v %v", p, err)
	}
	if err := PrintToken(&out, TokenRequest{Name: "x", Role: RoleTeamLeader, TTL: time.Hour}); err == nil {
		t.Error("team leader without team printed")
	}

	// a file entry without expiry, unknown fields and bad JSON are refused
	_, g, _ := GenerateToken(rand.Reader)
	noExp, _ := json.Marshal([]map[string]any{{"name": "d", "role": "dispatcher", "sha256": g.SHA256}})
	for name, body := range map[string]string{
		"no expiry":     string(noExp),
		"unknown field": `[{"name":"d","role":"dispatcher","sha256":"` + g.SHA256 + `","expires":"2027-01-01T00:00:00Z","token":"plain"}]`,
		"not JSON":      `[{`,
	} {
		p := filepath.Join(t.TempDir(), "t.json")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadTokens(p); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	if _, err := LoadTokens(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing file loaded")
	}
}
