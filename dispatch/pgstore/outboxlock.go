package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// outboxLockKey is the advisory lock one relay holds per database
// ("dispatch" in ASCII).
const outboxLockKey int64 = 0x6469737061746368

// LockOutbox makes this instance the only relay of the outbox among the
// instances sharing the database (kafkaio.OutboxLocker): it returns once it
// holds a session advisory lock, polling every poll while another session
// holds it. lost is closed when the lock's session is found dead (checked
// every poll): PostgreSQL has released the lock and another instance may
// take over. unlock releases it. The lock is held on a connection of its
// own, outside the pool.
func (s *Store) LockOutbox(ctx context.Context, poll time.Duration) (lost <-chan struct{}, unlock func(), err error) {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("outbox lock: %w", err)
	}
	conn := pc.Hijack() // the pool does not count or recycle it any more
	for {
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, outboxLockKey).Scan(&got); err != nil {
			_ = conn.Close(context.WithoutCancel(ctx))
			return nil, nil, fmt.Errorf("outbox lock: %w", err)
		}
		if got {
			break
		}
		select {
		case <-ctx.Done():
			_ = conn.Close(context.WithoutCancel(ctx))
			return nil, nil, fmt.Errorf("outbox lock: %w", ctx.Err())
		case <-time.After(poll):
		}
	}
	lostc, stop, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), poll+time.Second) // the lock outlives ctx
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				s.log.Warn("outbox lock lost", "err", err)
				close(lostc)
				<-stop
				return
			}
		}
	}()
	return lostc, func() {
		close(stop)
		<-done
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = closeLocked(uctx, conn)
	}, nil
}

// closeLocked releases the advisory lock (closing the session would too)
// and closes the connection.
func closeLocked(ctx context.Context, conn *pgx.Conn) error {
	_, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, outboxLockKey)
	if cerr := conn.Close(ctx); err == nil {
		err = cerr
	}
	return err
}
