package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// readTimes measures what a console asks of dispatchd while it may be
// unable to reach its database: GET /api/incidents, GET /api/units, and a
// console's hello (from now) until its ready message. Reads come from the
// engine's views, so they must not wait on the store.
type readTimes struct {
	incidents, units, hello []time.Duration
}

// sample takes one measurement of each; a failed read is an error.
func (rt *readTimes) sample(addr, token string) error {
	for _, c := range []struct {
		path string
		into *[]time.Duration
	}{{"/api/incidents", &rt.incidents}, {"/api/units", &rt.units}} {
		d, err := timedGet(addr, c.path, token)
		if err != nil {
			return err
		}
		*c.into = append(*c.into, d)
	}
	d, err := timedHello(addr, token)
	if err != nil {
		return err
	}
	rt.hello = append(rt.hello, d)
	return nil
}

func timedGet(addr, path, token string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, fmt.Errorf("GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: HTTP %d", path, resp.StatusCode)
	}
	return time.Since(start), nil
}

func timedHello(addr, token string) (time.Duration, error) {
	start := time.Now()
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	conn, _, err := d.Dial("ws://"+addr+"/ws", http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		return 0, fmt.Errorf("dial /ws: %w", err)
	}
	defer conn.Close()
	if err := conn.WriteJSON(map[string]any{"type": "hello", "after": 0}); err != nil {
		return 0, err
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			return 0, fmt.Errorf("read /ws before ready: %w", err)
		}
		if strings.HasPrefix(string(b), `{"type":"ready"`) {
			return time.Since(start), nil
		}
	}
}

// worst returns the largest duration (0 for none).
func worst(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return slices.Max(ds)
}

func (rt *readTimes) String() string {
	return fmt.Sprintf("%d samples, worst: GET /api/incidents %v, GET /api/units %v, hello->ready %v", len(rt.hello),
		worst(rt.incidents).Round(time.Millisecond), worst(rt.units).Round(time.Millisecond), worst(rt.hello).Round(time.Millisecond))
}
