package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/zs110/dispatch/dispatch"
)

// Websocket close codes the server uses besides the standard ones.
const (
	// closeSlowConsumer: the console's queue overflowed; resume from the seq
	// named in the reason.
	closeSlowConsumer = 4008
)

// Client message types.
const (
	MsgHello  = "hello"  // {"type":"hello","after":N}
	MsgAction = "action" // {"type":"action","id":"c1","action":{...}}
)

// ErrBadMessage: a client message is not one the protocol knows.
var ErrBadMessage = errors.New("bad message")

// ClientMessage is a message from a console to the server.
type ClientMessage struct {
	Type string `json:"type"`
	// After (hello): the last seq the console has seen; 0 = from now,
	// -1 = from the start of the log.
	After int64 `json:"after"`
	// ID (action): the console's id for the action, echoed in the result.
	ID string `json:"id,omitempty"`
	// Action (action): the command.
	Action *dispatch.Action `json:"action,omitempty"`
}

// DecodeClientMessage parses and checks one client message: a single JSON
// object, valid UTF-8, of a known type with the fields that type needs.
func DecodeClientMessage(b []byte) (ClientMessage, error) {
	var m ClientMessage
	if !utf8.Valid(b) {
		return m, fmt.Errorf("%w: not UTF-8", ErrBadMessage)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		return ClientMessage{}, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if len(bytes.TrimSpace(b[dec.InputOffset():])) > 0 {
		return ClientMessage{}, fmt.Errorf("%w: trailing data", ErrBadMessage)
	}
	switch m.Type {
	case MsgHello:
		if m.After < -1 {
			return ClientMessage{}, fmt.Errorf("%w: after %d", ErrBadMessage, m.After)
		}
		m.ID, m.Action = "", nil
	case MsgAction:
		if m.ID == "" || len(m.ID) > 64 {
			return ClientMessage{}, fmt.Errorf("%w: action id must have 1 to 64 bytes", ErrBadMessage)
		}
		if m.Action == nil || m.Action.Kind == "" {
			return ClientMessage{}, fmt.Errorf("%w: action without kind", ErrBadMessage)
		}
		m.After = 0
	default:
		return ClientMessage{}, fmt.Errorf("%w: type %q", ErrBadMessage, m.Type)
	}
	return m, nil
}

// actFunc runs one action for a console (authorisation, rate limit, engine).
type actFunc func(ctx context.Context, p Principal, a dispatch.Action) (*dispatch.IncidentRecord, error)

// resultMsg answers an action.
type resultMsg struct {
	Type     string                   `json:"type"`
	ID       string                   `json:"id,omitempty"`
	OK       bool                     `json:"ok"`
	Incident *dispatch.IncidentRecord `json:"incident,omitempty"`
	Error    string                   `json:"error,omitempty"`
	// Reason is the refusal as a code with parameters (with Error).
	Reason *dispatch.Why `json:"reason,omitempty"`
}

func eventFrame(it *item, prev int64) []byte {
	b := make([]byte, 0, len(it.raw)+64)
	b = append(b, `{"type":"event","seq":`...)
	b = strconv.AppendInt(b, it.ev.Seq, 10)
	b = append(b, `,"prev":`...)
	b = strconv.AppendInt(b, prev, 10)
	b = append(b, `,"event":`...)
	b = append(b, it.raw...)
	return append(b, '}')
}

// serve runs one upgraded console until it or the hub goes away. The
// connection goroutine reads; a writer goroutine is the only writer.
func (h *Hub) serve(conn *websocket.Conn, p Principal, hash string, act actFunc, log *slog.Logger) {
	s := &sub{p: p, hash: hash, queue: make(chan *item, h.cfg.SendQueue), kicked: make(chan struct{})}
	if !h.add(s) {
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
		_ = conn.Close()
		return
	}
	log = log.With("console", p.Name, "role", p.Role, "token_id", p.TokenID)
	ctx, cancel := context.WithCancel(context.Background())
	reason := "client"
	defer func() {
		cancel()
		_ = conn.Close()
		h.remove(s, reason)
		log.Info("console disconnected", "reason", reason)
	}()

	conn.SetReadLimit(h.cfg.ReadLimit)
	_ = conn.SetReadDeadline(time.Now().Add(h.cfg.HelloTimeout))
	_, msg, err := conn.ReadMessage()
	if err != nil {
		reason = "no_hello"
		return
	}
	hello, err := DecodeClientMessage(msg)
	if err != nil || hello.Type != MsgHello {
		reason = "protocol"
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "expected hello"), time.Now().Add(h.cfg.WriteTimeout))
		return
	}
	log.Info("console connected", "after", hello.After)

	results := make(chan []byte, 16)
	readerDone := make(chan struct{}) // closed when the reader ends
	writerDone := make(chan struct{}) // closed when the writer ends
	var rreason, wreason string
	go func() {
		defer close(readerDone)
		rreason = h.reader(ctx, conn, p, act, results, writerDone)
	}()
	go func() {
		defer close(writerDone)
		wreason = h.writer(ctx, conn, s, hello.After, results, readerDone, log)
	}()
	select {
	case <-readerDone:
		<-writerDone
		reason = rreason
	case <-writerDone:
		reason = wreason
		if reason != "write_error" {
			// The writer sent a close frame: give the client time to answer
			// it (the reader then ends) before the socket goes.
			select {
			case <-readerDone:
			case <-time.After(h.cfg.WriteTimeout):
			}
		}
		_ = conn.Close()
		<-readerDone
		if reason == "" {
			reason = rreason
		}
	}
}

