package pgstore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/zs110/dispatch/dispatch/pgstore"
)

func hexHash(c byte) string { return strings.Repeat(string(c), 64) }

// TestTokens: add, list, revoke by name and by id; the hash is stored, the
// schema refuses a malformed one; two stores on one database see the same
// table.
func TestTokens(t *testing.T) {
	ctx := context.Background()
	db := testDB(t)
	a, err := pgstore.New(ctx, pgstore.Config{URL: db, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := pgstore.New(ctx, pgstore.Config{URL: db, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	exp := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	for _, tk := range []pgstore.Token{
		{ID: "t1", Name: "Li Wei", Role: "dispatcher", Towns: []string{"shiqi", "dongqu"}, SHA256: hexHash('a'), Expires: exp},
		{ID: "t2", Name: "Li Wei", Role: "dispatcher", SHA256: hexHash('b'), Expires: exp},
		{ID: "t3", Name: "Chen Jing", Role: "team_leader", Team: "police", SHA256: hexHash('c'), Expires: exp},
	} {
		if err := a.AddToken(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.AddToken(ctx, pgstore.Token{ID: "t4", Name: "x", Role: "drill", Drill: "d", SHA256: hexHash('a'), Expires: exp}); !errors.Is(err, pgstore.ErrTokenExists) {
		t.Fatalf("same hash twice: %v", err)
	}
	if err := a.AddToken(ctx, pgstore.Token{ID: "t5", Name: "x", Role: "drill", Drill: "d", SHA256: "PLAIN-TOKEN", Expires: exp}); err == nil {
		t.Fatal("a malformed hash was stored")
	}
	got, err := b.Tokens(ctx)
	if err != nil || len(got) != 3 || got[0].Name != "Chen Jing" || strings.Join(got[1].Towns, ",") != "shiqi,dongqu" || !got[1].Expires.Equal(exp) {
		t.Fatalf("tokens seen by the other store: %+v %v", got, err)
	}
	done, err := b.RevokeTokens(ctx, "Li Wei", time.Now())
	if err != nil || len(done) != 2 {
		t.Fatalf("revoke by name: %+v %v", done, err)
	}
	if done, _ := b.RevokeTokens(ctx, "Li Wei", time.Now()); len(done) != 0 {
		t.Fatal("revoked twice")
	}
	if done, _ := a.RevokeTokens(ctx, "t3", time.Now()); len(done) != 1 || done[0].Name != "Chen Jing" {
		t.Fatalf("revoke by id: %+v", done)
	}
	got, _ = a.Tokens(ctx)
	for _, tk := range got {
		if tk.Revoked.IsZero() {
			t.Errorf("%s not revoked", tk.ID)
		}
	}
}

// TestBootstrapTokens: of several stores starting at once on a new
// database, one makes the first tokens; none does once there are tokens.
func TestBootstrapTokens(t *testing.T) {
	ctx := context.Background()
	db := testDB(t)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		made int
	)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := pgstore.New(ctx, pgstore.Config{URL: db, Logger: quiet})
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			ok, err := s.BootstrapTokens(ctx, []pgstore.Token{{ID: "first-" + string(rune('a'+i)), Name: "dispatcher", Role: "dispatcher",
				SHA256: hexHash(byte('a' + i)), Expires: time.Now().Add(time.Hour)}})
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				made++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if made != 1 {
		t.Fatalf("%d stores made the first tokens, want 1", made)
	}
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM console_tokens`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d tokens: %v", n, err)
	}
}
