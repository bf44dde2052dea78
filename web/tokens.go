package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// TokenSource is a set of console tokens that can change while the server
// runs: the database's table of people's tokens, a token file.
type TokenSource interface {
	// LoadTokens returns every entry, revoked ones included (they are
	// refused, and a console using one is told so).
	LoadTokens(ctx context.Context) ([]TokenEntry, error)
}

// TokenSyncConfig configures a TokenSync. Zero fields take the defaults in
// their comments.
type TokenSyncConfig struct {
	// Store receives the entries. Required.
	Store *TokenStore
	// Sources are read in turn and their entries joined. Required.
	Sources []TokenSource
	// Interval is how often the sources are read again (1s): a token added
	// or revoked elsewhere (another instance, `dispatchd token`) is known
	// here within it, and open consoles of a revoked token are closed then.
	Interval time.Duration
	// Logger defaults to a logger that discards.
	Logger *slog.Logger
}

// TokenSync keeps a TokenStore in step with its sources.
type TokenSync struct {
	cfg     TokenSyncConfig
	log     *slog.Logger
	failing bool
}

// NewTokenSync validates cfg and fills its defaults.
func NewTokenSync(cfg TokenSyncConfig) (*TokenSync, error) {
	if cfg.Store == nil || len(cfg.Sources) == 0 {
		return nil, errors.New("token sync: a store and a source are required")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &TokenSync{cfg: cfg, log: cfg.Logger.With("component", "web.tokens")}, nil
}

// Load reads every source once and replaces the store's entries.
func (s *TokenSync) Load(ctx context.Context) error {
	var all []TokenEntry
	for _, src := range s.cfg.Sources {
		es, err := src.LoadTokens(ctx)
		if err != nil {
			return err
		}
		all = append(all, es...)
	}
	changed, err := s.cfg.Store.Replace(all)
	if err != nil {
		return err
	}
	if changed {
		active := 0
		for i := range all {
			if s.cfg.Store.usable(&all[i]) == nil {
				active++
			}
		}
		s.log.Info("console tokens loaded", "tokens", len(all), "accepted", active)
	}
	return nil
}

// Run reloads the sources every Interval until ctx ends. A failure keeps
// the last entries (consoles keep working while the database is down) and
// is logged once until the next success. It returns nil when ctx ends.
func (s *TokenSync) Run(ctx context.Context) error {
	tick := time.NewTicker(s.cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		err := s.Load(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil
		case err != nil && !s.failing:
			s.failing = true
			s.log.Warn("reload console tokens: keeping the last ones", "err", err)
		case err == nil && s.failing:
			s.failing = false
			s.log.Info("console tokens reloaded again")
		}
	}
}

// TokenFile is a token file (a JSON array of TokenEntry, hashes only) as a
// TokenSource that is read again only when the file changes, and written
// by Add and Revoke (replaced whole, atomically, mode 0600).
type TokenFile struct {
	path string

	mu    sync.Mutex
	stamp string
	ents  []TokenEntry
}

// NewTokenFile returns the token file at path (it need not exist yet).
func NewTokenFile(path string) *TokenFile { return &TokenFile{path: path} }

// Path is the file's path.
func (f *TokenFile) Path() string { return f.path }

// LoadTokens implements TokenSource.
func (f *TokenFile) LoadTokens(context.Context) ([]TokenEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := os.Stat(f.path)
	if err != nil {
		return nil, fmt.Errorf("load tokens: %w", err)
	}
	stamp := fmt.Sprintf("%d/%d", st.ModTime().UnixNano(), st.Size())
	if stamp != f.stamp {
		ents, err := LoadTokens(f.path)
		if err != nil {
			return nil, err
		}
		f.ents, f.stamp = ents, stamp
	}
	return append([]TokenEntry(nil), f.ents...), nil
}

// Exists reports whether the file exists.
func (f *TokenFile) Exists() bool {
	_, err := os.Stat(f.path)
	return err == nil
}

// read returns the file's entries; a missing file has none.
func (f *TokenFile) read() ([]TokenEntry, error) {
	if _, err := os.Stat(f.path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return LoadTokens(f.path)
}

// Create writes entries as a new file (its directory made, mode 0700): it
// fails when the file exists, so that two processes starting at once do not
// both create their first tokens.
func (f *TokenFile) Create(entries []TokenEntry) error {
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	b, err := encodeTokens(entries)
	if err != nil {
		return err
	}
	fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) //nolint:gosec // the operator's token file
	if err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	if _, err := fh.Write(b); err != nil {
		_ = fh.Close()
		return fmt.Errorf("token file: %w", err)
	}
	return fh.Close()
}

// Add appends an entry (the file is made if missing). An entry with the
// same ID or hash is refused.
func (f *TokenFile) Add(e TokenEntry) error {
	if err := e.validate(); err != nil {
		return err
	}
	if e.Expires.IsZero() {
		return fmt.Errorf("%w: %s: no expires", ErrBadTokenEntry, e.Name)
	}
	ents, err := f.read()
	if err != nil {
		return err
	}
	for _, o := range ents {
		if o.SHA256 == e.SHA256 || IDOf(o) == IDOf(e) {
			return fmt.Errorf("%w: %s: a token with this id or hash exists", ErrBadTokenEntry, IDOf(e))
		}
	}
	return f.write(append(ents, e))
}

// Revoke marks as revoked at `at` the entries not yet revoked whose ID or
// name is key, and returns them.
func (f *TokenFile) Revoke(key string, at time.Time) ([]TokenEntry, error) {
	ents, err := f.read()
	if err != nil {
		return nil, err
	}
	var done []TokenEntry
	for i := range ents {
		if ents[i].Revoked.IsZero() && (IDOf(ents[i]) == key || ents[i].Name == key) {
			ents[i].Revoked = at.UTC()
			done = append(done, ents[i])
		}
	}
	if len(done) == 0 {
		return nil, nil
	}
	return done, f.write(ents)
}

// List returns the file's entries (none when it is missing).
func (f *TokenFile) List() ([]TokenEntry, error) { return f.read() }

// write replaces the file atomically (a temporary file renamed over it).
func (f *TokenFile) write(entries []TokenEntry) error {
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	b, err := encodeTokens(entries)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".tokens-*.json")
	if err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // gone after the rename
	if _, err := tmp.Write(b); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("token file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	return nil
}

// encodeTokens is the file format: one entry a line, in a JSON array.
func encodeTokens(entries []TokenEntry) ([]byte, error) {
	var b strings.Builder
	b.WriteString("[")
	for i, e := range entries {
		j, err := json.Marshal(e)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n ")
		b.Write(j)
	}
	b.WriteString("\n]\n")
	return []byte(b.String()), nil
}
