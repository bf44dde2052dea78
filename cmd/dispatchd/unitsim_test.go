package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/zs110/dispatch/dispatch/wire"
)

// unitSim plays the units' terminals: it reads the assignments topic and,
// for every unit newly assigned to an incident, reports en_route, on_scene
// and available on unit-events (keyed by unit: in order on one partition).
// Every report has its own timestamp, so that each row of the status
// history can be traced back to the report that caused it.
type unitSim struct {
	t       testing.TB
	brokers []string
	cancel  context.CancelFunc
	done    chan struct{}

	mu      sync.Mutex
	keys    map[string]bool     // dedup keys seen
	handled map[string]bool     // incident|unit played and still on the incident's last record
	last    map[string][]string // the units of each incident's last record
	sent    map[string]simReport
	lastAt  time.Time
	records int // assignment records read (duplicates included)
	retries int // failed writes retried
}

// simReport is one unit event the simulator produced.
type simReport struct {
	unit, status, incident string
}

func simKey(unit string, at time.Time) string {
	return unit + "|" + strconv.FormatInt(at.UnixMicro(), 10)
}

// startUnitSim starts the simulator; it stops at test cleanup.
func startUnitSim(t testing.TB, brokers []string) *unitSim {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &unitSim{t: t, brokers: brokers, cancel: cancel, done: make(chan struct{}),
		keys: map[string]bool{}, handled: map[string]bool{}, last: map[string][]string{}, sent: map[string]simReport{}}
	go s.run(ctx)
	t.Cleanup(s.stop)
	return s
}

func (s *unitSim) stop() {
	s.cancel()
	<-s.done
}

func (s *unitSim) run(ctx context.Context) {
	defer close(s.done)
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: s.brokers, GroupID: fmt.Sprintf("unit-sim-%d", time.Now().UnixNano()),
		Topic: "assignments", StartOffset: kafka.FirstOffset, MaxWait: 50 * time.Millisecond,
		ReadBackoffMin: 20 * time.Millisecond, ReadBackoffMax: 500 * time.Millisecond,
		SessionTimeout: 6 * time.Second, HeartbeatInterval: time.Second})
	defer r.Close()
	w := &kafka.Writer{Addr: kafka.TCP(s.brokers...), Topic: "unit-events", Balancer: &kafka.Hash{},
		BatchTimeout: 2 * time.Millisecond, BatchSize: 5000, RequiredAcks: kafka.RequireAll, MaxAttempts: 3,
		WriteTimeout: 10 * time.Second}
	defer w.Close()
	for ctx.Err() == nil {
		msgs := s.fetch(ctx, r)
		var out []kafka.Message
		for _, m := range msgs {
			out = append(out, s.play(m)...)
		}
		// A failed write is retried whole until it succeeds (at least once,
		// like a real terminal): later reports wait, so order holds.
		for len(out) > 0 && ctx.Err() == nil {
			err := w.WriteMessages(ctx, out...)
			if err == nil {
				break
			}
			s.mu.Lock()
			s.retries++
			s.mu.Unlock()
			sleepCtx(ctx, 200*time.Millisecond)
		}
		// Commit only what was played (a failed commit replays: dedup keys).
		for len(msgs) > 0 && ctx.Err() == nil && r.CommitMessages(ctx, msgs...) != nil {
			sleepCtx(ctx, 200*time.Millisecond)
		}
	}
}

