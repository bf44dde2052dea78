package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/hostile"
	"github.com/zs110/dispatch/dispatch/scenario"
)

// syncBuffer is a bytes.Buffer safe for the engine's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestHostileCorpus replays dispatch/hostile through Kafka into dispatchd on
// PostgreSQL: every refused record is on the dead-letter topic with its
// reason and counted, every one that still names an incident reaches
// dispatchers as a manual call, accepted text is stored and pushed byte for
// byte, and the engine keeps deciding. The debug log of the whole run holds
// no console token, no caller's phone number and not the database password
// (the test server trusts any password, so the URL carries one).
func TestHostileCorpus(t *testing.T) {
	const dbPassword = "pg-Secret-5f3a9c"
	db := strings.Replace(testDB(t), "postgres@", "postgres:"+dbPassword+"@", 1)
	brokers := startBroker(t)
	logs := &syncBuffer{}
	h := newHarness(t, brokers, db, nil)
	h.logw, h.logLevel = logs, slog.LevelDebug
	h.start()
	defer h.stop()
	console := dialConsole(t, h.cfg.HTTPAddr, h.tokens["dispatcher"], 0)

	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	incs, units := hostile.Incidents(), hostile.UnitEvents(sc.Units[0].ID)
	msgs := func(cases []hostile.Case) []kafka.Message {
		out := make([]kafka.Message, len(cases))
		for i, c := range cases {
			out[i] = kafka.Message{Key: []byte(c.Name), Value: c.Record}
		}
		return out
	}
	after := incidentMsg("HOST-AFTER", "fire.building", 22.53, 113.39, e2eStart)
	produceBig(t, brokers, "incidents", append(msgs(incs), after))
	produceBig(t, brokers, "unit-events", msgs(units))

	// Dead letters: one per refused case, with its reason, keyed as sent.
	var want int
	for _, c := range append(incs, units...) {
		if c.Reason != "" {
			want++
		}
	}
	reasons := map[string]string{}
	pollUntil(t, time.Minute, "every refused record dead-lettered", func() bool {
		for _, m := range readAll(t, brokers, "incidents.dlq") {
			for _, hd := range m.Headers {
				if hd.Key == "reason" {
					reasons[string(m.Key)] = string(hd.Value)
				}
			}
		}
		return len(reasons) >= want
	})
	pollUntil(t, time.Minute, "the call after the corpus decided", func() bool { return decidedIn(t, db, "HOST-AFTER") })
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, c := range append(incs, units...) {
		t.Run(c.Name, func(t *testing.T) {
			if got := reasons[c.Name]; got != c.Reason {
				t.Fatalf("dead-letter reason %q, want %q", got, c.Reason)
			}
			if c.ID == "" {
				return
			}
			var state string
			var doc []byte
			err := conn.QueryRow(context.Background(), `SELECT state, doc FROM incidents WHERE drill = '' AND id = $1`, c.ID).Scan(&state, &doc)
			if err != nil {
				t.Fatalf("incident %q not stored: %v", c.ID, err)
			}
			if c.Reason != "" && state != dispatch.StateManual {
				t.Fatalf("refused call %q is %s, want manual", c.ID, state)
			}
			var rec dispatch.IncidentRecord
			if err := json.Unmarshal(doc, &rec); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{"address": rec.Address, "description": rec.Description, "caller": rec.Caller}
			for f, v := range c.Text {
				if got[f] != v {
					t.Errorf("stored %s %q, want %q", f, got[f], v)
				}
			}
		})
	}
	// The text reached the console as text, inside the event JSON.
	pollUntil(t, 30*time.Second, "the free-text incident on the console", func() bool {
		for _, ev := range console.all() {
			if ev.Incident == "HOST-TEXT" {
				var rec dispatch.IncidentRecord
				return json.Unmarshal(ev.Data, &rec) == nil && rec.Description == incs[0].Text["description"]
			}
		}
		return false
	})
	// Counted once written: the count follows the dead-letter write.
	pollUntil(t, 30*time.Second, `dispatch_dead_letters_total{reason="oversized"} 2`, func() bool {
		return strings.Contains(httpGet(t, "http://"+h.cfg.HTTPAddr+"/metrics", ""), `dispatch_dead_letters_total{reason="oversized"} 2`)
	})

	// Tokens: good and bad ones, on the API, the websocket and the sign-in link.
	bogus := "zs110-bogus-token-0123456789abcdef"
	httpGet(t, "http://"+h.cfg.HTTPAddr+"/api/incidents", h.tokens["dispatcher"])
	httpGet(t, "http://"+h.cfg.HTTPAddr+"/api/incidents", bogus)
	httpGet(t, "http://"+h.cfg.HTTPAddr+"/?token="+bogus, "")
	httpGet(t, "http://"+h.cfg.HTTPAddr+"/?token="+h.tokens["dispatcher"], "")
	h.stop()
	h.start() // a restart logs what it loads
	log := logs.String()
	// The run's token and record paths must have logged, else the check
	// below proves nothing (the level is debug: anything logged at debug
	// is in it too).
	if !strings.Contains(log, "dead letter") || !strings.Contains(log, "sign-in refused") || !strings.Contains(log, "console signed in") {
		t.Fatalf("the log does not show the run (%d bytes): the check below would prove nothing\n%s", len(log), log)
	}
	checkNoSecrets(t, log, append([]string{bogus, "13800138000", dbPassword}, tokensOf(h.tokens)...)...)
}

func decidedIn(t *testing.T, db, id string) bool {
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	_ = conn.QueryRow(context.Background(), `SELECT count(*) FROM incidents WHERE drill = '' AND id = $1`, id).Scan(&n)
	return n == 1
}

// httpGet returns the body of a GET (token: Bearer, "" none), any status.
func httpGet(t *testing.T, url, token string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
