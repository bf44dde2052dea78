package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/zs110/dispatch/dispatch/kafkaio"
	"github.com/zs110/dispatch/web"
)

// diskBroker is the embedded broker with its data on disk, restartable on
// the same address.
type diskBroker struct {
	t    testing.TB
	dir  string
	addr string
	emb  *kafkaio.Embedded
}

var brokerTopics = []string{"incidents", "unit-events", "assignments", "incidents.dlq"}

func startDiskBroker(t testing.TB) *diskBroker {
	t.Helper()
	b := &diskBroker{t: t, dir: t.TempDir(), addr: "127.0.0.1:0"}
	b.start()
	b.addr = b.emb.Addr()
	t.Cleanup(func() {
		if b.emb != nil {
			b.emb.Close()
		}
	})
	return b
}

func (b *diskBroker) start() {
	b.t.Helper()
	var err error
	// The port was the broker's a moment ago; retry briefly while the kernel releases it.
	for i := 0; i < 100; i++ {
		b.emb, err = kafkaio.StartEmbedded(context.Background(), b.addr, brokerTopics, 4, kafkaio.WithDataDir(b.dir))
		if err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond) // retry interval
	}
	b.t.Fatalf("restart broker on %s: %v", b.addr, err)
}

func (b *diskBroker) stop() {
	b.emb.Close()
	b.emb = nil
}

// TestBrokerRestart stops the Kafka broker mid-stream for a few seconds and
// starts it again on the same port from its data directory: dispatchd
// reconnects on its own and nothing is lost or decided twice.
func TestBrokerRestart(t *testing.T) {
	n, restarts, down := pick(8000, 20000), pick(1, 5), 5*time.Second
	broker := startDiskBroker(t)
	brokers := []string{broker.addr}
	r := newRig(t, brokers)
	plain, conn := r.plain, r.conn
	eng := r.engine(t, "dispatchd", r.db, nil)
	eng.start()
	eng.waitReady(time.Minute)
	consoles := []*follower{follow(web.Principal{Role: web.RoleDispatcher}, plain["dispatcher"], eng.addr)}
	sim := startUnitSim(t, brokers)
	msgs := nIncidents("KRST", n)
	stream := startStream(brokers, msgs, 100, 60*time.Millisecond)
	diag := func() string {
		return fmt.Sprintf("decided %d\n%s", decidedCount(t, conn), diagnose(brokers, "reliability"))
	}
	var worst time.Duration
	for i := 1; i <= restarts; i++ {
		at := n * i / (restarts + 2)
		waitFor(t, 3*time.Minute, fmt.Sprintf("%d decided before restart %d", at, i), diag, func() bool { return decidedCount(t, conn) >= at })
		sent, _ := stream.progress()
		t.Logf("before stop: %s", diagnose(brokers, "reliability"))
		broker.stop()
		stopped := time.Now()
		waitFor(t, 30*time.Second, "/readyz not ready with the broker down", diag, func() bool { return readyz(eng.addr) == http.StatusServiceUnavailable })
		time.Sleep(down - time.Since(stopped)) // the outage itself
		before := decidedCount(t, conn)
		broker.start()
		restarted := time.Now()
		t.Logf("after start: %s", diagnose(brokers, "reliability"))
		waitFor(t, 2*time.Minute, "/readyz ready after the broker restart", diag, eng.ready)
		waitFor(t, 2*time.Minute, "decisions resume after the broker restart", diag, func() bool {
			d := decidedCount(t, conn)
			return d > before || d >= n
		})
		rec := time.Since(restarted)
		worst = max(worst, rec)
		t.Logf("restart %d: broker down %v at %d decided (%d produced); deciding again %v after it came back", i, down, before, sent, rec.Round(time.Millisecond))
	}
	if !eng.running() {
		t.Fatal("dispatchd exited while the broker was down")
	}
	v := r.finish(t, stream, msgs, sim, consoles, 5*time.Minute)
	_, retries := stream.progress()
	_, _, _, simRetries := sim.stats()
	t.Logf("%d broker restarts; longest recovery %v; settled %v after the stream; producer retries %d, simulator retries %d; consoles: %d missing, %d extra",
		restarts, worst.Round(time.Millisecond), v.settle.Round(time.Millisecond), retries, simRetries, v.missing, v.extra)
}

