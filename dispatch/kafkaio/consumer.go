package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/wire"
)

// Batch is what one intake round hands to the Handler: the records that
// decoded (incidents, including calls that name an incident but must be
// handled manually, and unit events), in topic order.
type Batch struct {
	Incidents []dispatch.Incident
	Units     []dispatch.UnitEvent
}

// Handler decides a batch. It returns only once the decisions are durable:
// the consumer commits the batch's offsets after it returns nil. An error
// means nothing may be committed; the consumer retries the same batch.
// Handling must be idempotent: after a crash a batch is delivered again.
type Handler interface {
	Handle(ctx context.Context, b *Batch) ([]dispatch.Reject, error)
}

// ConsumerConfig configures a Consumer.
type ConsumerConfig struct {
	// Brokers to bootstrap from. Required.
	Brokers []string
	// Security is the TLS and SASL of every connection (the group reader,
	// the dead-letter writer, the readiness probe). Default nil: plaintext.
	Security *Security
	// GroupID of the consumer group. Default "dispatchd".
	GroupID string
	// IncidentsTopic is read for incidents. Default "incidents".
	IncidentsTopic string
	// UnitEventsTopic is read for unit status and position events. Default "unit-events".
	UnitEventsTopic string
	// DLQTopic receives refused records. Default "incidents.dlq".
	DLQTopic string
	// Handler decides batches. Required.
	Handler Handler
	// MaxBatch bounds the records of one batch. Default 1000.
	MaxBatch int
	// BatchWait is how long a batch waits for more records after its first
	// one. Default 2ms: it bounds the latency intake adds.
	BatchWait time.Duration
	// MaxRecordBytes: larger records are dead-lettered as oversized.
	// Default 1 MiB.
	MaxRecordBytes int
	// MaxFetchBytes bounds one fetch from a partition. Default 32 MiB (a
	// fetch must hold the largest record the broker accepts).
	MaxFetchBytes int
	// MaxWait is how long a fetch waits at the broker for new records.
	// Default 250ms (kafka-go's own default of 10s would delay shutdown
	// and rebalances, not records: a fetch returns as soon as one arrives).
	MaxWait time.Duration
	// SessionTimeout is how long the group coordinator waits for a silent
	// member (a crashed instance) before it hands its partitions to the
	// others; heartbeats are sent every SessionTimeout/10 (at most 3s).
	// Default 30s. The broker bounds it (Kafka's
	// group.min.session.timeout.ms, 6s by default).
	SessionTimeout time.Duration
	// RetryMin and RetryMax bound the back-off between retries of a batch
	// whose handling, dead-lettering or commit failed. Default 50ms and 5s.
	RetryMin, RetryMax time.Duration
	// Logger. Default slog.Default().
	Logger *slog.Logger
	// Registerer for the intake metrics. Default: none.
	Registerer prometheus.Registerer
}

// Consumer is the intake: it reads, decodes, hands batches to the Handler,
// dead-letters refused records and commits offsets after durability.
type Consumer struct {
	cfg ConsumerConfig
	log *slog.Logger
	m   *consumerMetrics
	dlq *kafka.Writer

	readyMu  sync.Mutex
	readyAt  time.Time
	readyErr error
	failing  map[string]bool // steps failing now (store or broker down)
}

type consumerMetrics struct {
	records  *prometheus.CounterVec
	dead     *prometheus.CounterVec
	batches  prometheus.Counter
	retries  *prometheus.CounterVec
	batchLen prometheus.Histogram
}

func newConsumerMetrics(reg prometheus.Registerer) *consumerMetrics {
	m := &consumerMetrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dispatch_intake_records_total", Help: "Records read from Kafka, by topic.",
		}, []string{"topic"}),
		dead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dispatch_dead_letters_total", Help: "Records written to the dead-letter topic, by reason.",
		}, []string{"reason"}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dispatch_intake_batches_total", Help: "Intake batches decided, stored and committed.",
		}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dispatch_intake_retries_total", Help: "Retries of an intake batch, by failing step (handle, dlq, commit).",
		}, []string{"step"}),
		batchLen: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "dispatch_intake_batch_records", Help: "Records per intake batch.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 7),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.records, m.dead, m.batches, m.retries, m.batchLen)
	}
	return m
}

