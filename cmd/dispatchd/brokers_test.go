package main

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/zs110/dispatch/dispatch/kafkaio"
	"github.com/zs110/dispatch/web"
)

// brokerCluster is a three-broker in-process Kafka cluster: one log, three
// listeners, partition leaders and group coordinators spread over them.
type brokerCluster struct {
	c     *kfake.Cluster
	addrs []string // by node id, as started
	mu    sync.Mutex
	conns map[string][]net.Conn // accepted, by listen address
}

func startBrokerCluster(t testing.TB, partitions int) *brokerCluster {
	t.Helper()
	b := &brokerCluster{conns: map[string][]net.Conn{}}
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(int32(partitions), brokerTopics...),
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": strconv.Itoa(kafkaio.MaxEmbeddedMessageBytes)}),
		kfake.ListenFn(func(network, addr string) (net.Listener, error) {
			ln, err := net.Listen(network, addr)
			if err != nil {
				return nil, err
			}
			return &trackedListener{Listener: ln, b: b}, nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	b.c, b.addrs = c, c.ListenAddrs()
	return b
}

// trackedListener remembers the connections a broker accepted, so that a
// removed broker's connections die with it, as a stopped broker's do
// (kfake's RemoveNode only closes the listener: the clients' connections
// would go on being answered "not leader" for good).
type trackedListener struct {
	net.Listener
	b *brokerCluster
}

func (l *trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.b.mu.Lock()
		l.b.conns[l.Addr().String()] = append(l.b.conns[l.Addr().String()], c)
		l.b.mu.Unlock()
	}
	return c, err
}

// dropConns closes every connection a broker's listener at addr accepted.
func (b *brokerCluster) dropConns(addr string) {
	b.mu.Lock()
	cs := b.conns[addr]
	delete(b.conns, addr)
	b.mu.Unlock()
	for _, c := range cs {
		_ = c.Close()
	}
}

// brokerFault is one fault of the cluster, applied mid-stream.
type brokerFault struct {
	name  string
	apply func(t *testing.T, b *brokerCluster, round int)
}

var brokerFaults = []brokerFault{
	{"partition leaders shuffled", func(_ *testing.T, b *brokerCluster, _ int) { b.c.ShufflePartitionLeaders() }},
	{"partitions moved to one broker", func(t *testing.T, b *brokerCluster, round int) {
		node := int32(round % 3)
		for _, topic := range brokerTopics {
			for _, p := range b.c.PartitionInfos(topic) {
				if err := b.c.MoveTopicPartition(topic, p.Partition, node); err != nil {
					t.Fatalf("move %s/%d to %d: %v", topic, p.Partition, node, err)
				}
			}
		}
	}},
	{"broker removed and added", func(t *testing.T, b *brokerCluster, _ int) {
		// The coordinator of the group goes: the hardest broker to lose.
		node := b.c.CoordinatorFor("reliability")
		_, port, err := net.SplitHostPort(b.addrs[node])
		if err != nil {
			t.Fatal(err)
		}
		if err := b.c.RemoveNode(node); err != nil {
			t.Fatalf("remove broker %d: %v", node, err)
		}
		b.dropConns(b.addrs[node])
		time.Sleep(time.Second) // the outage itself
		p, _ := strconv.Atoi(port)
		for i := 0; ; i++ {
			if _, _, err = b.c.AddNode(node, p); err == nil {
				return
			}
			if i == 100 {
				t.Fatalf("add broker %d back on %s: %v", node, port, err)
			}
			time.Sleep(50 * time.Millisecond) // the kernel releases the port
		}
	}},
	{"group coordinator moved", func(_ *testing.T, b *brokerCluster, _ int) { b.c.RehashCoordinators() }},
}

// TestBrokerCluster runs two dispatchd instances with units reporting
// against a three-broker cluster whose topics have six partitions, and
// applies each fault of brokerFaults mid-stream, 3 times (10 under SOAK=1):
// partition leaders shuffled and moved, the group coordinator's broker
// removed and added back, the coordinators rehashed. Nothing may be lost or
// decided twice, no unit may be on two incidents; the longest recovery (a
// fault until decisions resume) is logged per fault.
func TestBrokerCluster(t *testing.T) {
	rounds := pick(3, 10)
	n := pick(3000, 20000)
	bc := startBrokerCluster(t, 6)
	brokers := bc.addrs
	r := newRig(t, brokers)
	plain, conn := r.plain, r.conn
	a, b := r.engine(t, "a", r.db, nil), r.engine(t, "b", r.db, nil)
	a.start()
	b.start()
	a.waitReady(time.Minute)
	b.waitReady(time.Minute)
	consoles := []*follower{follow(web.Principal{Role: web.RoleDispatcher}, plain["dispatcher"], a.addr, b.addr)}
	sim := startUnitSim(t, brokers)
	msgs := nIncidents("KCL", n)
	faults := rounds * len(brokerFaults)
	// Paced so that the stream outlasts the faults: about 100 a second.
	stream := startStream(brokers, msgs, 10, 100*time.Millisecond)
	diag := func() string {
		return fmt.Sprintf("decided %d\n%s", decidedCount(t, conn), diagnose(brokers, "reliability"))
	}
	worst := map[string]time.Duration{}
	for i := range faults {
		f := brokerFaults[i%len(brokerFaults)]
		round := i / len(brokerFaults)
		at := n * (i + 1) / (faults + 2)
		waitFor(t, 3*time.Minute, fmt.Sprintf("%d decided before fault %d", at, i), diag, func() bool { return decidedCount(t, conn) >= at })
		before := decidedCount(t, conn)
		start := time.Now()
		f.apply(t, bc, round)
		waitFor(t, 2*time.Minute, "decisions resume after "+f.name, diag, func() bool {
			d := decidedCount(t, conn)
			return d >= before+25 || d >= n
		})
		rec := time.Since(start)
		worst[f.name] = max(worst[f.name], rec)
		t.Logf("fault %d (%s, round %d) at %d decided: deciding again %v later", i, f.name, round+1, before, rec.Round(time.Millisecond))
	}
	if !a.running() || !b.running() {
		t.Fatal("an instance exited during the faults")
	}
	v := r.finish(t, stream, msgs, sim, consoles, pick(3*time.Minute, 5*time.Minute))
	_, retries := stream.progress()
	for _, f := range brokerFaults {
		t.Logf("%s x%d: longest recovery %v", f.name, rounds, worst[f.name].Round(time.Millisecond))
	}
	t.Logf("settled %v after the stream; producer retries %d; consoles: %d missing, %d extra",
		v.settle.Round(time.Millisecond), retries, v.missing, v.extra)
}
