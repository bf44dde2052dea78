package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"go.uber.org/goleak"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/dispatch/wire"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// kafka-go keeps a shared transport with idle connection reapers.
		goleak.IgnoreTopFunction("github.com/segmentio/kafka-go.(*connPool).discover"),
		goleak.IgnoreAnyFunction("github.com/segmentio/kafka-go.(*conn).run"),
		goleak.IgnoreAnyFunction("github.com/segmentio/kafka-go/protocol.(*Conn).Read"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

var topics = []string{"incidents", "unit-events", "assignments", "incidents.dlq"}

func pollUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
}

func broker(t *testing.T) string {
	t.Helper()
	emb, err := StartEmbedded(context.Background(), "127.0.0.1:0", topics, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	return emb.Addr()
}

func produce(t *testing.T, addr, topic string, msgs ...kafka.Message) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Balancer: &kafka.Hash{}, BatchTimeout: time.Millisecond,
		BatchBytes: MaxEmbeddedMessageBytes, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, m := range msgs {
		if err := w.WriteMessages(ctx, m); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
}

// readAll reads n records of a topic from the start.
func readAll(t *testing.T, addr, topic string, n int) []kafka.Message {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, GroupID: "reader-" + topic + fmt.Sprint(time.Now().UnixNano()),
		Topic: topic, StartOffset: kafka.FirstOffset, MaxWait: 50 * time.Millisecond, MaxBytes: MaxEmbeddedMessageBytes})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []kafka.Message
	for len(out) < n {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read %s: %d of %d: %v", topic, len(out), n, err)
		}
		out = append(out, m)
	}
	return out
}

func header(m kafka.Message, k string) string {
	for _, h := range m.Headers {
		if h.Key == k {
			return string(h.Value)
		}
	}
	return ""
}

// engineHandler feeds batches to a real engine over the in-memory store,
// optionally failing the first fails calls (the store "down").
type engineHandler struct {
	eng   *dispatch.Engine
	fails atomic.Int32
	calls atomic.Int32
}

func (h *engineHandler) Handle(ctx context.Context, b *Batch) ([]dispatch.Reject, error) {
	h.calls.Add(1)
	if h.fails.Add(-1) >= 0 {
		return nil, errors.New("store down")
	}
	return h.eng.Process(ctx, b.Incidents, b.Units)
}

func newEngine(t *testing.T, st dispatch.Store) *dispatch.Engine {
	t.Helper()
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := dispatch.NewEngine(dispatch.EngineConfig{Scenario: sc, Store: st, ConfirmFrom: 5,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return eng
}

type running struct {
	cancel context.CancelFunc
	done   chan error
}

func (r running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not stop")
	}
}

func start(run func(context.Context) error) running {
	ctx, cancel := context.WithCancel(context.Background())
	r := running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- run(ctx) }()
	return r
}

func incident(id string, at time.Time) kafka.Message {
	return kafka.Message{Key: []byte(id), Value: []byte(fmt.Sprintf(
		`{"id":%q,"reported_at":%q,"type":"fire.building","lat":22.52,"lng":113.38}`, id, at.Format(time.RFC3339)))}
}

