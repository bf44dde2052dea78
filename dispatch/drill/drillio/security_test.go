package drillio

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/zs110/dispatch/dispatch/drill"
	"github.com/zs110/dispatch/dispatch/kafkaio"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/dispatch/testpki"
)

// TestSecuredRoundTrip: the sink and the source of drills through a broker
// that takes only TLS with SCRAM-SHA-512; a wrong password fails at once.
func TestSecuredRoundTrip(t *testing.T) {
	ctx := context.Background()
	pki := testpki.New(t)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "drill"), kfake.EnableSASL(),
		kfake.User(kafkaio.SASLScramSHA512, "planner", "pw-512"), kfake.TLS(pki.ServerTLS(false)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()
	sec, err := kafkaio.NewSecurity(kafkaio.SecurityConfig{CAFile: pki.CAFile, SASLMechanism: kafkaio.SASLScramSHA512, SASLUser: "planner", SASLPassword: "pw-512"})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	g, err := drill.NewGenerator(drill.GenConfig{Scenario: sc, Seed: 2, Start: time.Date(2013, 3, 1, 0, 0, 0, 0, time.UTC), Duration: time.Hour, Surges: []drill.Surge{}})
	if err != nil {
		t.Fatal(err)
	}
	sink, err := NewSink(SinkConfig{Brokers: brokers, Security: sec, Topic: "drill"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := sink.WriteAll(ctx, g, nil)
	if cerr := sink.Close(); err == nil {
		err = cerr
	}
	if err != nil || n == 0 {
		t.Fatalf("wrote %d: %v", n, err)
	}
	src, err := NewSource(ctx, SourceConfig{Brokers: brokers, Security: sec, Topic: "drill"})
	if err != nil {
		t.Fatal(err)
	}
	got := drain(t, src)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("read %d records, wrote %d", len(got), n)
	}

	bad, err := kafkaio.NewSecurity(kafkaio.SecurityConfig{CAFile: pki.CAFile, SASLMechanism: kafkaio.SASLScramSHA512, SASLUser: "planner", SASLPassword: "nope"})
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if _, err := NewSource(ctx, SourceConfig{Brokers: brokers, Security: bad, Topic: "drill"}); err == nil {
		t.Fatal("a wrong password was accepted")
	} else {
		t.Logf("wrong password: %v after %v", err, time.Since(began).Round(time.Millisecond))
	}
}
