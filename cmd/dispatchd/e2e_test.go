package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"
)

var e2eStart = time.Date(2013, 5, 31, 20, 0, 0, 0, time.FixedZone("CST", 8*3600))

// cityPoint spreads incidents over the city deterministically.
func cityPoint(i int) (float64, float64) {
	return 22.30 + float64(i%97)*0.0045, 113.20 + float64((i*31)%89)*0.0037
}

func nIncidents(prefix string, n int) []kafka.Message {
	types := []string{"theft", "fire.building", "medical", "traffic.injury", "dispute", "flooding"}
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		lat, lng := cityPoint(i)
		msgs[i] = incidentMsg(fmt.Sprintf("%s-%06d", prefix, i), types[i%len(types)], lat, lng, e2eStart.Add(time.Duration(i)*time.Second))
	}
	return msgs
}

// readTopic reads every record of a topic from the start until n arrived.
func readTopic(t *testing.T, brokers []string, topic string, n int) []kafka.Message {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, GroupID: "e2e-reader-" + topic + fmt.Sprint(time.Now().UnixNano()),
		Topic: topic, StartOffset: kafka.FirstOffset, MaxWait: 50 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out []kafka.Message
	for len(out) < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("read %s: got %d of %d: %v", topic, len(out), n, err)
		}
		out = append(out, m)
	}
	return out
}

func runE2E(t *testing.T, dbURL string, n int) {
	brokers := startBroker(t)
	h := startEngine(t, brokers, dbURL, func(c *config) {
		c.ConfirmFrom = 5  // dispatch every priority at once: one assignment record each
		c.LinkRadiusM = -1 // every id is its own event here
		c.Divert = false   // a diversion writes a second record for the call it robs
	})
	defer h.stop()
	console := dialConsole(t, h.cfg.HTTPAddr, h.tokens["dispatcher"], 0)
	produce(t, brokers, "incidents", nIncidents("E2E", n))

	pollUntil(t, 3*time.Minute, "every incident at the console", func() bool { return console.decidedCount() >= n })
	if p := console.problems(); p != "" {
		t.Fatalf("console stream: %s", p)
	}
	if got := console.count(firstDecisionKinds...); got != n {
		t.Fatalf("console saw %d decided incidents, want %d", got, n)
	}
	// One record each on assignments, no more.
	msgs := readTopic(t, brokers, "assignments", n)
	keys := map[string]int{}
	for _, m := range msgs {
		keys[string(m.Key)]++
	}
	if len(keys) != n {
		t.Fatalf("%d distinct assignment keys, want %d", len(keys), n)
	}
	if dbURL != "" {
		conn, err := pgx.Connect(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var count, distinct int
		if err := conn.QueryRow(context.Background(), "SELECT count(*), count(DISTINCT id) FROM incidents WHERE drill = ''").Scan(&count, &distinct); err != nil {
			t.Fatal(err)
		}
		if count != n || distinct != n {
			t.Fatalf("PostgreSQL holds %d incidents (%d distinct), want %d", count, distinct, n)
		}
	}
}

func TestEndToEndMemory(t *testing.T) { runE2E(t, "", 10000) }

func TestEndToEndPostgres(t *testing.T) { runE2E(t, testDB(t), 10000) }
