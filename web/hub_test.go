package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/zs110/dispatch/dispatch"
)

// wsMsg is any server message.
type wsMsg struct {
	Type     string                   `json:"type"`
	Seq      int64                    `json:"seq"`
	Prev     int64                    `json:"prev"`
	Event    dispatch.Event           `json:"event"`
	ID       string                   `json:"id"`
	OK       bool                     `json:"ok"`
	Error    string                   `json:"error"`
	Incident *dispatch.IncidentRecord `json:"incident"`
}

// dialWS opens /ws with a Bearer token and no Origin (a program).
func (e *env) dialWS(console string, hdr http.Header, d *websocket.Dialer) (*websocket.Conn, *http.Response, error) {
	if hdr == nil {
		hdr = http.Header{}
	}
	if console != "" {
		hdr.Set("Authorization", "Bearer "+e.tokens[console])
	}
	if d == nil {
		d = websocket.DefaultDialer
	}
	return d.Dial("ws://"+e.addr+"/ws", hdr)
}

// client is a console reading events and checking seq and prev as it goes.
type client struct {
	t    testing.TB
	conn *websocket.Conn
	last int64 // last seq received (or the hello position)
	got  []dispatch.Event
	// ready is the seq of the ready message (-1 until it came).
	ready int64
}

func (e *env) console(console string, after int64) *client {
	e.t.Helper()
	conn, resp, err := e.dialWS(console, nil, nil)
	if err != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		e.t.Fatalf("dial %s: %v (HTTP %d)", console, err, code)
	}
	e.t.Cleanup(func() { conn.Close() })
	if err := conn.WriteJSON(map[string]any{"type": "hello", "after": after}); err != nil {
		e.t.Fatal(err)
	}
	return &client{t: e.t, conn: conn, last: -1, ready: -1}
}

// next reads one message; events are checked for order and chaining.
func (c *client) next() (wsMsg, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var m wsMsg
	_, b, err := c.conn.ReadMessage()
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("bad server message %s: %v", b, err)
	}
	switch m.Type {
	case "event":
		if m.Event.Seq != m.Seq {
			c.t.Errorf("event seq %d in a message with seq %d", m.Event.Seq, m.Seq)
		}
		if c.last >= 0 && m.Prev != c.last {
			c.t.Errorf("prev %d, last received %d: gap", m.Prev, c.last)
		}
		if c.last >= 0 && m.Seq <= c.last {
			c.t.Errorf("seq %d after %d: duplicate or reordered", m.Seq, c.last)
		}
		c.last = m.Seq
		c.got = append(c.got, m.Event)
	case "ready":
		c.ready = m.Seq
	}
	return m, nil
}

// until reads until cond holds.
func (c *client) until(what string, cond func() bool) {
	c.t.Helper()
	for !cond() {
		if _, err := c.next(); err != nil {
			c.t.Fatalf("waiting for %s: %v (last seq %d, %d events)", what, err, c.last, len(c.got))
		}
	}
}

func (c *client) seqs() []int64 {
	out := make([]int64, len(c.got))
	for i, ev := range c.got {
		out[i] = ev.Seq
	}
	return out
}

func ev(kind, town, drill string, teams ...string) dispatch.Event {
	return dispatch.Event{Kind: kind, Town: town, Drill: drill, Teams: teams, Incident: "I-" + kind}
}

// TestReplayThenLive: consoles connect while events are being written; each
// gets every event from the start exactly once, in order, with prev
// chained, across the replay from the log, the ring and live delivery.
func TestReplayThenLive(t *testing.T) {
	e := startEnv(t, envOpts{
		hub:    func(c *HubConfig) { c.RingSize = 64; c.Batch = 16; c.SendQueue = 4096 },
		before: func(s *memSource) { s.stride = 3 }, // holes in the seqs, as a sequence may leave
	})
	for i := range 200 {
		e.src.append(ev("pre", fmt.Sprint("t", i%3), ""))
	}
	const total = 1200
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 200; i < total; i += 10 {
			batch := make([]dispatch.Event, 10)
			for j := range batch {
				batch[j] = ev("live", "t1", "")
			}
			e.src.append(batch...)
			e.hub.Notify()
		}
	}()
	var clients []*client
	for range 6 {
		clients = append(clients, e.console("desk", -1))
	}
	wg.Wait()
	final := e.src.last()
	for i, c := range clients {
		c.until("all events", func() bool { return c.last >= final && c.ready >= 0 })
		if len(c.got) != total || c.ready < 0 {
			t.Errorf("client %d: %d events (want %d), ready %d", i, len(c.got), total, c.ready)
		}
		for k, s := range c.seqs() {
			if want := int64(1 + 3*k); s != want {
				t.Fatalf("client %d: event %d has seq %d, want %d", i, k, s, want)
			}
		}
	}
}

