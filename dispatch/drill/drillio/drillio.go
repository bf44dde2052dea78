package drillio

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/drill"
	"github.com/zs110/dispatch/dispatch/kafkaio"
)

// SinkConfig configures a Sink.
type SinkConfig struct {
	// Brokers to write to. Required.
	Brokers []string
	// Security is the TLS and SASL of the writer's connections. Default
	// nil: plaintext.
	Security *kafkaio.Security
	// Topic to write to. Required.
	Topic string
	// BatchSize is how many records go in one produce call. Default 1000.
	BatchSize int
}

// Sink writes incidents to a Kafka topic.
type Sink struct {
	cfg SinkConfig
	w   *kafka.Writer
	tr  *kafka.Transport
}

// NewSink validates cfg and builds the writer (it connects on first write).
func NewSink(cfg SinkConfig) (*Sink, error) {
	if len(cfg.Brokers) == 0 || cfg.Topic == "" {
		return nil, errors.New("drillio: sink needs brokers and a topic")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1000
	}
	tr := cfg.Security.Transport() // its own connections, closed with the sink
	w := &kafka.Writer{Addr: kafka.TCP(cfg.Brokers...), Topic: cfg.Topic, Balancer: &kafka.Hash{}, BatchSize: cfg.BatchSize,
		BatchBytes: 16 << 20, BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafka.RequireAll, Transport: tr}
	return &Sink{cfg: cfg, w: w, tr: tr}, nil
}

// WriteAll produces every incident of src and returns how many it wrote.
// progress, when not nil, is called after each batch with the count so far.
func (s *Sink) WriteAll(ctx context.Context, src drill.Source, progress func(n int)) (int, error) {
	batch := make([]kafka.Message, 0, s.cfg.BatchSize)
	n := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := s.w.WriteMessages(ctx, batch...); err != nil {
			return fmt.Errorf("drillio: produce: %w", err)
		}
		n += len(batch)
		batch = batch[:0]
		if progress != nil {
			progress(n)
		}
		return nil
	}
	for {
		inc, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
		batch = append(batch, kafka.Message{Key: []byte(inc.ID), Value: drill.AppendJSON(nil, inc), Time: inc.ReportedAt})
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	return n, flush()
}

// Close flushes and closes the writer and its connections.
func (s *Sink) Close() error {
	err := s.w.Close()
	s.tr.CloseIdleConnections()
	return err
}

// SourceConfig configures a Source. Without a range it reads each
// partition from its first record to its end when the source starts.
type SourceConfig struct {
	// Brokers to read from. Required.
	Brokers []string
	// Security is the TLS and SASL of every connection. Default nil:
	// plaintext.
	Security *kafkaio.Security
	// Topic to read. Required.
	Topic string
	// Partitions to read; nil: every partition of the topic.
	Partitions []int
	// StartOffset and EndOffset (exclusive) bound the offsets read in each
	// partition; 0 and 0: from the first record to the end at start.
	StartOffset, EndOffset int64
	// From and To (exclusive) bound the record timestamps read; zero: no bound.
	From, To time.Time
	// Logger. Default slog.Default().
	Logger *slog.Logger
}

// Source reads incidents from a Kafka topic in reported_at order; it
// implements drill.Source. Records that name no incident are skipped and
// counted.
type Source struct {
	cfg     SourceConfig
	ctx     context.Context
	cancel  context.CancelFunc
	parts   []*partReader
	h       headHeap
	started bool
	skipped int
	total   int64
}

type partReader struct {
	p     int
	r     *kafka.Reader
	next  int64 // offset of the next record to read
	end   int64 // exclusive
	head  dispatch.Incident
	last  time.Time
	order int
}