// NewConsumer validates cfg and fills its defaults. The consumer connects
// when Run starts.
func NewConsumer(cfg ConsumerConfig) (*Consumer, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("consumer: no brokers")
	}
	if cfg.Handler == nil {
		return nil, errors.New("consumer: no handler")
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&cfg.GroupID, "dispatchd")
	def(&cfg.IncidentsTopic, "incidents")
	def(&cfg.UnitEventsTopic, "unit-events")
	def(&cfg.DLQTopic, "incidents.dlq")
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 1000
	}
	if cfg.BatchWait <= 0 {
		cfg.BatchWait = 2 * time.Millisecond
	}
	if cfg.MaxRecordBytes <= 0 {
		cfg.MaxRecordBytes = 1 << 20
	}
	if cfg.MaxFetchBytes <= 0 {
		cfg.MaxFetchBytes = 32 << 20
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 250 * time.Millisecond
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = 50 * time.Millisecond
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(5*time.Second, cfg.RetryMin)
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Consumer{cfg: cfg, log: cfg.Logger.With("component", "intake"), m: newConsumerMetrics(cfg.Registerer), failing: map[string]bool{}}
	c.dlq = &kafka.Writer{
		Addr: kafka.TCP(cfg.Brokers...), Topic: cfg.DLQTopic, Balancer: &kafka.Hash{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond, BatchBytes: int64(cfg.MaxFetchBytes),
		MaxAttempts: 3, WriteTimeout: 10 * time.Second, Transport: cfg.Security.roundTripper(),
	}
	return c, nil
}

// Run consumes until ctx is cancelled. Failures of the store or the broker
// are retried with back-off (nothing is committed meanwhile); Run returns
// only ctx's error.
func (c *Consumer) Run(ctx context.Context) error {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:           c.cfg.Brokers,
		Dialer:            c.cfg.Security.Dialer(),
		GroupID:           c.cfg.GroupID,
		GroupTopics:       []string{c.cfg.IncidentsTopic, c.cfg.UnitEventsTopic},
		StartOffset:       kafka.FirstOffset, // a new group must not skip what arrived first
		MinBytes:          1,
		MaxBytes:          c.cfg.MaxFetchBytes,
		MaxWait:           c.cfg.MaxWait,
		QueueCapacity:     max(100, c.cfg.MaxBatch),
		CommitInterval:    0, // synchronous commits, after durability
		SessionTimeout:    c.cfg.SessionTimeout,
		HeartbeatInterval: min(3*time.Second, c.cfg.SessionTimeout/10),
		ReadBackoffMin:    10 * time.Millisecond,
		ReadBackoffMax:    time.Second,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			c.log.Debug("kafka reader: " + fmt.Sprintf(msg, args...))
		}),
	})
	defer func() {
		_ = r.Close()
		_ = c.dlq.Close()
		closeIdle(c.dlq.Transport)
	}()
	// Commits run beside the next batch: a batch is committed once it is
	// durable, in order, while the following one is decided. At shutdown the
	// last commits get a few seconds (what is not committed is redelivered,
	// and redelivery is idempotent).
	commits := make(chan []kafka.Message, 2)
	cctx, cancelCommits := context.WithCancel(context.WithoutCancel(ctx))
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		for msgs := range commits {
			if err := c.retry(cctx, "commit", func() error { return r.CommitMessages(cctx, msgs...) }); err != nil {
				return
			}
			c.m.batches.Inc()
		}
	}()
	defer func() {
		close(commits)
		select {
		case <-committed:
		case <-time.After(5 * time.Second):
		}
		cancelCommits()
		<-committed
	}()
	bo := newBackoff(c.cfg.RetryMin, c.cfg.RetryMax)
	for {
		msgs, err := c.fetch(ctx, r)
		if err != nil {
			if ctx.Err() != nil || !bo.wait(ctx, c.log, "fetch failed, retrying", "err", err) {
				return ctx.Err()
			}
			continue
		}
		bo.reset()
		if err := c.process(ctx, msgs); err != nil {
			return err // only ctx errors reach here
		}
		select {
		case commits <- msgs:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// fetch blocks for one record, then gathers more for up to BatchWait.
func (c *Consumer) fetch(ctx context.Context, r *kafka.Reader) ([]kafka.Message, error) {
	m, err := r.FetchMessage(ctx)
	if err != nil {
		return nil, err
	}
	msgs := []kafka.Message{m}
	gctx, cancel := context.WithTimeout(ctx, c.cfg.BatchWait)
	defer cancel()
	for len(msgs) < c.cfg.MaxBatch {
		m, err := r.FetchMessage(gctx)
		if err != nil {
			break // the wait is over (or the reader failed: the next fetch reports it)
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

// deadLetter is a refused record with its reason.
type deadLetter struct {
	msg    *kafka.Message
	reason string
	err    error
}

// process decodes, handles and dead-letters one batch, retrying each step
// until it succeeds or ctx ends. The caller commits the batch afterwards.
func (c *Consumer) process(ctx context.Context, msgs []kafka.Message) error {
	var (
		b       Batch
		incMsg  []*kafka.Message // Batch.Incidents[i] came from incMsg[i]
		unitMsg []*kafka.Message
		dead    []deadLetter
	)
	for i := range msgs {
		m := &msgs[i]
		c.m.records.WithLabelValues(m.Topic).Inc()
		switch m.Topic {
		case c.cfg.UnitEventsTopic:
			if len(m.Value) > c.cfg.MaxRecordBytes {
				dead = append(dead, deadLetter{m, wire.ReasonOversized, fmt.Errorf("record of %d bytes, limit %d", len(m.Value), c.cfg.MaxRecordBytes)})
				continue
			}
			ev, err := wire.DecodeUnitEvent(m.Value)
			if err != nil {
				dead = append(dead, deadLetter{m, wire.ReasonOf(err), err})
				continue
			}
			b.Units = append(b.Units, ev)
			unitMsg = append(unitMsg, m)
		default:
			inc, err := wire.DecodeIncident(m.Value)
			if len(m.Value) > c.cfg.MaxRecordBytes {
				err = &wire.DecodeError{Reason: wire.ReasonOversized, ID: inc.ID,
					Err: fmt.Errorf("record of %d bytes, limit %d", len(m.Value), c.cfg.MaxRecordBytes)}
				if inc.ID != "" {
					inc.Invalid = wire.ReasonOversized
				}
			}
			if err != nil {
				dead = append(dead, deadLetter{m, wire.ReasonOf(err), err})
				var ok bool
				if inc, ok = wire.Salvage(m.Key, m.Value, inc, err); !ok {
					continue
				}
				// A call that names an incident: dispatchers handle it.
				if inc.ReportedAt.IsZero() {
					inc.ReportedAt = m.Time
				}
			}
			b.Incidents = append(b.Incidents, inc)
			incMsg = append(incMsg, m)
		}
	}
	c.m.batchLen.Observe(float64(len(msgs)))

	var rejects []dispatch.Reject
	if len(b.Incidents)+len(b.Units) > 0 {
		err := c.retry(ctx, "handle", func() error {
			var err error
			rejects, err = c.cfg.Handler.Handle(ctx, &b)
			return err
		})
		if err != nil {
			return err
		}
	}
	for _, rj := range rejects {
		var m *kafka.Message
		switch {
		case rj.Incident && rj.Index >= 0 && rj.Index < len(incMsg):
			m = incMsg[rj.Index]
		case !rj.Incident && rj.Index >= 0 && rj.Index < len(unitMsg):
			m = unitMsg[rj.Index]
		default:
			c.log.Error("handler rejected a record out of range", "index", rj.Index, "incident", rj.Incident)
			continue
		}
		dead = append(dead, deadLetter{m, wire.ReasonOf(rj.Err), rj.Err})
	}
	if len(dead) > 0 {
		if err := c.retry(ctx, "dlq", func() error { return c.writeDead(ctx, dead) }); err != nil {
			return err
		}
		for _, d := range dead {
			c.m.dead.WithLabelValues(d.reason).Inc()
			c.log.Info("dead letter", "topic", d.msg.Topic, "partition", d.msg.Partition, "offset", d.msg.Offset, "reason", d.reason, "err", d.err)
		}
	}
	return nil
}

// retry runs fn until it succeeds or ctx ends, with exponential back-off.
// While it fails the consumer reports not ready.
func (c *Consumer) retry(ctx context.Context, step string, fn func() error) error {
	bo := newBackoff(c.cfg.RetryMin, c.cfg.RetryMax)
	for {
		err := fn()
		if err == nil {
			c.setFailing(step, false)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.setFailing(step, true)
		c.m.retries.WithLabelValues(step).Inc()
		if !bo.wait(ctx, c.log, "intake step failed, retrying; offsets are not committed", "step", step, "err", err) {
			return ctx.Err()
		}
	}
}

func (c *Consumer) setFailing(step string, f bool) {
	c.readyMu.Lock()
	defer c.readyMu.Unlock()
	if f {
		c.failing[step] = true
	} else {
		delete(c.failing, step)
	}
}

// writeDead writes dead letters with their original key and bytes and the
// reason in headers. A record the broker refuses as too large is written
// truncated, with its original length in a header.
func (c *Consumer) writeDead(ctx context.Context, dead []deadLetter) error {
	out := make([]kafka.Message, len(dead))
	for i, d := range dead {
		out[i] = deadMessage(d, len(d.msg.Value))
	}
	err := c.dlq.WriteMessages(ctx, out...)
	if err == nil || !isTooLarge(err) {
		return err
	}
	for i, d := range dead {
		if len(d.msg.Value) > 512<<10 {
			out[i] = deadMessage(d, 512<<10)
		}
	}
	return c.dlq.WriteMessages(ctx, out...)
}

func isTooLarge(err error) bool {
	if errors.Is(err, kafka.MessageSizeTooLarge) || errors.Is(err, kafka.MessageTooLargeError{}) {
		return true
	}
	var we kafka.WriteErrors
	if errors.As(err, &we) {
		for _, e := range we {
			if e != nil && (errors.Is(e, kafka.MessageSizeTooLarge) || errors.As(e, new(kafka.MessageTooLargeError))) {
				return true
			}
		}
	}
	return errors.As(err, new(kafka.MessageTooLargeError))
}

func deadMessage(d deadLetter, keep int) kafka.Message {
	detail := d.reason
	if d.err != nil {
		detail = d.err.Error()
	}
	if len(detail) > 1024 {
		detail = detail[:1024]
	}
	h := []kafka.Header{
		{Key: "reason", Value: []byte(d.reason)},
		{Key: "error", Value: []byte(detail)},
		{Key: "source-topic", Value: []byte(d.msg.Topic)},
		{Key: "source-partition", Value: []byte(strconv.Itoa(d.msg.Partition))},
		{Key: "source-offset", Value: []byte(strconv.FormatInt(d.msg.Offset, 10))},
	}
	v := d.msg.Value
	if keep < len(v) {
		v = v[:keep]
		h = append(h, kafka.Header{Key: "truncated-from", Value: []byte(strconv.Itoa(len(d.msg.Value)))})
	}
	return kafka.Message{Key: d.msg.Key, Value: v, Headers: h, Time: d.msg.Time}
}

// Ready reports whether the consumer can do its work: a broker answers and
// no batch is stuck retrying. It dials at most once a second.
func (c *Consumer) Ready() error {
	c.readyMu.Lock()
	defer c.readyMu.Unlock()
	if len(c.failing) > 0 {
		steps := make([]string, 0, len(c.failing))
		for s := range c.failing {
			steps = append(steps, s)
		}
		slices.Sort(steps)
		return fmt.Errorf("intake is retrying a failed %s", strings.Join(steps, ", "))
	}
	if time.Since(c.readyAt) < time.Second {
		return c.readyErr
	}
	c.readyAt = time.Now()
	c.readyErr = dialAny(c.cfg.Brokers, c.cfg.Security, 2*time.Second)
	return c.readyErr
}

func dialAny(brokers []string, sec *Security, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := sec.Check(ctx, brokers); err != nil {
		return fmt.Errorf("no broker reachable: %w", err)
	}
	return nil
}

// sleep waits d or until ctx ends; it reports whether d passed.
// backoff is an exponential retry delay from min to max.
type backoff struct{ cur, min, max time.Duration }

func newBackoff(min, max time.Duration) *backoff { return &backoff{cur: min, min: min, max: max} }

// wait logs a failure with the delay, sleeps it and doubles it for the
// next failure. It returns false when ctx ended meanwhile.
func (b *backoff) wait(ctx context.Context, log *slog.Logger, msg string, args ...any) bool {
	log.Warn(msg, append(args, "in", b.cur)...)
	if !sleep(ctx, b.cur) {
		return false
	}
	b.cur = min(2*b.cur, b.max)
	return true
}

// reset starts the next failure's delay from min again.
func (b *backoff) reset() { b.cur = b.min }

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