// fetch reads one assignment record, then whatever follows within 5 ms.
// (FetchMessage, not ReadMessage: a ReadMessage whose commit times out
// returns no message although it consumed one.)
func (s *unitSim) fetch(ctx context.Context, r *kafka.Reader) []kafka.Message {
	m, err := r.FetchMessage(ctx)
	if err != nil {
		sleepCtx(ctx, 50*time.Millisecond)
		return nil
	}
	msgs := []kafka.Message{m}
	gctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
	defer cancel()
	for len(msgs) < 2000 {
		m, err := r.FetchMessage(gctx)
		if err != nil {
			break
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// play turns one assignment record into the reports of its new units.
func (s *unitSim) play(m kafka.Message) []kafka.Message {
	var a wire.AssignmentMessage
	if err := json.Unmarshal(m.Value, &a); err != nil {
		s.t.Errorf("unit sim: bad assignment record: %v", err)
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records++
	if s.keys[a.DedupKey] {
		return nil
	}
	s.keys[a.DedupKey] = true
	var out []kafka.Message
	// Records of an incident arrive in version order (one key, one
	// partition): a unit absent from this record left the incident (it
	// declined, was diverted, cleared), and if it comes back later it is a
	// new assignment to play again.
	now := map[string]bool{}
	for _, u := range a.Units {
		now[u.UnitID] = true
	}
	for _, unit := range s.last[a.Incident] {
		if !now[unit] {
			delete(s.handled, a.Incident+"|"+unit)
		}
	}
	s.last[a.Incident] = s.last[a.Incident][:0]
	for _, u := range a.Units {
		s.last[a.Incident] = append(s.last[a.Incident], u.UnitID)
	}
	for _, u := range a.Units {
		k := a.Incident + "|" + u.UnitID
		if s.handled[k] || a.Drill != "" {
			continue
		}
		s.handled[k] = true
		for _, st := range []string{"en_route", "on_scene", "available"} {
			at := s.nextAtLocked()
			s.sent[simKey(u.UnitID, at)] = simReport{u.UnitID, st, a.Incident}
			v := fmt.Sprintf(`{"unit_id":%q,"at":%q,"status":%q,"incident":%q}`, u.UnitID, at.Format(time.RFC3339Nano), st, a.Incident)
			out = append(out, kafka.Message{Key: []byte(u.UnitID), Value: []byte(v)})
		}
	}
	return out
}

// nextAtLocked returns a strictly increasing wall-clock time in microseconds.
func (s *unitSim) nextAtLocked() time.Time {
	at := time.Now().Truncate(time.Microsecond)
	if !at.After(s.lastAt) {
		at = s.lastAt.Add(time.Microsecond)
	}
	s.lastAt = at
	return at
}

// report returns the report produced for unit at a time, if any.
func (s *unitSim) report(unit string, at time.Time) (simReport, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.sent[simKey(unit, at)]
	return r, ok
}

// reportsOf lists the reports sent for a unit, in order (for diagnosis).
func (s *unitSim) reportsOf(unit string) []string {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k, r := range s.sent {
		if r.unit == unit {
			out = append(out, k[len(unit)+1:]+" "+r.status+" "+r.incident)
		}
	}
	slices.Sort(out)
	return out
}

func (s *unitSim) stats() (records, distinct, reports, retries int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records, len(s.keys), len(s.sent), s.retries
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// streamProducer writes incidents in paced chunks, retrying a failed chunk
// until it is acknowledged (an at-least-once producer: a retried chunk may
// duplicate records; the engine decides each id once).
type streamProducer struct {
	done    chan struct{}
	mu      sync.Mutex
	sent    int
	retries int
	err     error
}

func startStream(brokers []string, msgs []kafka.Message, chunk int, pace time.Duration) *streamProducer {
	p := &streamProducer{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: "incidents", Balancer: &kafka.Hash{},
			BatchTimeout: 2 * time.Millisecond, BatchSize: chunk, RequiredAcks: kafka.RequireAll, MaxAttempts: 3,
			WriteTimeout: 10 * time.Second}
		defer w.Close()
		deadline := time.Now().Add(10 * time.Minute)
		for i := 0; i < len(msgs); i += chunk {
			j := min(i+chunk, len(msgs))
			for {
				err := withTimeout(30*time.Second, func(ctx context.Context) error { return w.WriteMessages(ctx, msgs[i:j]...) })
				if err == nil {
					break
				}
				p.mu.Lock()
				p.retries++
				p.mu.Unlock()
				if time.Now().After(deadline) {
					p.mu.Lock()
					p.err = fmt.Errorf("produce: gave up at %d of %d: %w", i, len(msgs), err)
					p.mu.Unlock()
					return
				}
				time.Sleep(200 * time.Millisecond) // retry back-off
			}
			p.mu.Lock()
			p.sent = j
			p.mu.Unlock()
			if pace > 0 {
				time.Sleep(pace) // pacing of the stream, not a wait for an effect
			}
		}
	}()
	return p
}

func (p *streamProducer) progress() (sent, retries int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent, p.retries
}

// wait returns once every record is acknowledged (or production failed).
func (p *streamProducer) wait(t testing.TB) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(15 * time.Minute):
		t.Fatal("producer did not finish")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		t.Fatal(p.err)
	}
}