// TestHelloFromNowAndResume: after=0 starts at the end of the log; a
// console that drops resumes with after = its last seq and misses nothing.
func TestHelloFromNowAndResume(t *testing.T) {
	e := startEnv(t, envOpts{hub: func(c *HubConfig) { c.RingSize = 8 }})
	e.src.append(ev("old", "shiqi", ""), ev("old", "shiqi", ""))
	e.hub.Notify()
	pollUntil(t, 5*time.Second, "tail", func() bool { _, last := e.hub.position(); return last == 2 })

	c := e.console("desk", 0)
	c.until("ready", func() bool { return c.ready >= 0 })
	if c.ready != 2 || len(c.got) != 0 {
		t.Fatalf("from now: ready %d with %d events", c.ready, len(c.got))
	}
	e.src.append(ev("a", "shiqi", ""), ev("b", "shiqi", ""))
	e.hub.Notify()
	c.until("2 live events", func() bool { return len(c.got) == 2 })
	if got := c.seqs(); !slices.Equal(got, []int64{3, 4}) {
		t.Fatalf("live seqs %v", got)
	}
	c.conn.Close()

	// While away: more than the ring holds, so the resume reads the log.
	for range 20 {
		e.src.append(ev("missed", "shiqi", ""))
	}
	e.hub.Notify()
	pollUntil(t, 5*time.Second, "tail", func() bool { _, last := e.hub.position(); return last == 24 })
	r := e.console("desk", 4)
	r.last = -1
	m, err := r.next()
	if err != nil || m.Type != "event" || m.Seq != 5 || m.Prev != 4 {
		t.Fatalf("first resumed message %+v, %v", m, err)
	}
	r.until("ready", func() bool { return r.ready >= 0 })
	e.src.append(ev("after", "shiqi", ""))
	e.hub.Notify()
	r.until("live after resume", func() bool { return r.last == 25 })
	if n := len(r.got); n != 21 {
		t.Errorf("resumed %d events, want 21", n)
	}
}

// TestRoleFilterOnSocket: each console gets exactly its events.
func TestRoleFilterOnSocket(t *testing.T) {
	e := startEnv(t, envOpts{})
	evs := []dispatch.Event{
		ev("fire-shiqi", "shiqi", "", "fire"),           // 1
		ev("police-dongqu", "dongqu", "", "police"),     // 2
		ev("both-shiqi", "shiqi", "", "fire", "police"), // 3
		ev("manual", "", ""),                            // 4
		ev("drill-a", "shiqi", "a", "fire"),             // 5
		ev("drill-b", "dongqu", "b", "police"),          // 6
		ev("dongqu", "dongqu", ""),                      // 7
		ev("end", "", "a", "fire", "police"),            // 8
	}
	e.src.append(evs...)
	e.hub.Notify()
	pollUntil(t, 5*time.Second, "tail", func() bool { _, last := e.hub.position(); return last == 8 })
	want := map[string][]int64{
		"desk":          {1, 2, 3, 4, 7},
		"desk-shiqi":    {1, 3, 4},
		"leader-fire":   {1, 3},
		"leader-police": {2, 3},
		"drill-a":       {5, 8},
		"drill-b":       {6},
	}
	clients := map[string]*client{}
	for name, seqs := range want {
		c := e.console(name, -1)
		c.until("ready", func() bool { return c.ready >= 0 })
		if got := c.seqs(); !slices.Equal(got, seqs) {
			t.Errorf("%s replay: %v, want %v", name, got, seqs)
		}
		clients[name] = c
	}
	// the same filter live: the copies have seq + 8
	e.src.append(evs...)
	e.hub.Notify()
	for name, seqs := range want {
		c := clients[name]
		c.until("live copies", func() bool { return len(c.got) == 2*len(seqs) })
		live := c.seqs()[len(seqs):]
		for i := range live {
			live[i] -= 8
		}
		if !slices.Equal(live, seqs) {
			t.Errorf("%s live: %v, want %v", name, live, seqs)
		}
	}
}