// reader handles client messages until the connection fails or the writer
// ends. It returns why it stopped.
func (h *Hub) reader(ctx context.Context, conn *websocket.Conn, p Principal, act actFunc, results chan<- []byte, writerDone <-chan struct{}) string {
	wait := 2*h.cfg.PingInterval + h.cfg.WriteTimeout
	extend := func() { _ = conn.SetReadDeadline(time.Now().Add(wait)) }
	extend()
	conn.SetPongHandler(func(string) error { extend(); return nil })
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				return "ping_timeout"
			}
			return "client"
		}
		extend()
		res := resultMsg{Type: "result"}
		m, err := DecodeClientMessage(msg)
		switch {
		case err != nil:
			res.Error = err.Error()
		case m.Type == MsgHello:
			res.Error = "hello already received"
		default:
			res.ID = m.ID
			rec, err := act(ctx, p, *m.Action)
			if err != nil {
				res.Error = err.Error()
				why := dispatch.ReasonOf(err)
				res.Reason = &why
			} else {
				res.OK, res.Incident = true, rec
			}
		}
		b, err := json.Marshal(res)
		if err != nil {
			b = []byte(`{"type":"result","ok":false,"error":"encode result"}`)
		}
		select {
		case results <- b:
		case <-writerDone:
			return ""
		}
	}
}

// writer is the connection's only writer: the replay, the ready message,
// then live events, results and pings. It returns the disconnect reason
// when it ends the connection, "" when the reader ended first.
func (h *Hub) writer(ctx context.Context, conn *websocket.Conn, s *sub, after int64, results <-chan []byte, readerDone <-chan struct{}, log *slog.Logger) string {
	write := func(b []byte) error {
		_ = conn.SetWriteDeadline(time.Now().Add(h.cfg.WriteTimeout))
		return conn.WriteMessage(websocket.TextMessage, b)
	}
	var prev int64
	closeWith := func(code int, reason string) {
		if code == closeSlowConsumer {
			reason = fmt.Sprintf("slow consumer: resume from %d", prev)
		}
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(h.cfg.WriteTimeout))
	}
	kicked := func() (string, bool) {
		select {
		case <-s.kicked:
			closeWith(s.kickCode, s.kickReason)
			return s.kickMetric, true
		default:
			return "", false
		}
	}

	select {
	case <-h.started:
	case <-s.kicked:
		closeWith(s.kickCode, s.kickReason)
		return s.kickMetric
	case <-readerDone:
		return ""
	}

	// Where the replay starts.
	_, last := h.position()
	cursor := after
	switch {
	case after == 0:
		cursor = last
	case after < 0:
		cursor = 0
	}
	prev = cursor
	send := func(it *item) error {
		if err := write(eventFrame(it, prev)); err != nil {
			return err
		}
		prev = it.ev.Seq
		return nil
	}

	// Replay: from the Source while the cursor is older than the ring, then
	// from the ring, switching to live under the hub's lock (goLive) so that
	// no event is skipped or sent twice.
	var synced int64
	for {
		if r, stop := kicked(); stop {
			return r
		}
		select {
		case <-readerDone:
			return ""
		default:
		}
		replay, sy, ok := h.goLive(s, cursor)
		if ok {
			synced = sy
			for i, it := range replay {
				if i%256 == 0 {
					if r, stop := kicked(); stop {
						return r
					}
				}
				if !Visible(s.p, it.ev) {
					continue
				}
				if err := send(it); err != nil {
					return "write_error"
				}
			}
			break
		}
		evs, err := h.src.EventsAfter(ctx, cursor, h.cfg.Batch)
		if err != nil {
			log.Warn("replay from event log", "after", cursor, "err", err)
			closeWith(websocket.CloseInternalServerErr, "event log unavailable")
			return "source_error"
		}
		if len(evs) == 0 {
			floor, _ := h.position()
			cursor = max(cursor, floor)
			continue
		}
		for i := range evs {
			if evs[i].Seq <= cursor {
				continue
			}
			cursor = evs[i].Seq
			if !Visible(s.p, evs[i]) {
				continue
			}
			it, err := newItem(evs[i])
			if err != nil {
				continue
			}
			if err := send(it); err != nil {
				return "write_error"
			}
		}
	}
	if err := write([]byte(`{"type":"ready","seq":` + strconv.FormatInt(synced, 10) + `}`)); err != nil {
		return "write_error"
	}

	ping := time.NewTicker(h.cfg.PingInterval)
	defer ping.Stop()
	for {
		if r, stop := kicked(); stop {
			return r
		}
		select {
		case <-s.kicked:
		case <-readerDone:
			return ""
		case it := <-s.queue:
			if err := send(it); err != nil {
				return "write_error"
			}
		case b := <-results:
			if err := write(b); err != nil {
				return "write_error"
			}
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(h.cfg.WriteTimeout)); err != nil {
				return "write_error"
			}
		}
	}
}
