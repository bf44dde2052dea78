package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// LockOutbox makes this instance the only relay of the outbox among the
// instances sharing the database (kafkaio.OutboxLocker). It takes the
// lease of table outbox_lease for 5 polls, checking every poll while another
// instance holds an unexpired one, and returns once it holds it. A goroutine
// renews it every poll; lost is closed when a renewal fails or finds the
// lease taken (after an expiry: this instance was frozen or cut off for 5
// polls). unlock gives the lease up.
func (s *Store) LockOutbox(ctx context.Context, poll time.Duration) (lost <-chan struct{}, unlock func(), err error) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	holder := hex.EncodeToString(b[:])
	ttl := 5 * poll
	take := func(ctx context.Context) (bool, error) {
		ctx, cancel := context.WithTimeout(ctx, min(s.timeout, max(poll, time.Second)))
		defer cancel()
		tag, err := s.pool.Exec(ctx, `UPDATE outbox_lease SET holder = $1, until = now() + $2::interval
			WHERE id = 1 AND (holder = $1 OR until < now())`, holder, ttl.String())
		if err != nil {
			return false, err
		}
		return tag.RowsAffected() == 1, nil
	}
	for {
		got, err := take(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("outbox lease: %w", err)
		}
		if got {
			break
		}
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("outbox lease: %w", ctx.Err())
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
			got, err := take(context.WithoutCancel(ctx)) // the lease outlives ctx
			if err != nil || !got {
				s.log.Warn("outbox lease lost", "err", err, "taken_over", err == nil)
				close(lostc)
				<-stop
				return
			}
		}
	}()
	return lostc, func() {
		close(stop)
		<-done
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_, _ = s.pool.Exec(uctx, `UPDATE outbox_lease SET until = '-infinity' WHERE id = 1 AND holder = $1`, holder)
	}, nil
}