// smallBuffers makes the server's socket send buffers tiny so that a
// console that stops reading backs up at once.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

// TestSlowConsumer: a console that stops reading is disconnected with 4008
// and the reason naming its last seq; another console gets everything; the
// tail is not blocked; the slow console resumes without a gap.
func TestSlowConsumer(t *testing.T) {
	e := startEnv(t, envOpts{
		hub:    func(c *HubConfig) { c.SendQueue = 16 },
		listen: func(l net.Listener) net.Listener { return smallBuffers{l} },
	})
	small := &websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4096)
		}
		return c, err
	}}
	conn, _, err := e.dialWS("desk", nil, small)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	slow := &client{t: t, conn: conn, last: -1, ready: -1}
	if err := conn.WriteJSON(map[string]any{"type": "hello", "after": 0}); err != nil {
		t.Fatal(err)
	}
	slow.until("ready", func() bool { return slow.ready >= 0 })
	fast := e.console("desk-2", 0)
	fast.until("ready", func() bool { return fast.ready >= 0 })

	// The fast console reads in the background; the slow one stops reading.
	var mu sync.Mutex
	fastN := 0
	fastDone := make(chan error, 1)
	go func() {
		for {
			if _, err := fast.next(); err != nil {
				fastDone <- err
				return
			}
			mu.Lock()
			fastN = len(fast.got)
			mu.Unlock()
			if fastN == 300 {
				fastDone <- nil
				return
			}
		}
	}()
	// Batches of 5, each written once the fast console has the previous
	// ones: it never has more than 5 queued.
	big := json.RawMessage(`"` + strings.Repeat("x", 4000) + `"`)
	for i := 0; i < 300; i += 5 {
		batch := make([]dispatch.Event, 5)
		for j := range batch {
			batch[j] = ev("big", "shiqi", "")
			batch[j].Data = big
		}
		e.src.append(batch...)
		e.hub.Notify()
		pollUntil(t, 10*time.Second, "fast console keeps up", func() bool {
			mu.Lock()
			defer mu.Unlock()
			select {
			case err := <-fastDone:
				fastDone <- err
				return true
			default:
			}
			return fastN >= i+5
		})
	}
	pollUntil(t, 10*time.Second, "slow consumer kicked", func() bool {
		return e.counter("dispatch_console_disconnects_total", "reason", "slow_consumer") == 1
	})
	if err := <-fastDone; err != nil {
		t.Fatalf("fast console: %v", err)
	}
	pollUntil(t, 5*time.Second, "tail at the end", func() bool { _, last := e.hub.position(); return last == 300 })

	// The slow console now reads what was buffered, then the close.
	var ce *websocket.CloseError
	for {
		_, err := slow.next()
		if err == nil {
			continue
		}
		if !errors.As(err, &ce) {
			t.Fatalf("slow console ended with %v, want a close frame", err)
		}
		break
	}
	if ce.Code != 4008 || ce.Text != fmt.Sprintf("slow consumer: resume from %d", slow.last) {
		t.Fatalf("close %d %q after seq %d", ce.Code, ce.Text, slow.last)
	}
	if slow.last >= 300 {
		t.Fatalf("slow console got everything (%d): the test did not back up", slow.last)
	}
	r := e.console("desk", slow.last)
	r.last = slow.last
	r.until("rest", func() bool { return r.last == 300 })
	if n := len(slow.got) + len(r.got); n != 300 {
		t.Errorf("%d events across the resume, want 300", n)
	}
	pollUntil(t, 5*time.Second, "gauge", func() bool { return e.counter("dispatch_consoles") == 2 })
}

