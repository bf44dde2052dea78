package main

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// benchMix is a 110 type mix: mostly P3/P4 work (recommended, waiting for a
// dispatcher), some P1/P2 dispatched at once.
var benchMix = []string{"theft", "dispute", "theft", "assistance", "traffic.accident", "dispute",
	"theft", "noise", "medical", "traffic.injury", "fire.building", "suspicious"}

func benchIncidents(prefix string, n int) []kafka.Message {
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		lat, lng := cityPoint(i)
		msgs[i] = incidentMsg(fmt.Sprintf("%s-%07d", prefix, i), benchMix[i%len(benchMix)], lat, lng, e2eStart.Add(time.Duration(i)*time.Second))
	}
	return msgs
}

// BenchmarkThroughput measures sustained incidents/s from Kafka in to
// websocket out: N incidents are produced as fast as the producer goes and
// the clock stops when a dispatcher console has received every decision.
func BenchmarkThroughput(b *testing.B) {
	for _, store := range []string{"memory", "postgres"} {
		b.Run("store="+store, func(b *testing.B) {
			n := 20000
			if store == "postgres" {
				n = 10000
			}
			db := ""
			if store == "postgres" {
				db = testDB(b)
			}
			brokers := startBroker(b)
			h := startEngine(b, brokers, db, nil)
			defer h.stop()
			console := dialConsole(b, h.cfg.HTTPAddr, h.tokens["dispatcher"], 0)
			b.ResetTimer()
			var total time.Duration
			for it := 0; it < b.N; it++ {
				msgs := benchIncidents(fmt.Sprintf("TP%d", it), n)
				want := console.decidedCount() + n
				start := time.Now()
				produce(b, brokers, "incidents", msgs)
				pollUntil(b, 5*time.Minute, "console caught up", func() bool { return console.decidedCount() >= want })
				total += time.Since(start)
			}
			b.StopTimer()
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "incidents/s")
			if p := console.problems(); p != "" {
				b.Fatalf("console stream: %s", p)
			}
		})
	}
}

// BenchmarkLatency produces 100 incidents/s and measures, per incident, the
// time from the producer's write call to the decision event arriving at a
// console (the write includes the broker's acknowledgement).
func BenchmarkLatency(b *testing.B) {
	brokers := startBroker(b)
	h := startEngine(b, brokers, "", nil)
	defer h.stop()
	console := dialConsole(b, h.cfg.HTTPAddr, h.tokens["dispatcher"], 0)
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: "incidents", Balancer: &kafka.Hash{},
		BatchTimeout: time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	const rate, count = 100, 1000
	var (
		mu   sync.Mutex
		sent = map[string]time.Time{}
	)
	b.ResetTimer()
	var lat []time.Duration
	for it := 0; it < b.N; it++ {
		msgs := benchIncidents(fmt.Sprintf("LAT%d", it), count)
		tick := time.NewTicker(time.Second / rate)
		for _, m := range msgs {
			<-tick.C
			mu.Lock()
			sent[string(m.Key)] = time.Now()
			mu.Unlock()
			if err := w.WriteMessages(b.Context(), m); err != nil {
				b.Fatal(err)
			}
		}
		tick.Stop()
		pollUntil(b, time.Minute, "all latency incidents at the console", func() bool {
			return console.decidedCount() >= (it+1)*count
		})
	}
	b.StopTimer()
	console.mu.Lock()
	for _, ev := range console.events {
		if !slices.Contains(firstDecisionKinds, ev.Kind) {
			continue
		}
		mu.Lock()
		t0, ok := sent[ev.Incident]
		mu.Unlock()
		if ok {
			lat = append(lat, console.arrived[ev.Incident].Sub(t0))
		}
	}
	console.mu.Unlock()
	slices.Sort(lat)
	if len(lat) == 0 {
		b.Fatal("no latencies")
	}
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
}

// BenchmarkClusterThroughput measures incidents/s decided by one and by
// three dispatchd processes in one consumer group on one PostgreSQL, for
// the same stream (20,000 incidents produced as fast as the producer goes,
// every priority dispatched at once, no unit reports): the clock stops when
// PostgreSQL holds every decision.
func BenchmarkClusterThroughput(b *testing.B) {
	for _, k := range []int{1, 3} {
		b.Run(fmt.Sprintf("instances=%d", k), func(b *testing.B) {
			const n = 20000
			var total time.Duration
			for it := 0; it < b.N; it++ {
				b.StopTimer()
				brokers := startBroker(b)
				r := newRig(b, brokers)
				var engs []*engineProc
				for i := range k {
					e := r.engine(b, string(rune('a'+i)), r.db, nil)
					e.start()
					engs = append(engs, e)
				}
				for _, e := range engs {
					e.waitReady(time.Minute)
				}
				pollUntil(b, time.Minute, "every instance holds partitions", func() bool { return groupMembers(brokers, "reliability") == k })
				msgs := nIncidents(fmt.Sprintf("CTP%d", it), n)
				b.StartTimer()
				start := time.Now()
				produce(b, brokers, "incidents", msgs)
				pollUntil(b, 5*time.Minute, "every incident decided", func() bool { return decidedCount(b, r.conn) >= n })
				total += time.Since(start)
				b.StopTimer()
				for _, e := range engs {
					e.stop()
				}
			}
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "incidents/s")
		})
	}
}