// NewSource connects, resolves the partitions and their offset ranges, and
// returns a source positioned at the start of the range.
func NewSource(ctx context.Context, cfg SourceConfig) (*Source, error) {
	if len(cfg.Brokers) == 0 || cfg.Topic == "" {
		return nil, errors.New("drillio: source needs brokers and a topic")
	}
	if cfg.StartOffset < 0 || cfg.EndOffset < 0 || (cfg.EndOffset > 0 && cfg.EndOffset < cfg.StartOffset) {
		return nil, errors.New("drillio: bad offset range")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	conn, err := cfg.Security.Dial(ctx, cfg.Brokers[0])
	if err != nil {
		return nil, fmt.Errorf("drillio: dial: %w", err)
	}
	parts, err := conn.ReadPartitions(cfg.Topic)
	_ = conn.Close()
	if err != nil {
		return nil, fmt.Errorf("drillio: partitions of %s: %w", cfg.Topic, err)
	}
	want := map[int]bool{}
	for _, p := range cfg.Partitions {
		if !containsPartition(parts, cfg.Topic, p) {
			return nil, fmt.Errorf("drillio: topic %s has no partition %d", cfg.Topic, p)
		}
		want[p] = true
	}
	rctx, cancel := context.WithCancel(context.Background())
	s := &Source{cfg: cfg, ctx: rctx, cancel: cancel}
	for _, p := range parts {
		if p.Topic != cfg.Topic || (len(want) > 0 && !want[p.ID]) {
			continue
		}
		pr, err := s.open(ctx, p.ID)
		if err != nil {
			_ = s.Close()
			return nil, err
		}
		if pr.next < pr.end {
			pr.order = len(s.parts)
			s.parts = append(s.parts, pr)
			s.total += pr.end - pr.next
		} else {
			_ = pr.r.Close()
		}
	}
	return s, nil
}

func containsPartition(parts []kafka.Partition, topic string, id int) bool {
	for _, p := range parts {
		if p.Topic == topic && p.ID == id {
			return true
		}
	}
	return false
}

// open resolves one partition's range and opens its reader.
func (s *Source) open(ctx context.Context, p int) (*partReader, error) {
	conn, err := s.cfg.Security.Dialer().DialLeader(ctx, "tcp", s.cfg.Brokers[0], s.cfg.Topic, p)
	if err != nil {
		return nil, fmt.Errorf("drillio: partition %d: %w", p, err)
	}
	defer func() { _ = conn.Close() }()
	first, last, err := conn.ReadOffsets()
	if err != nil {
		return nil, fmt.Errorf("drillio: offsets of partition %d: %w", p, err)
	}
	start, end := max(first, s.cfg.StartOffset), last
	if s.cfg.EndOffset > 0 {
		end = min(end, s.cfg.EndOffset)
	}
	if !s.cfg.From.IsZero() {
		off, err := conn.ReadOffset(s.cfg.From)
		if err != nil {
			return nil, fmt.Errorf("drillio: offset at %s in partition %d: %w", s.cfg.From, p, err)
		}
		if off < 0 { // no record at or after From
			off = last
		}
		start = max(start, off)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: s.cfg.Brokers, Topic: s.cfg.Topic, Partition: p, MinBytes: 1, MaxBytes: 16 << 20,
		MaxWait: 200 * time.Millisecond, Dialer: s.cfg.Security.Dialer()})
	if start < end {
		if err := r.SetOffset(start); err != nil {
			_ = r.Close()
			return nil, fmt.Errorf("drillio: partition %d: %w", p, err)
		}
	}
	return &partReader{p: p, r: r, next: start, end: end}, nil
}

// Total returns how many records the offset ranges hold (a time range's
// end is not known in advance: records past To are skipped).
func (s *Source) Total() int64 { return s.total }

// Skipped returns how many records were skipped (they named no incident).
func (s *Source) Skipped() int { return s.skipped }

// advance reads pr's next incident into its head; false when the
// partition's range is done.
func (s *Source) advance(pr *partReader) (bool, error) {
	for pr.next < pr.end {
		m, err := pr.r.ReadMessage(s.ctx)
		if err != nil {
			return false, fmt.Errorf("drillio: partition %d: %w", pr.p, err)
		}
		pr.next = m.Offset + 1
		if !s.cfg.To.IsZero() && !m.Time.Before(s.cfg.To) {
			pr.next = pr.end // the rest is past the range
			return false, nil
		}
		inc, ok := drill.DecodeRecord(m.Value, pr.last)
		if !ok {
			s.skipped++
			continue
		}
		pr.head, pr.last = inc, inc.ReportedAt
		return true, nil
	}
	return false, nil
}

// Next implements drill.Source.
func (s *Source) Next() (dispatch.Incident, error) {
	if !s.started {
		s.started = true
		for _, pr := range s.parts {
			ok, err := s.advance(pr)
			if err != nil {
				return dispatch.Incident{}, err
			}
			if ok {
				heap.Push(&s.h, pr)
			}
		}
	}
	if s.h.Len() == 0 {
		return dispatch.Incident{}, io.EOF
	}
	pr := s.h[0]
	inc := pr.head
	ok, err := s.advance(pr)
	if err != nil {
		return dispatch.Incident{}, err
	}
	if ok {
		heap.Fix(&s.h, 0)
	} else {
		heap.Pop(&s.h)
	}
	return inc, nil
}

// Close closes the readers.
func (s *Source) Close() error {
	s.cancel()
	var errs []error
	for _, pr := range s.parts {
		errs = append(errs, pr.r.Close())
	}
	return errors.Join(errs...)
}

// headHeap orders partitions by their head's reported_at, then partition order.
type headHeap []*partReader

func (h headHeap) Len() int { return len(h) }
func (h headHeap) Less(i, j int) bool {
	if c := h[i].head.ReportedAt.Compare(h[j].head.ReportedAt); c != 0 {
		return c < 0
	}
	return h[i].order < h[j].order
}
func (h headHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *headHeap) Push(x any)   { *h = append(*h, x.(*partReader)) }
func (h *headHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
