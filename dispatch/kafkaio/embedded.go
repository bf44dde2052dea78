package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

// MaxEmbeddedMessageBytes is the largest produce batch the embedded broker
// accepts (real Kafka defaults to 1 MiB; the embedded broker takes more so
// that oversized records reach intake and are dead-lettered there).
const MaxEmbeddedMessageBytes = 32 << 20

// Embedded is an in-process Kafka-protocol broker on a loopback port.
type Embedded struct {
	c    *kfake.Cluster
	addr string
}

// EmbeddedOption configures StartEmbedded.
type EmbeddedOption func(*embeddedConfig)

type embeddedConfig struct {
	dataDir string
}

// WithDataDir makes the embedded broker persist its topics, records and
// consumer group offsets in dir (created if needed) and reload them when it
// starts again on the same dir: a broker restart then loses nothing that
// was acknowledged. Without it the broker keeps everything in memory.
func WithDataDir(dir string) EmbeddedOption {
	return func(c *embeddedConfig) { c.dataDir = dir }
}

// StartEmbedded starts a one-broker in-process Kafka cluster listening on
// addr ("127.0.0.1:9092"; port 0 picks a free one) with the given topics,
// each with the given number of partitions. The broker keeps its data in
// memory unless WithDataDir is given. Close stops it.
func StartEmbedded(ctx context.Context, addr string, topics []string, partitions int, opts ...EmbeddedOption) (*Embedded, error) {
	if partitions < 1 {
		partitions = 1
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var ec embeddedConfig
	for _, o := range opts {
		o(&ec)
	}
	kopts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) { return net.Listen(network, addr) }),
		kfake.SeedTopics(int32(partitions), topics...),
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": strconv.Itoa(MaxEmbeddedMessageBytes)}),
	}
	if ec.dataDir != "" {
		kopts = append(kopts, kfake.DataDir(ec.dataDir))
	}
	c, err := kfake.NewCluster(kopts...)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	addrs := c.ListenAddrs()
	if len(addrs) == 0 {
		c.Close()
		return nil, errors.New("embedded broker has no listener")
	}
	return &Embedded{c: c, addr: addrs[0]}, nil
}

// Addr is the broker's host:port.
func (e *Embedded) Addr() string { return e.addr }

// Close stops the broker; its data is gone unless it was started WithDataDir
// (then Close writes it to disk).
func (e *Embedded) Close() { e.c.Close() }

// EnsureTopics creates the topics that do not exist yet on the cluster
// reachable at brokers, with the given partition count and replication
// factor 1 (or the broker's default when it refuses 1), connecting with
// sec's TLS and SASL (nil: plaintext). It fails fast when no broker answers
// within ctx, and at once when a broker refuses the credentials or the TLS
// handshake (the error wraps ErrSecurity and names the cause).
func EnsureTopics(ctx context.Context, brokers []string, sec *Security, topics []string, partitions int) error {
	if len(brokers) == 0 {
		return errors.New("no brokers")
	}
	var (
		conn   *kafka.Conn
		err    error
		broker string
	)
	for _, broker = range brokers {
		if conn, err = sec.Dial(ctx, broker); err == nil || errors.Is(err, ErrSecurity) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer func() { _ = conn.Close() }()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	}
	ctrl, err := conn.Controller()
	if err != nil {
		return fmt.Errorf("controller: %w", sec.explain(broker, err))
	}
	cc, err := sec.Dial(ctx, net.JoinHostPort(ctrl.Host, strconv.Itoa(ctrl.Port)))
	if err != nil {
		return fmt.Errorf("dial controller: %w", err)
	}
	defer func() { _ = cc.Close() }()
	if dl, ok := ctx.Deadline(); ok {
		_ = cc.SetDeadline(dl)
	}
	for _, t := range topics {
		err := cc.CreateTopics(kafka.TopicConfig{Topic: t, NumPartitions: partitions, ReplicationFactor: 1})
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			// A multi-broker cluster may insist on its default replication.
			err = cc.CreateTopics(kafka.TopicConfig{Topic: t, NumPartitions: partitions, ReplicationFactor: -1})
		}
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", t, err)
		}
	}
	return nil
}
