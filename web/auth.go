package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// Console roles (TokenEntry.Role, Principal.Role).
const (
	// RoleDispatcher is a 110 dispatcher: every town, or the towns of the token.
	RoleDispatcher = "dispatcher"
	// RoleTeamLeader is the leader of one team: only that team's assignments.
	RoleTeamLeader = "team_leader"
	// RoleDrill is a drill planner: only the world of one drill.
	RoleDrill = "drill"
)

// Authentication errors.
var (
	// ErrUnauthorized: no token, an unknown token or an expired one.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrBadTokenEntry: a token file entry is malformed.
	ErrBadTokenEntry = errors.New("bad token entry")
)

// cookieName is the browser session cookie holding the console token.
const cookieName = "zs110_token"

// TokenEntry is one console token as stored in a token file or the
// database: only the SHA-256 of the token is kept. A token names a person
// and a role (and the towns of a dispatcher, the team of a team leader, the
// drill of a drill planner).
type TokenEntry struct {
	// ID names the token in lists, logs and revocations; it is not secret.
	// Empty: the first 12 hex digits of SHA256 (IDOf).
	ID    string   `json:"id,omitempty"`
	Name  string   `json:"name"`            // the person (or console), logged and audited instead of the token
	Role  string   `json:"role"`            // RoleDispatcher, RoleTeamLeader or RoleDrill
	Towns []string `json:"towns,omitempty"` // dispatcher: town codes seen; empty = all
	Team  string   `json:"team,omitempty"`  // team leader: the team
	Drill string   `json:"drill,omitempty"` // drill: the drill id
	// SHA256 is the lower-case hex SHA-256 of the token.
	SHA256 string `json:"sha256"`
	// Created is when the token was made (zero: not recorded).
	Created time.Time `json:"created,omitzero"`
	// Expires is when the token stops being accepted. Zero (only for tokens
	// made in process, never from a file) means it never expires.
	Expires time.Time `json:"expires"`
	// Revoked is when the token was revoked; zero: it is not. A revoked
	// entry is kept for the record and refused.
	Revoked time.Time `json:"revoked,omitzero"`
}

// IDOf returns e's ID, or the first 12 hex digits of its hash when it has
// none.
func IDOf(e TokenEntry) string {
	if e.ID != "" {
		return e.ID
	}
	return e.SHA256[:min(12, len(e.SHA256))]
}

// Principal is who a request acts as: the token's entry, without its hash.
type Principal struct {
	// TokenID is the ID of the token presented (TokenEntry.ID).
	TokenID string `json:"token_id,omitempty"`
	// Name is the person: what the audit trail (dispatch.Action.By) names.
	Name  string   `json:"name"`
	Role  string   `json:"role"`
	Towns []string `json:"towns,omitempty"`
	Team  string   `json:"team,omitempty"`
	Drill string   `json:"drill,omitempty"`
}

// World is the drill whose state the principal sees ("" = live).
func (p Principal) World() string {
	if p.Role == RoleDrill {
		return p.Drill
	}
	return ""
}

// validate checks an entry's fields against its role.
func (e *TokenEntry) validate() error {
	if e.Name == "" {
		return fmt.Errorf("%w: empty name", ErrBadTokenEntry)
	}
	if len(e.Name) > 128 || !utf8.ValidString(e.Name) || strings.ContainsFunc(e.Name, unicode.IsControl) {
		return fmt.Errorf("%w: a name is printable UTF-8 of at most 128 bytes", ErrBadTokenEntry)
	}
	if len(e.ID) > 64 || strings.ContainsFunc(e.ID, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return fmt.Errorf("%w: %s: an id is at most 64 printable ASCII characters", ErrBadTokenEntry, e.Name)
	}
	if b, err := hex.DecodeString(e.SHA256); err != nil || len(b) != sha256.Size || strings.ToLower(e.SHA256) != e.SHA256 {
		return fmt.Errorf("%w: %s: sha256 must be 64 lower-case hex digits", ErrBadTokenEntry, e.Name)
	}
	switch e.Role {
	case RoleDispatcher:
		if e.Team != "" || e.Drill != "" {
			return fmt.Errorf("%w: %s: a dispatcher has no team or drill", ErrBadTokenEntry, e.Name)
		}
		for _, t := range e.Towns {
			if t == "" {
				return fmt.Errorf("%w: %s: empty town", ErrBadTokenEntry, e.Name)
			}
		}
	case RoleTeamLeader:
		if e.Team == "" || e.Drill != "" || len(e.Towns) > 0 {
			return fmt.Errorf("%w: %s: a team leader has a team and nothing else", ErrBadTokenEntry, e.Name)
		}
	case RoleDrill:
		if e.Drill == "" || e.Team != "" || len(e.Towns) > 0 {
			return fmt.Errorf("%w: %s: a drill token has a drill and nothing else", ErrBadTokenEntry, e.Name)
		}
	default:
		return fmt.Errorf("%w: %s: unknown role %q", ErrBadTokenEntry, e.Name, e.Role)
	}
	return nil
}