func TestConsumerDeadLettersAndManual(t *testing.T) {
	addr := broker(t)
	st := memstore.New(memstore.Config{})
	h := &engineHandler{eng: newEngine(t, st)}
	reg := prometheus.NewRegistry()
	c, err := NewConsumer(ConsumerConfig{Brokers: []string{addr}, Handler: h, Registerer: reg, GroupID: "t1",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2013, 5, 31, 12, 0, 0, 0, time.UTC).Format(time.RFC3339)
	bad := []struct {
		topic, key, value, reason string
		manual                    bool
	}{
		{"incidents", "x", `{"id": "BAD`, wire.ReasonBadJSON, false},
		{"incidents", "", `{"reported_at":"` + at + `","type":"theft","lat":22.5,"lng":113.4}`, wire.ReasonMissingField, false},
		{"incidents", "LAT95", `{"id":"LAT95","reported_at":"` + at + `","type":"theft","lat":95,"lng":113.4}`, wire.ReasonBadLocation, true},
		{"incidents", "NAN", `{"id":"NAN","reported_at":"` + at + `","type":"theft","lat":"NaN","lng":113.4}`, wire.ReasonBadLocation, true},
		{"incidents", "BIG", `{"id":"BIG","reported_at":"` + at + `","type":"theft","lat":22.5,"lng":113.4,"description":"` + strings.Repeat("x", 2<<20) + `"}`, wire.ReasonOversized, true},
		{"incidents", "UTF", `{"id":"UTF","reported_at":"` + at + `","type":"theft","lat":22.5,"lng":113.4,"description":"` + "\xff" + `"}`, wire.ReasonInvalidUTF8, true},
		{"unit-events", "NOBODY", `{"unit_id":"NOBODY","at":"` + at + `","status":"available"}`, wire.ReasonUnknownUnit, false},
		{"unit-events", "U", `{"unit_id":"U","at":"` + at + `","status":"sleeping"}`, wire.ReasonBadField, false},
	}
	for _, b := range bad {
		produce(t, addr, b.topic, kafka.Message{Key: []byte(b.key), Value: []byte(b.value)})
	}
	produce(t, addr, "incidents", incident("GOOD", time.Now()))
	r := start(c.Run)
	defer r.stop(t)

	dlq := readAll(t, addr, "incidents.dlq", len(bad))
	got := map[string]kafka.Message{}
	for _, m := range dlq {
		got[string(m.Value)] = m
	}
	eng := h.eng
	for _, b := range bad {
		m, ok := got[b.value]
		if !ok {
			t.Errorf("%s: not on the dead-letter topic with its original bytes", b.key)
			continue
		}
		if header(m, "reason") != b.reason || header(m, "source-topic") != b.topic || header(m, "error") == "" {
			t.Errorf("%s: headers %v, want reason %s", b.key, m.Headers, b.reason)
		}
		if b.manual {
			rec, err := eng.Incident(context.Background(), "", b.key)
			if err != nil || rec.State != dispatch.StateManual {
				t.Errorf("%s: not shown for manual handling: %+v %v", b.key, rec, err)
			}
		}
	}
	pollUntil(t, 10*time.Second, "good incident decided", func() bool {
		rec, err := eng.Incident(context.Background(), "", "GOOD")
		return err == nil && rec.State == dispatch.StateDispatched
	})
	if n := testutil.ToFloat64(c.m.dead.WithLabelValues(wire.ReasonBadLocation)); n != 2 {
		t.Errorf("bad_location dead letters counted %v, want 2", n)
	}
}

// TestConsumerCommitsAfterDurability: while the handler fails nothing is
// committed; a consumer started after a crash re-reads what was not
// committed, and the engine decides each incident once.
func TestConsumerCommitsAfterDurability(t *testing.T) {
	addr := broker(t)
	st := memstore.New(memstore.Config{})
	h := &engineHandler{eng: newEngine(t, st)}
	h.fails.Store(3)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mk := func() *Consumer {
		c, err := NewConsumer(ConsumerConfig{Brokers: []string{addr}, Handler: h, GroupID: "t2", Logger: log, RetryMin: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	t0 := time.Date(2013, 5, 31, 12, 0, 0, 0, time.UTC)
	var msgs []kafka.Message
	for i := range 50 {
		msgs = append(msgs, incident(fmt.Sprintf("C-%03d", i), t0.Add(time.Duration(i)*time.Hour)))
	}
	produce(t, addr, "incidents", msgs...)
	c := mk()
	if err := c.Ready(); err != nil {
		t.Fatalf("ready before run: %v", err)
	}
	r := start(c.Run)
	pollUntil(t, 10*time.Second, "all decided", func() bool { return len(eng(h).Incidents("")) == 50 })
	if h.calls.Load() < 4 {
		t.Fatalf("handler called %d times: the failing batch was not retried", h.calls.Load())
	}
	r.stop(t)
	// A second consumer of the group finds nothing uncommitted: the handler is not called again.
	before := h.calls.Load()
	c2 := mk()
	r2 := start(c2.Run)
	produce(t, addr, "incidents", incident("C-LAST", t0.Add(100*time.Hour)))
	pollUntil(t, 20*time.Second, "new incident decided", func() bool { return len(eng(h).Incidents("")) == 51 })
	r2.stop(t)
	if extra := h.calls.Load() - before; extra != 1 {
		t.Errorf("%d handler calls after restart, want 1 (only the new record)", extra)
	}
}

func eng(h *engineHandler) *dispatch.Engine { return h.eng }

// TestConsumerRedeliveryIsIdempotent: a group that never committed (a crash
// before the commit) gets the records again and the engine skips them.
func TestConsumerRedeliveryIsIdempotent(t *testing.T) {
	addr := broker(t)
	st := memstore.New(memstore.Config{})
	h := &engineHandler{eng: newEngine(t, st)}
	t0 := time.Date(2013, 5, 31, 12, 0, 0, 0, time.UTC)
	produce(t, addr, "incidents", incident("R-1", t0), incident("R-2", t0.Add(time.Hour)))
	for _, group := range []string{"g-a", "g-b"} { // g-b sees everything again
		c, err := NewConsumer(ConsumerConfig{Brokers: []string{addr}, Handler: h, GroupID: group, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		r := start(c.Run)
		before := h.calls.Load()
		pollUntil(t, 20*time.Second, "batch handled", func() bool { return h.calls.Load() > before })
		r.stop(t)
	}
	outbox, err := st.PendingOutbox(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(outbox) != 2 {
		t.Fatalf("%d assignments after redelivery, want 2", len(outbox))
	}
}

// fakeOutboxErr wraps the memstore outbox and fails MarkSent once.
type flakyOutbox struct {
	*memstore.Store
	mu   sync.Mutex
	fail bool
}

func (f *flakyOutbox) MarkSent(ctx context.Context, ids []int64) error {
	f.mu.Lock()
	fail := f.fail
	f.fail = false
	f.mu.Unlock()
	if fail {
		return errors.New("store down")
	}
	return f.Store.MarkSent(ctx, ids)
}

// TestRelay: decisions reach the assignments topic; a failure between the
// publish and MarkSent publishes again (at least once) with the same dedup key.
func TestRelay(t *testing.T) {
	addr := broker(t)
	st := memstore.New(memstore.Config{})
	h := &engineHandler{eng: newEngine(t, st)}
	t0 := time.Date(2013, 5, 31, 12, 0, 0, 0, time.UTC)
	var incs []dispatch.Incident
	for i := range 20 {
		incs = append(incs, dispatch.Incident{ID: fmt.Sprintf("A-%02d", i), ReportedAt: t0.Add(time.Duration(i) * time.Hour),
			Type: "fire.building", Lat: 22.52, Lng: 113.38, HasLocation: true})
	}
	if _, err := h.Handle(context.Background(), &Batch{Incidents: incs}); err != nil {
		t.Fatal(err)
	}
	ob := &flakyOutbox{Store: st, fail: true}
	reg := prometheus.NewRegistry()
	rl, err := NewRelay(RelayConfig{Brokers: []string{addr}, Outbox: ob, Registerer: reg, RetryMin: time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := start(rl.Run)
	defer r.stop(t)
	rl.Notify()
	msgs := readAll(t, addr, "assignments", 40) // published twice: once before the failed MarkSent
	keys := map[string]int{}
	for _, m := range msgs {
		keys[string(m.Key)]++
		if !strings.Contains(string(m.Value), `"dedup_key"`) || header(m, "outbox-id") == "" {
			t.Fatalf("record without dedup key: %s", m.Value)
		}
	}
	if len(keys) != 20 {
		t.Fatalf("%d incidents on assignments, want 20", len(keys))
	}
	pollUntil(t, 5*time.Second, "outbox drained", func() bool {
		p, _ := st.PendingOutbox(context.Background(), 10)
		return len(p) == 0
	})
}

func TestEnsureTopics(t *testing.T) {
	addr := broker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := EnsureTopics(ctx, []string{addr}, nil, []string{"incidents", "brand-new"}, 2); err != nil {
		t.Fatal(err)
	}
	produce(t, addr, "brand-new", kafka.Message{Key: []byte("k"), Value: []byte("v")})
	// Unreachable brokers fail fast.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	if err := EnsureTopics(ctx2, []string{"127.0.0.1:1"}, nil, []string{"x"}, 1); err == nil {
		t.Fatal("no error for an unreachable broker")
	}
}

func TestConfigValidation(t *testing.T) {
	if _, err := NewConsumer(ConsumerConfig{}); err == nil {
		t.Error("consumer without brokers accepted")
	}
	if _, err := NewConsumer(ConsumerConfig{Brokers: []string{"x"}}); err == nil {
		t.Error("consumer without handler accepted")
	}
	if _, err := NewRelay(RelayConfig{Brokers: []string{"x"}}); err == nil {
		t.Error("relay without outbox accepted")
	}
}