// TestSocketAuthAndOrigin: who may open /ws.
func TestSocketAuthAndOrigin(t *testing.T) {
	e := startEnv(t, envOpts{server: func(c *Config) { c.AllowedOrigins = []string{"https://console.example/"} }})
	cookie := func(name string) string { return cookieName + "=" + e.tokens[name] }
	cases := []struct {
		name string
		hdr  http.Header
		want int
	}{
		{"no token", http.Header{}, http.StatusUnauthorized},
		{"forged bearer", http.Header{"Authorization": {"Bearer forged"}}, http.StatusUnauthorized},
		{"expired bearer", http.Header{"Authorization": {"Bearer " + e.tokens["old"]}}, http.StatusUnauthorized},
		{"forged cookie", http.Header{"Cookie": {cookieName + "=forged"}, "Origin": {"http://" + e.addr}}, http.StatusUnauthorized},
		{"bearer without origin", http.Header{"Authorization": {"Bearer " + e.tokens["desk"]}}, http.StatusSwitchingProtocols},
		{"cookie without origin", http.Header{"Cookie": {cookie("desk")}}, http.StatusForbidden},
		{"cookie same host", http.Header{"Cookie": {cookie("desk")}, "Origin": {"http://" + e.addr}}, http.StatusSwitchingProtocols},
		{"cookie allowed origin", http.Header{"Cookie": {cookie("desk")}, "Origin": {"https://CONSOLE.example"}}, http.StatusSwitchingProtocols},
		{"cookie foreign origin", http.Header{"Cookie": {cookie("desk")}, "Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"bearer foreign origin", http.Header{"Authorization": {"Bearer " + e.tokens["desk"]}, "Origin": {"http://evil.example"}}, http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, resp, err := websocket.DefaultDialer.Dial("ws://"+e.addr+"/ws", tc.hdr)
			if conn != nil {
				conn.Close()
			}
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("HTTP %d, want %d (%v)", resp.StatusCode, tc.want, err)
			}
		})
	}
}