// TestTwoInstances runs two (and three) dispatchd processes in one consumer
// group on one PostgreSQL: the others start mid-stream (a rebalance each),
// later the first stops (another). No unit may be assigned twice, nothing
// may be lost.
//
// "incidents only": every decision claims units that are never freed, so
// the instances race for the same units and stock. "with unit reports":
// the simulator moves the units along, so the instances also update the
// same incidents and units (reports are keyed by unit, incidents by id).
// Each instance follows the others through the database's log (Follow,
// refreshes at each step and after a conflict): no whole-world reload after
// start. The replica lag (how stale an instance's memory got) is logged.
func TestTwoInstances(t *testing.T) {
	for _, tc := range []struct {
		name      string
		instances int
		units     bool
	}{
		{"incidents only", 2, false},
		{"with unit reports", 2, true},
		{"three with unit reports", 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.instances > 2 && !soak() {
				t.Skip("three instances: SOAK=1 (make soak)")
			}
			instances(t, tc.instances, tc.units)
		})
	}
}

func instances(t *testing.T, k int, units bool) {
	n := pick(8000, 20000)
	brokers := startBroker(t)
	r := newRig(t, brokers)
	plain, conn := r.plain, r.conn
	var engs []*engineProc
	for i := range k {
		engs = append(engs, r.engine(t, string(rune('a'+i)), r.db, nil))
	}
	a := engs[0]
	a.start()
	a.waitReady(time.Minute)
	consoles := []*follower{
		follow(web.Principal{Role: web.RoleDispatcher}, plain["dispatcher"], a.addr, engs[1].addr),
		follow(web.Principal{Role: web.RoleTeamLeader, Team: "medical"}, plain["leader-medical"], engs[1].addr, a.addr),
	}
	var sim *unitSim
	if units {
		sim = startUnitSim(t, brokers)
	}
	msgs := nIncidents("TWO", n)
	// A slow start (200 a second): the others join while units are still
	// free, so that the instances race for them; then the rest at full speed.
	const slow = 1500
	stream := startStream(brokers, msgs[:slow], 10, 50*time.Millisecond)
	diag := func() string {
		return fmt.Sprintf("decided %d\n%s", decidedCount(t, conn), diagnose(brokers, "reliability"))
	}
	waitFor(t, 3*time.Minute, "a has decided 100", diag, func() bool { return decidedCount(t, conn) >= 100 })
	joined := decidedCount(t, conn)
	for _, e := range engs[1:] {
		e.start()
		e.waitReady(time.Minute)
	}
	waitFor(t, time.Minute, "every instance holds partitions", diag, func() bool { return groupMembers(brokers, "reliability") == k })
	stream.wait(t)
	stream = startStream(brokers, msgs[slow:], 100, 60*time.Millisecond)
	waitFor(t, 3*time.Minute, "two thirds decided", diag, func() bool { return decidedCount(t, conn) >= 2*n/3 })
	metricsA := scrapeCluster(a.addr)
	a.stop() // graceful: a leaves the group, the others take its partitions
	stopped := time.Now()
	before := decidedCount(t, conn)
	waitFor(t, 2*time.Minute, "the others decide without a", diag, func() bool {
		d := decidedCount(t, conn)
		return d > before || d >= n
	})
	handover := time.Since(stopped)
	v := r.finish(t, stream, msgs, sim, consoles, pick(2*time.Minute, 5*time.Minute))
	all := []clusterMetrics{metricsA}
	for _, e := range engs[1:] {
		all = append(all, scrapeCluster(e.addr))
	}
	reloads, batches := 0.0, 0.0
	var lag []map[string]float64
	for i, m := range all {
		t.Logf("instance %c: %v batches; whole reloads %v; refreshes %v; rows refreshed %v; lag p50 <= %s, p99 <= %s",
			'a'+i, m.batches, m.reloads, m.refreshes, m.rows, fmtLe(quantileLe(m.lag, 0.5)), fmtLe(quantileLe(m.lag, 0.99)))
		for _, x := range m.reloads {
			reloads += x
		}
		batches += m.batches
		lag = append(lag, m.lag)
	}
	merged := mergeBuckets(lag)
	t.Logf("%d instances, %d incidents: %v batches, %v whole reloads after start; replica lag p50 <= %s, p99 <= %s (%v refreshes with others' events)",
		k, n, batches, reloads, fmtLe(quantileLe(merged, 0.5)), fmtLe(quantileLe(merged, 0.99)), merged["+Inf"])
	t.Logf("the others joined at %d decided, a left at %d (the others deciding %v later); settled %v after the stream; consoles: %d missing, %d extra",
		joined, before, handover.Round(time.Millisecond), v.settle.Round(time.Millisecond), v.missing, v.extra)
	if reloads != 0 {
		t.Errorf("%v whole-world reloads after start, want 0", reloads)
	}
}

