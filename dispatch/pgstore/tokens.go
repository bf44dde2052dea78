package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Token is one person's console token as the database keeps it: the
// SHA-256 of the token, never the token.
type Token struct {
	ID      string    // short public name of the token, for lists and revocation
	Name    string    // the person
	Role    string    // dispatcher, team_leader or drill
	Towns   []string  // dispatcher: towns seen; empty = all
	Team    string    // team leader: the team
	Drill   string    // drill planner: the drill
	SHA256  string    // lower-case hex SHA-256 of the token
	Created time.Time // when it was made; zero: now
	Expires time.Time // when it stops being accepted; required
	Revoked time.Time // zero: not revoked
}

// ErrTokenExists: a token with the same ID or hash is already stored.
var ErrTokenExists = errors.New("token exists")

// tokenBootstrapLock is the advisory lock key of BootstrapTokens.
const tokenBootstrapLock = 0x7a733131 // "zs11"

// AddToken stores a token.
func (s *Store) AddToken(ctx context.Context, t Token) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return insertTokens(ctx, tx, []Token{t}) })
}

// BootstrapTokens stores ts only if the database has never held a token
// (none, revoked ones included) and reports whether it did: the first
// instance started on a new database makes the first consoles, the others
// and later starts do not. Two instances starting at once do not both.
func (s *Store) BootstrapTokens(ctx context.Context, ts []Token) (bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	made := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, tokenBootstrapLock); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM console_tokens`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		made = true
		return insertTokens(ctx, tx, ts)
	})
	if err != nil {
		return false, fmt.Errorf("bootstrap tokens: %w", err)
	}
	return made, nil
}

func insertTokens(ctx context.Context, tx pgx.Tx, ts []Token) error {
	for _, t := range ts {
		if t.Expires.IsZero() {
			return fmt.Errorf("token %s: no expiry", t.ID)
		}
		created := t.Created
		if created.IsZero() {
			created = time.Now()
		}
		var revoked *time.Time
		if !t.Revoked.IsZero() {
			revoked = &t.Revoked
		}
		towns := t.Towns
		if towns == nil {
			towns = []string{}
		}
		_, err := tx.Exec(ctx, `INSERT INTO console_tokens (id, name, role, towns, team, drill, sha256, created_at, expires_at, revoked_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			t.ID, t.Name, t.Role, towns, t.Team, t.Drill, t.SHA256, created, t.Expires, revoked)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return fmt.Errorf("%w: %s", ErrTokenExists, t.ID)
		}
		if err != nil {
			return fmt.Errorf("token %s: %w", t.ID, err)
		}
	}
	return nil
}

// Tokens returns every stored token, revoked and expired ones included, by
// name then creation.
func (s *Store) Tokens(ctx context.Context) ([]Token, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT id, name, role, towns, team, drill, sha256, created_at, expires_at, revoked_at
		FROM console_tokens ORDER BY name, created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	var out []Token
	for rows.Next() {
		var (
			t       Token
			revoked *time.Time
		)
		if err := rows.Scan(&t.ID, &t.Name, &t.Role, &t.Towns, &t.Team, &t.Drill, &t.SHA256, &t.Created, &t.Expires, &revoked); err != nil {
			rows.Close()
			return nil, fmt.Errorf("tokens: %w", err)
		}
		if revoked != nil {
			t.Revoked = *revoked
		}
		if len(t.Towns) == 0 {
			t.Towns = nil
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	return out, nil
}

// RevokeTokens revokes, as of at, the tokens not yet revoked whose ID or
// person's name is key, and returns them.
func (s *Store) RevokeTokens(ctx context.Context, key string, at time.Time) ([]Token, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `UPDATE console_tokens SET revoked_at = $2
		WHERE revoked_at IS NULL AND (id = $1 OR name = $1) RETURNING id, name, role, expires_at`, key, at)
	if err != nil {
		return nil, fmt.Errorf("revoke tokens: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Token, error) {
		t := Token{Revoked: at}
		return t, r.Scan(&t.ID, &t.Name, &t.Role, &t.Expires)
	})
	if err != nil {
		return nil, fmt.Errorf("revoke tokens: %w", err)
	}
	return out, nil
}
