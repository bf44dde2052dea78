package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/segmentio/kafka-go"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/kafkaio"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/dispatch/storetest"
	"github.com/zs110/dispatch/web"
)

// pollUntil polls cond every few milliseconds until it holds or the timeout passes.
func pollUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not a wait for an effect
	}
}

// testDB creates a fresh database and drops it at cleanup (storetest.NewDatabase).
func testDB(t testing.TB) string {
	t.Helper()
	return storetest.NewDatabase(t, "dispatchd_e2e")
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// harness is a running dispatchd (serve) against a broker and a store.
type harness struct {
	t       testing.TB
	cfg     *config
	brokers []string
	tokens  map[string]string // role label -> plain token
	cancel  context.CancelFunc
	done    chan error
	// logw receives the engine's log and its start-up announcement at
	// logLevel (default: discarded, info).
	logw     io.Writer
	logLevel slog.Level
}

// startBroker starts an in-process Kafka-protocol broker on a random loopback port.
func startBroker(t testing.TB) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	emb, err := kafkaio.StartEmbedded(ctx, "127.0.0.1:0", []string{"incidents", "unit-events", "assignments", "incidents.dlq"}, 4)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { emb.Close(); cancel() })
	return []string{emb.Addr()}
}

// writeTokens writes a token file with a dispatcher and a team leader per
// team, returning the plain tokens by name.
func writeTokens(t testing.TB, sc *scenario.Scenario) (string, map[string]string) {
	t.Helper()
	plain := map[string]string{}
	var entries []web.TokenEntry
	add := func(name, role, team string, towns []string) {
		p, e, err := web.GenerateToken(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		e.Name, e.Role, e.Team, e.Towns = name, role, team, towns
		e.Expires = time.Now().Add(24 * time.Hour)
		entries = append(entries, e)
		plain[name] = p
	}
	add("dispatcher", web.RoleDispatcher, "", nil)
	add("dispatcher-shiqi", web.RoleDispatcher, "", []string{"shiqi"})
	for _, tm := range sc.Teams {
		add("leader-"+tm.ID, web.RoleTeamLeader, tm.ID, nil)
	}
	b, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tokens.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, plain
}

func startEngine(t testing.TB, brokers []string, dbURL string, mod func(*config)) *harness {
	t.Helper()
	h := newHarness(t, brokers, dbURL, mod)
	h.start()
	return h
}

// newHarness configures dispatchd in process without starting it.
func newHarness(t testing.TB, brokers []string, dbURL string, mod func(*config)) *harness {
	t.Helper()
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	tokPath, plain := writeTokens(t, sc)
	cfg, err := parseConfig("test", nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Brokers = brokers
	cfg.DatabaseURL = dbURL
	cfg.HTTPAddr = freeAddr(t)
	cfg.TokensFile = tokPath
	cfg.GroupID = "e2e"
	if mod != nil {
		mod(cfg)
	}
	return &harness{t: t, cfg: cfg, brokers: brokers, tokens: plain, logw: io.Discard}
}

func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	log := slog.New(slog.NewTextHandler(h.logw, &slog.HandlerOptions{Level: h.logLevel}))
	go func() { h.done <- serve(ctx, h.cfg, log, h.logw) }()
	pollUntil(h.t, 30*time.Second, "dispatchd ready", func() bool {
		select {
		case err := <-h.done:
			h.t.Fatalf("serve stopped: %v", err)
		default:
		}
		resp, err := http.Get("http://" + h.cfg.HTTPAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func (h *harness) stop() {
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		h.t.Fatal("serve did not stop")
	}
}

// produce writes incidents to the incidents topic with a kafka-go Writer.
func produce(t testing.TB, brokers []string, topic string, msgs []kafka.Message) {
	t.Helper()
	if err := produceErr(brokers, topic, msgs); err != nil {
		t.Fatal(err)
	}
}

// produceErr is produce for use off the test goroutine.
func produceErr(brokers []string, topic string, msgs []kafka.Message) error {
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: &kafka.Hash{},
		BatchTimeout: 2 * time.Millisecond, BatchSize: 1000, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := 0; i < len(msgs); i += 1000 {
		j := min(i+1000, len(msgs))
		if err := w.WriteMessages(ctx, msgs[i:j]...); err != nil {
			return fmt.Errorf("produce to %s: %w", topic, err)
		}
	}
	return nil
}

func incidentMsg(id, typ string, lat, lng float64, at time.Time) kafka.Message {
	v := fmt.Sprintf(`{"id":%q,"reported_at":%q,"type":%q,"lat":%v,"lng":%v,"description":"e2e"}`,
		id, at.Format(time.RFC3339), typ, lat, lng)
	return kafka.Message{Key: []byte(id), Value: []byte(v)}
}

// wsClient is a console: it collects every event it receives, checking
// that seq increases and prev chains with no gap.
type wsClient struct {
	t       testing.TB
	addr    string
	token   string
	stop    chan struct{}
	resumes int             // slow-consumer disconnects resumed
	decided map[string]bool // incidents with a first-decision event
	conn    *websocket.Conn
	mu      sync.Mutex
	events  []dispatch.Event
	// arrived is when each incident's first event arrived.
	arrived map[string]time.Time
	last    int64
	got     bool // an event arrived on this connection
	errs    []string
	closed  chan struct{}
}

func dialConsole(t testing.TB, addr, token string, after int64) *wsClient {
	t.Helper()
	c := &wsClient{t: t, addr: addr, token: token, last: max(after, 0), closed: make(chan struct{}), stop: make(chan struct{}), arrived: map[string]time.Time{}, decided: map[string]bool{}}
	conn, err := c.dial()
	if err != nil {
		t.Fatal(err)
	}
	go c.read(conn)
	t.Cleanup(func() {
		close(c.stop)
		c.mu.Lock()
		if c.conn != nil {
			c.conn.Close()
		}
		c.mu.Unlock()
		<-c.closed
	})
	return c
}

// dial connects and says hello with the last seq seen.
func (c *wsClient) dial() (*websocket.Conn, error) {
	hdr := http.Header{"Authorization": {"Bearer " + c.token}}
	conn, resp, err := websocket.DefaultDialer.Dial("ws://"+c.addr+"/ws", hdr)
	if err != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		return nil, fmt.Errorf("dial /ws: %w (HTTP %d)", err, code)
	}
	c.mu.Lock()
	c.conn = conn
	after := c.last
	c.mu.Unlock()
	if err := conn.WriteJSON(map[string]any{"type": "hello", "after": after}); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// read collects events; when the server disconnects the console as a slow
// consumer it resumes from the last seq seen, as the console pages do.
func (c *wsClient) read(conn *websocket.Conn) {
	defer close(c.closed)
	for {
		err := c.readConn(conn)
		select {
		case <-c.stop:
			return
		default:
		}
		if !websocket.IsCloseError(err, 4008) {
			return
		}
		c.mu.Lock()
		c.resumes++
		c.mu.Unlock()
		if conn, err = c.dial(); err != nil {
			return
		}
	}
}

func (c *wsClient) readConn(conn *websocket.Conn) error {
	for {
		var m struct {
			Type  string         `json:"type"`
			Seq   int64          `json:"seq"`
			Prev  int64          `json:"prev"`
			Event dispatch.Event `json:"event"`
		}
		if err := conn.ReadJSON(&m); err != nil {
			return err
		}
		if m.Type != "event" {
			continue
		}
		c.mu.Lock()
		if m.Seq <= c.last {
			c.errs = append(c.errs, fmt.Sprintf("seq %d after %d: duplicate or reordered", m.Seq, c.last))
		}
		if c.got && m.Prev != c.last {
			c.errs = append(c.errs, fmt.Sprintf("gap: prev %d, last seen %d", m.Prev, c.last))
		}
		c.got = true
		c.last = m.Seq
		c.events = append(c.events, m.Event)
		if slices.Contains(firstDecisionKinds, m.Event.Kind) {
			c.decided[m.Event.Incident] = true
		}
		if _, ok := c.arrived[m.Event.Incident]; !ok {
			c.arrived[m.Event.Incident] = time.Now()
		}
		c.mu.Unlock()
	}
}

// decidedCount is how many distinct incidents got a first-decision event.
// all returns a copy of the events received so far.
func (c *wsClient) all() []dispatch.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]dispatch.Event(nil), c.events...)
}

func (c *wsClient) decidedCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.decided)
}