// clusterMetrics are an instance's engine metrics.
type clusterMetrics struct {
	batches                  float64
	reloads, refreshes, rows map[string]float64
	lag                      map[string]float64 // cumulative bucket counts by upper bound ("+Inf" too)
}

func scrapeCluster(addr string) clusterMetrics {
	m := clusterMetrics{batches: scrape(addr, "dispatch_intake_batches_total")[""],
		reloads: scrape(addr, "dispatch_engine_reloads_total"), refreshes: scrape(addr, "dispatch_engine_refreshes_total"),
		rows: scrape(addr, "dispatch_engine_refreshed_rows_total"), lag: map[string]float64{}}
	for labels, v := range scrape(addr, "dispatch_engine_replica_lag_seconds_bucket") {
		le := strings.TrimSuffix(strings.TrimPrefix(labels, `{le="`), `"}`)
		m.lag[le] = v
	}
	return m
}

func mergeBuckets(ms []map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for _, m := range ms {
		for k, v := range m {
			out[k] += v
		}
	}
	return out
}

// quantileLe is the smallest bucket bound holding the q quantile of a
// histogram's cumulative buckets (+Inf when beyond the last, NaN if empty).
func quantileLe(buckets map[string]float64, q float64) float64 {
	total := buckets["+Inf"]
	if total == 0 {
		return math.NaN()
	}
	type bucket struct{ le, n float64 }
	var bs []bucket
	for k, n := range buckets {
		if le, err := strconv.ParseFloat(k, 64); err == nil && !math.IsInf(le, 1) {
			bs = append(bs, bucket{le, n})
		}
	}
	slices.SortFunc(bs, func(a, b bucket) int { return cmp.Compare(a.le, b.le) })
	for _, b := range bs {
		if b.n >= q*total {
			return b.le
		}
	}
	return math.Inf(1)
}

func fmtLe(s float64) string {
	if math.IsNaN(s) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f ms", s*1000)
}

// scrape returns the values of a counter on an instance's /metrics by its
// labels ("" without labels; empty when unreachable).
func scrape(addr, name string) map[string]float64 {
	out := map[string]float64{}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, name) || strings.HasPrefix(l, "#") {
			continue
		}
		rest := strings.TrimPrefix(l, name)
		labels, val, ok := strings.Cut(rest, " ")
		if !ok || labels != "" && labels[0] != '{' {
			continue
		}
		if v, err := strconv.ParseFloat(val, 64); err == nil {
			out[labels] = v
		}
	}
	return out
}