// TokenStore checks presented tokens against a set of entries that can be
// replaced while the server runs (Replace: a TokenSync reloads it from the
// database or a token file). It is safe for concurrent use.
type TokenStore struct {
	now func() time.Time
	set atomic.Pointer[tokenSet]

	mu      sync.Mutex
	changed chan struct{} // closed when the set changes, then replaced
}

// tokenSet is one immutable set of entries indexed by hash.
type tokenSet struct {
	byHash map[string]int // hex sha256 -> index into ents
	hashes [][]byte
	ents   []TokenEntry
	print  string // what the set holds, to tell whether a Replace changes it
}

// NewTokenStore validates the entries and indexes them by hash. Two entries
// with the same hash are refused.
func NewTokenStore(entries []TokenEntry) (*TokenStore, error) {
	ts := &TokenStore{now: time.Now, changed: make(chan struct{})}
	set, err := newTokenSet(entries)
	if err != nil {
		return nil, err
	}
	ts.set.Store(set)
	return ts, nil
}

func newTokenSet(entries []TokenEntry) (*tokenSet, error) {
	set := &tokenSet{byHash: make(map[string]int, len(entries))}
	for i := range entries {
		e := entries[i]
		e.Towns = append([]string(nil), e.Towns...)
		if err := e.validate(); err != nil {
			return nil, err
		}
		if _, dup := set.byHash[e.SHA256]; dup {
			return nil, fmt.Errorf("%w: %s: the same token twice", ErrBadTokenEntry, e.Name)
		}
		e.ID = IDOf(e)
		b, _ := hex.DecodeString(e.SHA256)
		set.byHash[e.SHA256] = len(set.ents)
		set.hashes = append(set.hashes, b)
		set.ents = append(set.ents, e)
	}
	j, err := json.Marshal(set.ents)
	if err != nil {
		return nil, err
	}
	set.print = string(j)
	return set, nil
}

// Replace validates entries and makes them the store's set: from the next
// request on, only they are accepted. It reports whether the set changed;
// a change wakes Changed's waiters (the server then re-checks its open
// consoles at once).
func (ts *TokenStore) Replace(entries []TokenEntry) (bool, error) {
	set, err := newTokenSet(entries)
	if err != nil {
		return false, err
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.set.Load().print == set.print {
		return false, nil
	}
	ts.set.Store(set)
	close(ts.changed)
	ts.changed = make(chan struct{})
	return true, nil
}

// Changed returns a channel closed at the next change of the set.
func (ts *TokenStore) Changed() <-chan struct{} {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.changed
}

// Entries returns a copy of the current entries.
func (ts *TokenStore) Entries() []TokenEntry {
	set := ts.set.Load()
	out := make([]TokenEntry, len(set.ents))
	copy(out, set.ents)
	return out
}

// LoadTokens reads a token file: a JSON array of TokenEntry. Every entry of
// a file must have an expiry.
func LoadTokens(path string) ([]TokenEntry, error) {
	b, err := os.ReadFile(path) //nolint:gosec // the token file named by the operator
	if err != nil {
		return nil, fmt.Errorf("load tokens: %w", err)
	}
	var entries []TokenEntry
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("load tokens %s: %w", path, err)
	}
	for i := range entries {
		if err := entries[i].validate(); err != nil {
			return nil, fmt.Errorf("load tokens %s: %w", path, err)
		}
		if entries[i].Expires.IsZero() {
			return nil, fmt.Errorf("load tokens %s: %w: %s: no expires", path, ErrBadTokenEntry, entries[i].Name)
		}
	}
	return entries, nil
}

// GenerateToken makes a fresh random token (32 bytes from rnd, base64url)
// and an entry holding its hash; the caller fills Name, Role and the rest.
// Expires is zero: set it before writing the entry to a file.
func GenerateToken(rnd io.Reader) (string, TokenEntry, error) {
	var b [32]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", TokenEntry{}, fmt.Errorf("generate token: %w", err)
	}
	plain := base64.RawURLEncoding.EncodeToString(b[:])
	return plain, TokenEntry{SHA256: hashToken(plain)}, nil
}

