package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zs110/dispatch/dispatch"
)

// EventSource is the durable console event log the hub tails (a
// dispatch.Store is one).
type EventSource interface {
	// EventsAfter returns up to limit events with Seq > after, in Seq order.
	EventsAfter(ctx context.Context, after int64, limit int) ([]dispatch.Event, error)
}

// HubConfig configures a Hub. Zero fields take the defaults in their comments.
type HubConfig struct {
	// Source is the event log to tail. Required.
	Source EventSource
	// Logger defaults to a logger that discards.
	Logger *slog.Logger
	// Registerer receives the hub's metrics (dispatch_consoles,
	// dispatch_console_disconnects_total); nil: a private registry.
	Registerer prometheus.Registerer
	// SendQueue is each console's queue of live events (8192). A console whose
	// queue is full is disconnected with close code 4008.
	SendQueue int
	// Poll is the fallback interval of the tail when nobody calls Notify (100ms).
	Poll time.Duration
	// WriteTimeout bounds each websocket write (10s).
	WriteTimeout time.Duration
	// PingInterval is the keepalive ping period (20s); a console silent for
	// two intervals plus WriteTimeout is dropped.
	PingInterval time.Duration
	// ReadLimit is the largest client message in bytes (64 KiB).
	ReadLimit int64
	// AllowedOrigins are the Origins accepted on /ws besides the server's own
	// host, e.g. "https://console.example" (default: same host only).
	AllowedOrigins []string
	// RingSize is how many recent events are kept in memory for fast resume
	// (65536); older resumes read the Source.
	RingSize int
	// HelloTimeout is how long a console has to send its hello (10s).
	HelloTimeout time.Duration
	// Batch is the page size of reads from the Source (1024).
	Batch int
}

// item is an event with its JSON encoding, made once for every console.
type item struct {
	ev  dispatch.Event
	raw []byte
}

// sub is one websocket console known to the hub.
type sub struct {
	p     Principal
	hash  string // hex SHA-256 of the console's token ("" when not known)
	queue chan *item
	// kicked is closed (under Hub.mu, once) when the hub drops the console:
	// kickCode and kickReason say why.
	kicked     chan struct{}
	kickCode   int
	kickReason string
	kickMetric string
	// after: live events with Seq <= after are not queued (set when live).
	after int64
}

// Hub tails the event log and fans events out to the websocket consoles,
// each through its own bounded queue and writer goroutine.
//
// Locking: Hub.mu guards the ring, the positions and the console sets. It is
// never held while calling the Source or writing to a socket, and no other
// lock is taken while it is held (the rate limiter's mutex is independent).
type Hub struct {
	cfg HubConfig
	src EventSource
	log *slog.Logger

	consoles    prometheus.Gauge
	disconnects *prometheus.CounterVec

	notify  chan struct{}
	started chan struct{} // closed once Run has found the end of the log
	wg      sync.WaitGroup

	mu      sync.Mutex
	ring    []*item // circular buffer of the most recent events
	head    int     // index of the oldest item
	n       int     // items in the ring
	floor   int64   // every event with floor < Seq <= last is in the ring
	last    int64   // Seq of the newest event published
	stopped bool
	all     map[*sub]struct{} // every open console
	live    map[*sub]struct{} // consoles past their replay, fed by publish
}

// NewHub validates cfg and fills its defaults.
func NewHub(cfg HubConfig) (*Hub, error) {
	if cfg.Source == nil {
		return nil, errors.New("hub: no event source")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewRegistry()
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.SendQueue, 8192)
	def(&cfg.RingSize, 65536)
	def(&cfg.Batch, 1024)
	defDur(&cfg.Poll, 100*time.Millisecond)
	defDur(&cfg.WriteTimeout, 10*time.Second)
	defDur(&cfg.PingInterval, 20*time.Second)
	defDur(&cfg.HelloTimeout, 10*time.Second)
	if cfg.ReadLimit <= 0 {
		cfg.ReadLimit = 64 << 10
	}
	h := &Hub{
		cfg: cfg, src: cfg.Source, log: cfg.Logger.With("component", "web.hub"),
		consoles: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dispatch_consoles", Help: "Connected websocket consoles.",
		}),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dispatch_console_disconnects_total", Help: "Websocket consoles disconnected, by reason.",
		}, []string{"reason"}),
		notify:  make(chan struct{}, 1),
		started: make(chan struct{}),
		ring:    make([]*item, cfg.RingSize),
		all:     map[*sub]struct{}{},
		live:    map[*sub]struct{}{},
	}
	if err := registerAll(cfg.Registerer, h.consoles, h.disconnects); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	return h, nil
}

