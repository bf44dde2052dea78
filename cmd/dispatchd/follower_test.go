package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/zs110/dispatch/web"
)

// follower is a console that never gives up: after any disconnect (the
// engine killed, the network dropped) it reconnects, to the next address
// when there are several, with after = the last seq it received, and
// checks that seq increases and prev chains across connections.
type follower struct {
	p     web.Principal
	token string
	addrs []string

	mu         sync.Mutex
	seqs       []int64
	last       int64
	errs       []string
	connects   int
	conn       *websocket.Conn
	pauseUntil time.Time
	stopped    bool
	stop       chan struct{}
	done       chan struct{}
}

// follow starts a console that receives the whole log from its start.
func follow(p web.Principal, token string, addrs ...string) *follower {
	f := &follower{p: p, token: token, addrs: addrs, stop: make(chan struct{}), done: make(chan struct{})}
	go f.run()
	return f
}

func (f *follower) run() {
	defer close(f.done)
	for i := 0; ; i++ {
		f.mu.Lock()
		pause := time.Until(f.pauseUntil)
		f.mu.Unlock()
		if pause < 50*time.Millisecond && i > 0 {
			pause = 50 * time.Millisecond // reconnect interval
		}
		select {
		case <-f.stop:
			return
		case <-time.After(pause):
		}
		conn, err := f.dial(f.addrs[i%len(f.addrs)])
		if err != nil {
			continue
		}
		f.mu.Lock()
		if f.stopped {
			f.mu.Unlock()
			conn.Close()
			return
		}
		f.conn = conn
		f.connects++
		f.mu.Unlock()
		f.read(conn)
		f.mu.Lock()
		f.conn = nil
		f.mu.Unlock()
		conn.Close()
		i-- // retry the same address first
	}
}

func (f *follower) dial(addr string) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := d.DialContext(ctx, "ws://"+addr+"/ws", http.Header{"Authorization": {"Bearer " + f.token}})
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	after := f.last
	f.mu.Unlock()
	if after == 0 {
		after = -1 // from the start of the log
	}
	if err := conn.WriteJSON(map[string]any{"type": "hello", "after": after}); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

var eventPrefix = []byte(`{"type":"event","seq":`)

func (f *follower) read(conn *websocket.Conn) {
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			return
		}
		seq, prev, ok := parseEventFrame(b)
		if !ok {
			var m struct {
				Type string `json:"type"`
			}
			if err := json.Unmarshal(b, &m); err != nil || (m.Type != "ready" && m.Type != "result") {
				f.fail("unexpected message %.80q", b)
			}
			continue
		}
		f.mu.Lock()
		if seq <= f.last {
			f.errs = append(f.errs, fmt.Sprintf("seq %d after %d: duplicate or reordered", seq, f.last))
		}
		if prev != f.last {
			f.errs = append(f.errs, fmt.Sprintf("seq %d: prev %d, last received %d: gap", seq, prev, f.last))
		}
		f.last = max(f.last, seq)
		f.seqs = append(f.seqs, seq)
		f.mu.Unlock()
	}
}

// parseEventFrame reads seq and prev from the head of an event frame
// ({"type":"event","seq":N,"prev":M,"event":...}, see web.eventFrame)
// without decoding the event.
func parseEventFrame(b []byte) (seq, prev int64, ok bool) {
	if !bytes.HasPrefix(b, eventPrefix) {
		return 0, 0, false
	}
	rest := b[len(eventPrefix):]
	i := bytes.IndexByte(rest, ',')
	if i < 0 {
		return 0, 0, false
	}
	seq, err := strconv.ParseInt(string(rest[:i]), 10, 64)
	if err != nil {
		return 0, 0, false
	}
	rest = rest[i+1:]
	if !bytes.HasPrefix(rest, []byte(`"prev":`)) {
		return 0, 0, false
	}
	rest = rest[len(`"prev":`):]
	if i = bytes.IndexByte(rest, ','); i < 0 {
		return 0, 0, false
	}
	prev, err = strconv.ParseInt(string(rest[:i]), 10, 64)
	return seq, prev, err == nil
}

func (f *follower) fail(format string, args ...any) {
	f.mu.Lock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

// drop cuts the connection abruptly (no close frame, like a network
// failure); the console reconnects after pause.
func (f *follower) drop(pause time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pauseUntil = time.Now().Add(pause)
	if f.conn != nil {
		f.conn.UnderlyingConn().Close()
	}
}

// close stops the console for good.
func (f *follower) close() {
	f.mu.Lock()
	if !f.stopped {
		f.stopped = true
		close(f.stop)
		if f.conn != nil {
			f.conn.UnderlyingConn().Close()
		}
	}
	f.mu.Unlock()
	<-f.done
}

func (f *follower) lastSeq() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

func (f *follower) connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connects
}

// entitled returns the seqs of the log that p may see, in order.
func entitled(p web.Principal, log []logEvent) []int64 {
	var out []int64
	for _, ev := range log {
		if web.Visible(p, ev) {
			out = append(out, ev.Seq)
		}
	}
	return out
}

// compare checks what the console received against what it is entitled to:
// every event, in order, no other. It returns a description of the first
// difference and the counts of missing and unexpected events.
func (f *follower) compare(want []int64) (diff string, missing, extra int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	got := f.seqs
	in := make(map[int64]bool, len(got))
	for _, s := range got {
		in[s] = true
	}
	wantSet := make(map[int64]bool, len(want))
	for _, s := range want {
		wantSet[s] = true
		if !in[s] {
			missing++
		}
	}
	for _, s := range got {
		if !wantSet[s] {
			extra++
		}
	}
	for i := 0; i < max(len(got), len(want)); i++ {
		switch {
		case i >= len(got):
			diff = fmt.Sprintf("ends after %d events; next entitled seq %d", len(got), want[i])
		case i >= len(want):
			diff = fmt.Sprintf("received seq %d beyond the %d entitled", got[i], len(want))
		case got[i] != want[i]:
			diff = fmt.Sprintf("event #%d is seq %d, want %d", i, got[i], want[i])
		default:
			continue
		}
		break
	}
	if len(f.errs) > 0 {
		diff += fmt.Sprintf("; stream errors: %v", f.errs[:min(len(f.errs), 3)])
	}
	return diff, missing, extra
}