// TokenRequest describes a token for PrintToken (the `dispatchd token`
// subcommand).
type TokenRequest struct {
	Name  string
	Role  string
	Team  string
	Drill string
	// Towns is a comma-separated list of town codes (dispatcher); empty = all.
	Towns string
	// TTL is how long the token is valid from now.
	TTL time.Duration
}

// PrintToken makes a token as asked and writes it once, with the JSON entry
// to append to the token file.
func PrintToken(out io.Writer, req TokenRequest) error {
	if req.TTL <= 0 {
		return fmt.Errorf("%w: ttl must be positive", ErrBadTokenEntry)
	}
	plain, e, err := GenerateToken(rand.Reader)
	if err != nil {
		return err
	}
	e.Name, e.Role, e.Team, e.Drill = req.Name, req.Role, req.Team, req.Drill
	for _, t := range strings.Split(req.Towns, ",") {
		if t = strings.TrimSpace(t); t != "" {
			e.Towns = append(e.Towns, t)
		}
	}
	e.Expires = time.Now().Add(req.TTL).UTC().Truncate(time.Second)
	if err := e.validate(); err != nil {
		return err
	}
	j, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "token (shown once, give it to %s):\n  %s\ntoken file entry:\n  %s\n", e.Name, plain, j)
	return err
}

func hashToken(plain string) string {
	s := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(s[:])
}

// Token refusals: why a known token is no longer accepted (both wrap
// ErrUnauthorized).
var (
	errRevoked = fmt.Errorf("%w: token revoked", ErrUnauthorized)
	errExpired = fmt.Errorf("%w: token expired", ErrUnauthorized)
	errRemoved = fmt.Errorf("%w: token removed", ErrUnauthorized)
)

// Lookup returns the principal of a presented token, or ErrUnauthorized
// for an unknown, revoked or expired one.
func (ts *TokenStore) Lookup(token string) (Principal, error) {
	if token == "" || len(token) > 512 {
		return Principal{}, ErrUnauthorized
	}
	sum := sha256.Sum256([]byte(token))
	set := ts.set.Load()
	i, ok := set.byHash[hex.EncodeToString(sum[:])]
	if !ok || subtle.ConstantTimeCompare(set.hashes[i], sum[:]) != 1 {
		return Principal{}, ErrUnauthorized
	}
	e := &set.ents[i]
	if err := ts.usable(e); err != nil {
		return Principal{}, ErrUnauthorized
	}
	return Principal{TokenID: e.ID, Name: e.Name, Role: e.Role, Towns: append([]string(nil), e.Towns...), Team: e.Team, Drill: e.Drill}, nil
}

// usable reports why e is refused now (nil: it is accepted).
func (ts *TokenStore) usable(e *TokenEntry) error {
	switch {
	case !e.Revoked.IsZero():
		return errRevoked
	case !e.Expires.IsZero() && !ts.now().Before(e.Expires):
		return errExpired
	}
	return nil
}

// state reports whether the token with this hex hash is still accepted:
// nil, or errRevoked, errExpired, errRemoved.
func (ts *TokenStore) state(hash string) error {
	set := ts.set.Load()
	i, ok := set.byHash[hash]
	if !ok {
		return errRemoved
	}
	return ts.usable(&set.ents[i])
}

// expires returns the expiry of a known token (zero: never).
func (ts *TokenStore) expires(token string) time.Time {
	set := ts.set.Load()
	if i, ok := set.byHash[hashToken(token)]; ok {
		return set.ents[i].Expires
	}
	return time.Time{}
}

// credential is how a request presented its token.
type credential int

const (
	credNone credential = iota
	credBearer
	credCookie
)

// presented returns the token of a request: the Authorization Bearer
// header first, then the session cookie.
func presented(r *http.Request) (string, credential) {
	if h := r.Header.Get("Authorization"); h != "" {
		if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
			return strings.TrimSpace(h[7:]), credBearer
		}
		return "", credNone
	}
	if c, err := r.Cookie(cookieName); err == nil && c.Value != "" {
		return c.Value, credCookie
	}
	return "", credNone
}

// authenticate returns the request's principal and how it was presented.
func (ts *TokenStore) authenticate(r *http.Request) (Principal, credential, error) {
	tok, cred := presented(r)
	if cred == credNone {
		return Principal{}, credNone, ErrUnauthorized
	}
	p, err := ts.Lookup(tok)
	return p, cred, err
}
