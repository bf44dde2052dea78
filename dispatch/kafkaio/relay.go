package kafkaio

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/zs110/dispatch/dispatch"
)

// Outbox is the part of the store the relay reads: records written in the
// same transaction as the decisions they announce.
type Outbox interface {
	PendingOutbox(ctx context.Context, limit int) ([]dispatch.OutboxRecord, error)
	MarkSent(ctx context.Context, ids []int64) error
}

// OutboxLocker is implemented by an outbox several instances share
// (pgstore.Store): only the instance holding the lock relays, so that each
// record is published once and the records of an incident stay in order.
// LockOutbox returns once the lock is held (checking every poll while
// another instance holds it); lost is closed when it is lost, unlock
// releases it.
type OutboxLocker interface {
	LockOutbox(ctx context.Context, poll time.Duration) (lost <-chan struct{}, unlock func(), err error)
}

// RelayConfig configures a Relay.
type RelayConfig struct {
	// Brokers to publish to. Required.
	Brokers []string
	// Security is the TLS and SASL of the writer's connections. Default
	// nil: plaintext.
	Security *Security
	// Topic for assignments. Default "assignments".
	Topic string
	// Outbox to drain. Required. When it is also an OutboxLocker, the relay
	// publishes only while it holds the lock.
	Outbox Outbox
	// Batch bounds the records of one publish. Default 2000.
	Batch int
	// Poll is how often the outbox is read when nobody calls Notify
	// (records left by a crash, or written by another instance). Default 1s.
	Poll time.Duration
	// RetryMin and RetryMax bound the back-off after a failure. Default
	// 50ms and 5s.
	RetryMin, RetryMax time.Duration
	// Logger. Default slog.Default().
	Logger *slog.Logger
	// Registerer for the outbox metrics. Default: none.
	Registerer prometheus.Registerer
}

// Relay publishes outbox records to the assignments topic (RequiredAcks =
// all) and marks them sent only after the broker acknowledged them: a crash
// between the two publishes a record again (at least once; the key is the
// incident id and the value carries a dedup_key).
type Relay struct {
	cfg  RelayConfig
	log  *slog.Logger
	w    *kafka.Writer
	wake chan struct{}

	pending   prometheus.Gauge
	published prometheus.Counter
	failures  prometheus.Counter
	active    prometheus.Gauge
}

// NewRelay validates cfg and fills its defaults.
func NewRelay(cfg RelayConfig) (*Relay, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("relay: no brokers")
	}
	if cfg.Outbox == nil {
		return nil, errors.New("relay: no outbox")
	}
	if cfg.Topic == "" {
		cfg.Topic = "assignments"
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 2000
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = 50 * time.Millisecond
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(5*time.Second, cfg.RetryMin)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Relay{
		cfg: cfg, log: cfg.Logger.With("component", "outbox-relay"), wake: make(chan struct{}, 1),
		w: &kafka.Writer{
			Addr: kafka.TCP(cfg.Brokers...), Topic: cfg.Topic, Balancer: &kafka.Hash{},
			RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond, BatchSize: cfg.Batch,
			BatchBytes: 16 << 20, MaxAttempts: 3, WriteTimeout: 10 * time.Second,
			Transport: cfg.Security.roundTripper(),
		},
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dispatch_outbox_pending", Help: "Outbox records read but not yet acknowledged by Kafka at the last relay round (outbox lag).",
		}),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dispatch_outbox_published_total", Help: "Outbox records published to the assignments topic.",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dispatch_outbox_failures_total", Help: "Failed relay rounds (Kafka or the store unavailable).",
		}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dispatch_outbox_relay_active", Help: "1 while this instance relays the outbox (it holds the outbox lock, or the outbox has none).",
		}),
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(r.pending, r.published, r.failures, r.active)
	}
	return r, nil
}

// Notify wakes the relay: new records are in the outbox. It never blocks.
func (r *Relay) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// errLockLost ends a relay turn when another instance may relay now.
var errLockLost = errors.New("outbox lock lost")

// Run relays until ctx is cancelled; failures are retried with back-off.
// With an OutboxLocker it first waits for the lock, and waits again if it
// loses it.
func (r *Relay) Run(ctx context.Context) error {
	defer func() {
		_ = r.w.Close()
		closeIdle(r.w.Transport)
	}()
	lk, ok := r.cfg.Outbox.(OutboxLocker)
	if !ok {
		r.active.Set(1)
		return r.relay(ctx, nil)
	}
	bo := newBackoff(r.cfg.RetryMin, r.cfg.RetryMax)
	for {
		lost, unlock, err := lk.LockOutbox(ctx, r.cfg.Poll)
		if err != nil {
			if ctx.Err() != nil || !bo.wait(ctx, r.log, "outbox lock failed, retrying", "err", err) {
				return ctx.Err()
			}
			continue
		}
		bo.reset()
		r.log.Info("relaying: this instance holds the outbox lock")
		r.active.Set(1)
		err = r.relay(ctx, lost)
		r.active.Set(0)
		unlock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.log.Warn("outbox lock lost, waiting to take it again", "err", err)
	}
}

// relay publishes until ctx ends or lost is closed (nil: never).
func (r *Relay) relay(ctx context.Context, lost <-chan struct{}) error {
	tick := time.NewTicker(r.cfg.Poll)
	defer tick.Stop()
	bo := newBackoff(r.cfg.RetryMin, r.cfg.RetryMax)
	for {
		n, err := r.round(ctx)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			r.failures.Inc()
			if !bo.wait(ctx, r.log, "relay failed, retrying", "err", err) {
				return ctx.Err()
			}
			continue
		}
		bo.reset()
		select {
		case <-lost:
			return errLockLost
		default:
		}
		if n == r.cfg.Batch {
			continue // more is waiting
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-lost:
			return errLockLost
		case <-r.wake:
		case <-tick.C:
		}
	}
}

// round publishes one batch of pending records and returns how many.
func (r *Relay) round(ctx context.Context) (int, error) {
	recs, err := r.cfg.Outbox.PendingOutbox(ctx, r.cfg.Batch)
	if err != nil {
		return 0, err
	}
	r.pending.Set(float64(len(recs)))
	if len(recs) == 0 {
		return 0, nil
	}
	msgs := make([]kafka.Message, len(recs))
	ids := make([]int64, len(recs))
	for i, rec := range recs {
		msgs[i] = kafka.Message{Key: []byte(rec.Key), Value: rec.Value,
			Headers: []kafka.Header{{Key: "outbox-id", Value: []byte(strconv.FormatInt(rec.ID, 10))}}}
		ids[i] = rec.ID
	}
	// A publish under way finishes (bounded) even when ctx ends: a stop
	// between the write and MarkSent would publish the batch again at the
	// next start (harmless, at least once, but up to Batch duplicates).
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := r.w.WriteMessages(wctx, msgs...); err != nil {
		return 0, err
	}
	if err := r.cfg.Outbox.MarkSent(wctx, ids); err != nil {
		return 0, err
	}
	r.published.Add(float64(len(recs)))
	r.pending.Set(0)
	return len(recs), nil
}