// count returns how many distinct incidents got one of the given event kinds.
func (c *wsClient) count(kinds ...string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]bool{}
	for _, ev := range c.events {
		for _, k := range kinds {
			if ev.Kind == k {
				seen[ev.Incident] = true
			}
		}
	}
	return len(seen)
}

func (c *wsClient) problems() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.errs) > 5 {
		return strings.Join(c.errs[:5], "; ") + fmt.Sprintf(" (+%d)", len(c.errs)-5)
	}
	return strings.Join(c.errs, "; ")
}

// firstDecisionKinds are the event kinds of an incident's first decision.
var firstDecisionKinds = []string{dispatch.EvIncidentDispatched, dispatch.EvIncidentRecommended, dispatch.EvIncidentManual, dispatch.EvIncidentLinked}

// incident reads an incident through the HTTP API as the dispatcher.
func (h *harness) incident(t testing.TB, id string) *dispatch.IncidentRecord {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+h.cfg.HTTPAddr+"/api/incidents/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+h.tokens["dispatcher"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET incident %s: HTTP %d", id, resp.StatusCode)
	}
	var rec dispatch.IncidentRecord
	if err := json.NewDecoder(resp.Body).Decode(&rec); err != nil {
		t.Fatal(err)
	}
	return &rec
}

// readAll reads every record of a topic, partition by partition, up to the
// end offsets at the time of the call.
func readAll(t testing.TB, brokers []string, topic string) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second}
	meta, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil || len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		t.Fatalf("metadata %s: %v %+v", topic, err, meta)
	}
	var out []kafka.Message
	for _, p := range meta.Topics[0].Partitions {
		req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID)}}}
		res, err := cl.ListOffsets(ctx, req)
		if err != nil {
			t.Fatalf("list offsets %s/%d: %v", topic, p.ID, err)
		}
		po := res.Topics[topic][0]
		if po.Error != nil {
			t.Fatalf("list offsets %s/%d: %v", topic, p.ID, po.Error)
		}
		if po.LastOffset <= po.FirstOffset {
			continue
		}
		rd := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p.ID, MaxBytes: 16 << 20, MaxWait: 100 * time.Millisecond})
		if err := rd.SetOffset(po.FirstOffset); err != nil {
			t.Fatal(err)
		}
		for {
			m, err := rd.ReadMessage(ctx)
			if err != nil {
				rd.Close()
				t.Fatalf("read %s/%d: %v", topic, p.ID, err)
			}
			out = append(out, m)
			if m.Offset >= po.LastOffset-1 {
				break
			}
		}
		rd.Close()
	}
	return out
}