// registerAll registers collectors, reusing ones already registered.
func registerAll(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return err
			}
		}
	}
	return nil
}

// Notify wakes the tail at once: the engine calls it after each durable
// write. It never blocks.
func (h *Hub) Notify() {
	select {
	case h.notify <- struct{}{}:
	default:
	}
}

// Run tails the Source from its current end until ctx is done, then closes
// every console (close code 1001) and waits for their goroutines. Errors of
// the Source are logged and retried at the poll interval. It returns nil
// when ctx is cancelled.
func (h *Hub) Run(ctx context.Context) error {
	defer h.shutdown()
	end, err := h.findEnd(ctx)
	for err != nil {
		if ctx.Err() != nil {
			return nil
		}
		h.log.Warn("find end of event log", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(h.cfg.Poll):
		}
		end, err = h.findEnd(ctx)
	}
	h.mu.Lock()
	h.floor, h.last = end, end
	h.mu.Unlock()
	close(h.started)
	h.log.Info("tailing event log", "from", end)

	tick := time.NewTicker(h.cfg.Poll)
	defer tick.Stop()
	for {
		h.drain(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-h.notify:
		case <-tick.C:
		}
	}
}

// lastSeqer is an optional EventSource method giving the end of the log.
type lastSeqer interface {
	LastSeq(ctx context.Context) (int64, error)
}

// findEnd returns the Seq of the newest event (0: none), asking the Source
// for LastSeq when it has it, else by exponential and binary search with
// EventsAfter(x, 1) (about 2*log2(seq) reads).
func (h *Hub) findEnd(ctx context.Context) (int64, error) {
	if ls, ok := h.src.(lastSeqer); ok {
		return ls.LastSeq(ctx)
	}
	// exists(x): is there an event with Seq > x? The end is the smallest x
	// for which there is none.
	exists := func(x int64) (int64, bool, error) {
		evs, err := h.src.EventsAfter(ctx, x, 1)
		if err != nil || len(evs) == 0 {
			return 0, false, err
		}
		return evs[0].Seq, true, nil
	}
	lo := int64(0) // an event > lo exists, or lo is the answer
	s, ok, err := exists(0)
	if err != nil || !ok {
		return 0, err
	}
	lo = s // an event with Seq s exists: the end is >= s
	var hi int64
	for step := int64(1); ; step *= 2 {
		hi = lo + step
		s, ok, err = exists(hi)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		lo = s
	}
	// an event with Seq lo exists; none has Seq > hi
	for lo < hi {
		mid := lo + (hi-lo)/2
		s, ok, err = exists(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = s
		} else {
			hi = mid
		}
	}
	return lo, nil
}

// drain reads and publishes every event after the last one published.
func (h *Hub) drain(ctx context.Context) {
	for ctx.Err() == nil {
		h.mu.Lock()
		after := h.last
		h.mu.Unlock()
		evs, err := h.src.EventsAfter(ctx, after, h.cfg.Batch)
		if err != nil {
			if ctx.Err() == nil {
				h.log.Warn("tail event log", "after", after, "err", err)
			}
			return
		}
		if len(evs) == 0 {
			return
		}
		items := make([]*item, 0, len(evs))
		for i := range evs {
			it, err := newItem(evs[i])
			if err != nil {
				h.log.Error("encode event", "seq", evs[i].Seq, "err", err)
				continue
			}
			items = append(items, it)
		}
		h.publish(items)
		if len(evs) < h.cfg.Batch {
			return
		}
	}
}

func newItem(ev dispatch.Event) (*item, error) {
	raw, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	return &item{ev: ev, raw: raw}, nil
}

// publish appends items to the ring and queues them to the live consoles
// that may see them, never blocking: a full queue disconnects its console.
func (h *Hub) publish(items []*item) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, it := range items {
		if it.ev.Seq <= h.last {
			continue // the log went backwards: never publish a seq twice
		}
		if h.n == len(h.ring) {
			h.floor = h.ring[h.head].ev.Seq
			h.ring[h.head] = nil
			h.head = (h.head + 1) % len(h.ring)
			h.n--
		}
		h.ring[(h.head+h.n)%len(h.ring)] = it
		h.n++
		h.last = it.ev.Seq
		for s := range h.live {
			if it.ev.Seq <= s.after || !Visible(s.p, it.ev) {
				continue
			}
			select {
			case s.queue <- it:
			default:
				h.kickLocked(s, closeSlowConsumer, "slow consumer", "slow_consumer")
			}
		}
	}
}