// TestSocketActions: actions over the socket, with the role rules and the
// rate limit of HTTP.
func TestSocketActions(t *testing.T) {
	e := startEnv(t, envOpts{server: func(c *Config) { c.ActionRate = 0.001; c.ActionBurst = 3 }})
	c := e.console("desk", 0)
	c.until("ready", func() bool { return c.ready >= 0 })
	send := func(id string, a dispatch.Action) wsMsg {
		t.Helper()
		if err := c.conn.WriteJSON(map[string]any{"type": "action", "id": id, "action": a}); err != nil {
			t.Fatal(err)
		}
		for {
			m, err := c.next()
			if err != nil {
				t.Fatal(err)
			}
			if m.Type == "result" {
				if m.ID != id {
					t.Fatalf("result for %q, want %q", m.ID, id)
				}
				return m
			}
		}
	}
	m := send("c1", dispatch.Action{Kind: dispatch.ActConfirm, Incident: "I-SHIQI"})
	if !m.OK || m.Incident == nil || m.Incident.State != dispatch.StateDispatched {
		t.Fatalf("confirm: %+v", m)
	}
	c.until("the dispatched event", func() bool { return len(c.got) == 1 })
	if m := send("c2", dispatch.Action{Kind: dispatch.ActAccept, Incident: "I-SHIQI", Unit: "FIRE-1"}); m.OK || !strings.Contains(m.Error, "forbidden") {
		t.Fatalf("dispatcher accept: %+v", m)
	}
	if m := send("c3", dispatch.Action{Kind: dispatch.ActConfirm, Incident: "I-SHIQI"}); m.OK || !strings.Contains(m.Error, "bad action") {
		t.Fatalf("confirm twice: %+v", m)
	}
	if m := send("c4", dispatch.Action{Kind: dispatch.ActConfirm, Incident: "I-DONGQU"}); m.OK || m.Error != ErrRateLimited.Error() {
		t.Fatalf("over the rate: %+v", m)
	}
	// a bad message gets an error result and the connection stays
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"nope"}`)); err != nil {
		t.Fatal(err)
	}
	for {
		m, err := c.next()
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == "result" {
			if m.OK || !strings.Contains(m.Error, "bad message") {
				t.Fatalf("bad message: %+v", m)
			}
			break
		}
	}
	// the acting console's name and a cleared team reached the engine
	e.be.mu.Lock()
	first := e.be.acts[0]
	e.be.mu.Unlock()
	if first.By != "desk" || first.Team != "" || first.Drill != "" {
		t.Errorf("action reached the engine as %+v", first)
	}
}

// TestHelloRequired: a first message other than hello closes the socket
// with 1008.
func TestHelloRequired(t *testing.T) {
	e := startEnv(t, envOpts{})
	conn, _, err := e.dialWS("desk", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.WriteJSON(map[string]any{"type": "action", "id": "x", "action": map[string]any{"kind": "confirm"}}); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = conn.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation {
		t.Fatalf("got %v, want close 1008", err)
	}
	pollUntil(t, 5*time.Second, "protocol disconnect counted", func() bool {
		return e.counter("dispatch_console_disconnects_total", "reason", "protocol") == 1
	})
}

// TestShutdownClosesConsoles: stopping the hub closes consoles with 1001.
func TestShutdownClosesConsoles(t *testing.T) {
	e := startEnv(t, envOpts{})
	c := e.console("desk", 0)
	c.until("ready", func() bool { return c.ready >= 0 })
	e.cancel()
	var ce *websocket.CloseError
	for {
		_, err := c.next()
		if err == nil {
			continue
		}
		if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
			t.Fatalf("got %v, want close 1001", err)
		}
		break
	}
}

// TestFindEnd: the end of a log found by search equals the last seq, for
// logs with holes of several sizes.
func TestFindEnd(t *testing.T) {
	for _, tc := range []struct{ n, stride int64 }{{0, 1}, {1, 1}, {2, 1}, {3, 7}, {100, 1}, {1000, 13}, {5, 1000003}} {
		src := newMemSource()
		src.stride = tc.stride
		for range tc.n {
			src.append(dispatch.Event{Kind: "x"})
		}
		h, err := NewHub(HubConfig{Source: src})
		if err != nil {
			t.Fatal(err)
		}
		got, err := h.findEnd(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if want := src.last(); got != want {
			t.Errorf("n=%d stride=%d: end %d, want %d", tc.n, tc.stride, got, want)
		}
		if tc.n > 1 && src.reads > 200 {
			t.Errorf("n=%d stride=%d: %d reads", tc.n, tc.stride, src.reads)
		}
	}
}

// TestTailSurvivesSourceErrors: a failing log is retried.
func TestTailSurvivesSourceErrors(t *testing.T) {
	e := startEnv(t, envOpts{})
	c := e.console("desk", 0)
	c.until("ready", func() bool { return c.ready >= 0 })
	e.src.mu.Lock()
	e.src.fail = errBoom
	e.src.mu.Unlock()
	e.src.append(ev("x", "shiqi", ""))
	e.hub.Notify()
	e.src.mu.Lock()
	e.src.fail = nil
	e.src.mu.Unlock()
	c.until("event after the failure", func() bool { return len(c.got) == 1 })
}

// TestReadLimit: a client message over the limit closes the socket with 1009.
func TestReadLimit(t *testing.T) {
	e := startEnv(t, envOpts{hub: func(c *HubConfig) { c.ReadLimit = 1024 }})
	c := e.console("desk", 0)
	c.until("ready", func() bool { return c.ready >= 0 })
	big := `{"type":"action","id":"c1","action":{"kind":"cancel","incident":"I","reason":"` + strings.Repeat("x", 2000) + `"}}`
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(big)); err != nil {
		t.Fatal(err)
	}
	var ce *websocket.CloseError
	for {
		_, err := c.next()
		if err == nil {
			continue
		}
		if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
			t.Fatalf("got %v, want close 1009", err)
		}
		break
	}
}
