package pgstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/zs110/dispatch/dispatch/kafkaio"
	"github.com/zs110/dispatch/dispatch/pgstore"
)

var _ kafkaio.OutboxLocker = (*pgstore.Store)(nil)

// TestOutboxLock: one relay at a time per database; the next takes over
// when the first unlocks or its lease expires, and the old holder learns it.
func TestOutboxLock(t *testing.T) {
	url := testDB(t)
	open := func() *pgstore.Store {
		s, err := pgstore.New(context.Background(), pgstore.Config{URL: url, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
	a, b := open(), open()
	const poll = 50 * time.Millisecond
	ctx := context.Background()
	lostA, unlockA, err := a.LockOutbox(ctx, poll)
	if err != nil {
		t.Fatal(err)
	}
	// b waits while a holds it.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, _, err = b.LockOutbox(short, poll)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock while the first is held: %v, want a deadline", err)
	}
	// b takes over once a unlocks.
	got := make(chan error, 1)
	var lostB <-chan struct{}
	var unlockB func()
	go func() {
		var err error
		lostB, unlockB, err = b.LockOutbox(ctx, poll)
		got <- err
	}()
	select {
	case <-lostA:
		t.Fatal("a lost a lock nobody took")
	case <-time.After(3 * poll):
	}
	unlockA()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("b did not take the lock after a released it")
	}
	// b stops renewing in time (frozen, cut off): its lease expires, a takes
	// it over, and b learns it has lost it at its next renewal.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE outbox_lease SET until = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	lostA, unlockA, err = a.LockOutbox(ctx, poll)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-lostB:
	case <-time.After(10 * time.Second):
		t.Fatal("b did not notice a took its lease over")
	}
	unlockB()
	select {
	case <-lostA:
		t.Fatal("a lost the lease when b gave up one it no longer held")
	case <-time.After(3 * poll):
	}
	unlockA()
	select {
	case <-lostA:
		t.Fatal("lost closed by a plain unlock")
	default:
	}
}