// kickLocked drops a console: its writer sends the close frame. For slow
// consumers the writer rewrites the reason with the last seq it sent.
func (h *Hub) kickLocked(s *sub, code int, reason, metric string) {
	if s.kickCode != 0 {
		return
	}
	s.kickCode, s.kickReason, s.kickMetric = code, reason, metric
	delete(h.live, s)
	close(s.kicked)
	h.disconnects.WithLabelValues(metric).Inc()
}

// ringAfterLocked returns the ring's items with Seq > after, oldest first.
func (h *Hub) ringAfterLocked(after int64) []*item {
	// binary search over the circular buffer (seqs increase)
	lo, hi := 0, h.n
	for lo < hi {
		mid := (lo + hi) / 2
		if h.ring[(h.head+mid)%len(h.ring)].ev.Seq <= after {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	out := make([]*item, 0, h.n-lo)
	for i := lo; i < h.n; i++ {
		out = append(out, h.ring[(h.head+i)%len(h.ring)])
	}
	return out
}

// add registers a new console; false when the hub has stopped.
func (h *Hub) add(s *sub) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return false
	}
	h.all[s] = struct{}{}
	h.wg.Add(1)
	h.consoles.Inc()
	return true
}

// remove forgets a console whose goroutines have ended, counting the
// disconnect unless the hub counted it when it dropped the console.
func (h *Hub) remove(s *sub, reason string) {
	h.mu.Lock()
	delete(h.all, s)
	delete(h.live, s)
	kicked := s.kickCode != 0
	h.mu.Unlock()
	h.consoles.Dec()
	if !kicked {
		h.disconnects.WithLabelValues(reason).Inc()
	}
	h.wg.Done()
}

// closeTokenRefused is the close code of a console whose token was revoked,
// expired or removed: the reason says which; the console must sign in again.
const closeTokenRefused = 4001

// revalidate closes every open console whose token check refuses now, with
// close code closeTokenRefused and the refusal as reason, and returns the
// principals closed with their reasons.
func (h *Hub) revalidate(check func(hash string) error) []refusedConsole {
	h.mu.Lock()
	subs := make([]*sub, 0, len(h.all))
	for s := range h.all {
		if s.hash != "" && s.kickCode == 0 {
			subs = append(subs, s)
		}
	}
	h.mu.Unlock()
	var bad []*sub
	var out []refusedConsole
	for _, s := range subs {
		if err := check(s.hash); err != nil {
			bad = append(bad, s)
			out = append(out, refusedConsole{p: s.p, err: err})
		}
	}
	if len(bad) == 0 {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, s := range bad {
		if _, open := h.all[s]; open {
			reason := strings.TrimPrefix(out[i].err.Error(), ErrUnauthorized.Error()+": ")
			h.kickLocked(s, closeTokenRefused, reason+": sign in again", strings.ReplaceAll(reason, " ", "_"))
		}
	}
	return out
}

// refusedConsole is a console revalidate closed.
type refusedConsole struct {
	p   Principal
	err error
}

// shutdown closes every console and waits for their goroutines.
func (h *Hub) shutdown() {
	h.mu.Lock()
	h.stopped = true
	for s := range h.all {
		h.kickLocked(s, 1001, "server shutting down", "shutdown")
	}
	h.mu.Unlock()
	h.wg.Wait()
}

// goLive registers s for live events once its cursor is within the ring.
// It returns the ring's items after cursor to replay and the seq the
// console is in sync with, or ok=false when cursor is older than the ring.
func (h *Hub) goLive(s *sub, cursor int64) (replay []*item, synced int64, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if cursor < h.floor {
		return nil, 0, false
	}
	replay = h.ringAfterLocked(cursor)
	synced = max(cursor, h.last)
	s.after = synced
	if s.kickCode == 0 {
		h.live[s] = struct{}{}
	}
	return replay, synced, true
}

// position returns the ring's floor and the last seq published.
func (h *Hub) position() (floor, last int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.floor, h.last
}