// groupMembers is how many members the consumer group has with partitions.
func groupMembers(brokers []string, group string) int {
	cl := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 5 * time.Second}
	var n int
	_ = withTimeout(5*time.Second, func(ctx context.Context) error {
		res, err := cl.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
		if err != nil || len(res.Groups) != 1 || res.Groups[0].GroupState != "Stable" {
			return err
		}
		for _, m := range res.Groups[0].Members {
			if len(m.MemberAssignments.Topics) > 0 {
				n++
			}
		}
		return nil
	})
	return n
}

// TestLinkAcrossInstances: every call of a stream has a duplicate call
// (33 m away, 30 s later, keyed by its own id, so on any partition) sent a
// little after it. With two instances the duplicate usually lands on the
// other instance than its call, which must see the incident the other
// decided: a duplicate sent 2 s after its call is linked as often as on
// one instance; one sent a quarter of a second after is logged (the
// instances' consumers may be that far apart: both calls then reach
// memory at the same moment and stay two incidents). The calls come at 50 a
// second (with their duplicates, 100 records), far above the centre's peak:
// at 200 a second, under the load of the whole suite, one instance fell
// seconds behind the other and only 69.8 % of the 2 s duplicates were linked
// (the original was not yet committed when the other instance decided its
// duplicate; docs/reliability.md).
func TestLinkAcrossInstances(t *testing.T) {
	n := pick(600, 3000)
	stream := func(behind int) []kafka.Message {
		base := nIncidents("LNK", n)
		types := []string{"theft", "fire.building", "medical", "traffic.injury", "dispute", "flooding"}
		dup := func(i int) kafka.Message {
			lat, lng := cityPoint(i)
			return incidentMsg(fmt.Sprintf("DUP-%06d", i), types[i%len(types)], lat+0.0003, lng, e2eStart.Add(time.Duration(i)*time.Second+30*time.Second))
		}
		var msgs []kafka.Message
		for i := range base {
			msgs = append(msgs, base[i])
			if i >= behind {
				msgs = append(msgs, dup(i-behind))
			}
		}
		for i := max(n-behind, 0); i < n; i++ {
			msgs = append(msgs, dup(i))
		}
		return msgs
	}
	rates := map[string]float64{}
	for _, tc := range []struct {
		name      string
		instances int
		behind    int // calls between a call and its duplicate (50 a second)
	}{
		{"one instance, 0.25 s", 1, 12},
		{"two instances, 0.25 s", 2, 12},
		{"two instances, 2 s", 2, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			brokers := startBroker(t)
			r := newRig(t, brokers)
			var engs []*engineProc
			for i := range tc.instances {
				e := r.engine(t, string(rune('a'+i)), r.db, func(env map[string]string) { env["DISPATCH_LINK_RADIUS_M"] = "150" })
				e.start()
				engs = append(engs, e)
			}
			for _, e := range engs {
				e.waitReady(time.Minute)
			}
			diag := func() string {
				return fmt.Sprintf("decided %d\n%s", decidedCount(t, r.conn), diagnose(brokers, "reliability"))
			}
			waitFor(t, time.Minute, "every instance holds partitions", diag, func() bool { return groupMembers(brokers, "reliability") == tc.instances })
			msgs := stream(tc.behind)
			p := startStream(brokers, msgs, 10, 200*time.Millisecond)
			p.wait(t)
			waitFor(t, 2*time.Minute, "every call decided", diag, func() bool { return decidedCount(t, r.conn) >= len(msgs) })
			linked := queryInt(t, r.conn, `SELECT count(*) FROM incidents WHERE drill = '' AND id LIKE 'DUP-%' AND doc->>'linked_to' <> ''`)
			rates[tc.name] = float64(linked) / float64(n)
			t.Logf("%s: %d of %d duplicate calls linked (%.1f %%)", tc.name, linked, n, 100*rates[tc.name])
		})
	}
	one, two := rates["one instance, 0.25 s"], rates["two instances, 2 s"]
	if two < one-0.02 {
		t.Errorf("linked %.1f %% of duplicates sent 2 s after their call with two instances, %.1f %% with one", 100*two, 100*one)
	}
}
