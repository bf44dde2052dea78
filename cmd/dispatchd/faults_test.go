package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/zs110/dispatch/dispatch"
)

// TestRestartMidStream stops the engine while a stream is being decided and
// starts it again: every incident ends with exactly one decision.
func TestRestartMidStream(t *testing.T) {
	db := testDB(t)
	brokers := startBroker(t)
	const n = 3000
	h := startEngine(t, brokers, db, func(c *config) { c.ConfirmFrom = 5; c.LinkRadiusM = -1 })
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	decided := func() int {
		var c int
		if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM incidents WHERE drill = ''").Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	produced := make(chan error, 1)
	go func() { produced <- produceErr(brokers, "incidents", nIncidents("RST", n)) }()
	pollUntil(t, time.Minute, "some incidents decided", func() bool { return decided() >= 300 })
	h.stop()
	stoppedAt := decided()
	h.start()
	defer h.stop()
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	pollUntil(t, 2*time.Minute, "every incident decided after restart", func() bool { return decided() >= n })
	var count, distinct int
	if err := conn.QueryRow(context.Background(), "SELECT count(*), count(DISTINCT id) FROM incidents WHERE drill = ''").Scan(&count, &distinct); err != nil {
		t.Fatal(err)
	}
	if count != n || distinct != n {
		t.Fatalf("%d decisions (%d distinct) for %d incidents", count, distinct, n)
	}
	// The assignments topic holds every decision; duplicates (at-least-once:
	// a relay stopped between the write and MarkSent publishes again) share
	// a dedup key, so read until n distinct keys, not n records.
	keys := map[string]bool{}
	pollUntil(t, time.Minute, "every decision on assignments", func() bool {
		for _, m := range readAll(t, brokers, "assignments") {
			keys[string(m.Key)] = true
		}
		return len(keys) >= n
	})
	if len(keys) != n {
		t.Fatalf("%d distinct incidents on assignments, want %d", len(keys), n)
	}
	t.Logf("stopped after %d of %d decided; restarted and finished with %d", stoppedAt, n, count)
}

// TestMalformedRecords: bad records go to the dead-letter topic with a
// reason, those with an id reach dispatchers as manual, an unknown type is
// decided with the fallback plan and flagged, and the engine keeps deciding.
func TestMalformedRecords(t *testing.T) {
	brokers := startBroker(t)
	h := startEngine(t, brokers, "", nil)
	defer h.stop()
	console := dialConsole(t, h.cfg.HTTPAddr, h.tokens["dispatcher"], 0)
	at := e2eStart.Format(time.RFC3339)
	big := `{"id":"BIG-1","reported_at":"` + at + `","type":"theft","lat":22.5,"lng":113.4,"description":"` + strings.Repeat("x", 2<<20) + `"}`
	bad := []kafka.Message{
		{Key: []byte("x1"), Value: []byte(`{"id": "BAD-JSON", `)},
		{Key: nil, Value: []byte(`{"reported_at":"` + at + `","type":"theft","lat":22.5,"lng":113.4}`)},
		{Key: []byte("LAT-95"), Value: []byte(`{"id":"LAT-95","reported_at":"` + at + `","type":"theft","lat":95,"lng":113.4}`)},
		{Key: []byte("NAN-1"), Value: []byte(`{"id":"NAN-1","reported_at":"` + at + `","type":"theft","lat":"NaN","lng":113.4}`)},
		{Key: []byte("BIG-1"), Value: []byte(big)},
		{Key: []byte("UTF-1"), Value: append([]byte(`{"id":"UTF-1","reported_at":"`+at+`","type":"theft","lat":22.5,"lng":113.4,"description":"`), 0xff, 0xfe, '"', '}')},
	}
	good := []kafka.Message{
		incidentMsg("UNKNOWN-TYPE", "ufo.sighting", 22.52, 113.38, e2eStart),
		incidentMsg("GOOD-1", "fire.building", 22.53, 113.39, e2eStart),
	}
	produceBig(t, brokers, "incidents", append(bad, good...))
	dlq := readTopic(t, brokers, "incidents.dlq", len(bad))
	reasons := map[string]string{}
	for _, m := range dlq {
		for _, hd := range m.Headers {
			if hd.Key == "reason" {
				reasons[string(m.Value[:min(len(m.Value), 40)])] = string(hd.Value)
			}
		}
		if string(m.Value) == "" {
			t.Errorf("dead letter without the original bytes")
		}
	}
	if len(reasons) != len(bad) {
		t.Fatalf("%d dead letters with reasons, want %d: %v", len(reasons), len(bad), reasons)
	}
	pollUntil(t, 30*time.Second, "good incidents decided", func() bool {
		return console.count(dispatch.EvIncidentDispatched) >= 2
	})
	pollUntil(t, 30*time.Second, "no-location calls shown as manual", func() bool {
		return console.count(dispatch.EvIncidentManual) >= 2 // LAT-95 and NAN-1 have ids
	})
	rec := h.incident(t, "UNKNOWN-TYPE")
	if rec.TypeKnown || !strings.Contains(strings.Join(rec.Flags, ","), dispatch.FlagUnknownType) {
		t.Fatalf("unknown type not flagged: %+v", rec)
	}
}

func produceBig(t *testing.T, brokers []string, topic string, msgs []kafka.Message) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, BatchTimeout: 2 * time.Millisecond,
		BatchBytes: 16 << 20, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, m := range msgs { // one by one: keep the order of the table
		if err := w.WriteMessages(ctx, m); err != nil {
			t.Fatalf("produce %s: %v", m.Key, err)
		}
	}
}

// TestFailFast: in real mode, unreachable Kafka or PostgreSQL at start is a
// clear error, not a hang.
func TestFailFast(t *testing.T) {
	brokers := startBroker(t)
	tests := []struct {
		name    string
		brokers []string
		db      string
		want    string
	}{
		{"kafka down", []string{"127.0.0.1:1"}, "", "kafka [127.0.0.1:1] unreachable"},
		{"database down", brokers, "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", "database unreachable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseConfig("test", nil, func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			cfg.Brokers, cfg.DatabaseURL, cfg.HTTPAddr = tc.brokers, tc.db, freeAddr(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err = serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("serve: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
