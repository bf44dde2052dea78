package kafkaio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/testpki"
)

// secureCluster starts kfake with SASL (one user for mech, a superuser or
// an ordinary user) and, when pki is not nil, TLS with pki's server
// certificate (asking for a client certificate when mtls).
func secureCluster(t *testing.T, pki *testpki.PKI, mtls bool, mech, user, pass string, superuser bool) string {
	t.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(3, topics...)}
	if mech != "" {
		opts = append(opts, kfake.EnableSASL())
		if superuser {
			opts = append(opts, kfake.Superuser(mech, user, pass))
		} else {
			opts = append(opts, kfake.User(mech, user, pass))
		}
	}
	if pki != nil {
		opts = append(opts, kfake.TLS(pki.ServerTLS(mtls)))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

func newSecurity(t *testing.T, cfg SecurityConfig) *Security {
	t.Helper()
	s, err := NewSecurity(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// produceSecure writes msgs to topic through sec.
func produceSecure(t *testing.T, addr string, sec *Security, topic string, msgs ...kafka.Message) {
	t.Helper()
	tr := sec.Transport()
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Balancer: &kafka.Hash{}, BatchTimeout: time.Millisecond,
		RequiredAcks: kafka.RequireAll, Transport: tr}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce through %s: %v", sec, err)
	}
}

// readSecure reads n records of one partition-less topic from the start through sec.
func readSecure(t *testing.T, addr string, sec *Security, topic string, n int) []kafka.Message {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, GroupID: "reader-" + topic + fmt.Sprint(time.Now().UnixNano()),
		Topic: topic, StartOffset: kafka.FirstOffset, MaxWait: 50 * time.Millisecond, Dialer: sec.Dialer()})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []kafka.Message
	for len(out) < n {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("read %s through %s: %d of %d: %v", topic, sec, len(out), n, err)
		}
		out = append(out, m)
	}
	return out
}

// TestSecuredBroker: every mechanism, over TLS, through a broker that
// refuses anything else: topic creation, a produced incident consumed by
// the group reader and decided, a dead letter, the outbox relayed, and the
// records read back.
func TestSecuredBroker(t *testing.T) {
	pki := testpki.New(t)
	for _, tc := range []struct {
		mech      string
		superuser bool
		mtls      bool
	}{
		{SASLPlain, true, false},
		{SASLScramSHA256, false, false},
		{SASLScramSHA512, true, true},
	} {
		t.Run(tc.mech, func(t *testing.T) {
			addr := secureCluster(t, pki, tc.mtls, tc.mech, "dispatchd", "s3cret-"+tc.mech, tc.superuser)
			cfg := SecurityConfig{CAFile: pki.CAFile, SASLMechanism: tc.mech, SASLUser: "dispatchd", SASLPassword: "s3cret-" + tc.mech}
			if tc.mtls {
				cfg.CertFile, cfg.KeyFile = pki.ClientCertFile, pki.ClientKeyFile
			}
			sec := newSecurity(t, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := sec.Check(ctx, []string{addr}); err != nil {
				t.Fatal(err)
			}
			if err := EnsureTopics(ctx, []string{addr}, sec, []string{"incidents", "brand-new"}, 2); err != nil {
				t.Fatal(err)
			}
			produceSecure(t, addr, sec, "brand-new", kafka.Message{Key: []byte("k"), Value: []byte("v")})

			st := memstore.New(memstore.Config{})
			h := &engineHandler{eng: newEngine(t, st)}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			c, err := NewConsumer(ConsumerConfig{Brokers: []string{addr}, Security: sec, Handler: h, GroupID: "sec", Logger: log, Registerer: prometheus.NewRegistry()})
			if err != nil {
				t.Fatal(err)
			}
			rl, err := NewRelay(RelayConfig{Brokers: []string{addr}, Security: sec, Outbox: st, Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			produceSecure(t, addr, sec, "incidents", incident("SEC-1", time.Date(2013, 5, 31, 12, 0, 0, 0, time.UTC)),
				kafka.Message{Key: []byte("bad"), Value: []byte(`{"id": "BAD`)})
			rc, rr := start(c.Run), start(rl.Run)
			defer rc.stop(t)
			defer rr.stop(t)
			pollUntil(t, 20*time.Second, "SEC-1 decided", func() bool {
				rec, err := h.eng.Incident(context.Background(), "", "SEC-1")
				return err == nil && rec.State == dispatch.StateDispatched
			})
			if err := c.Ready(); err != nil {
				t.Errorf("ready: %v", err)
			}
			rl.Notify()
			if m := readSecure(t, addr, sec, "assignments", 1)[0]; string(m.Key) != "SEC-1" {
				t.Errorf("assignment for %q, want SEC-1", m.Key)
			}
			if m := readSecure(t, addr, sec, "incidents.dlq", 1)[0]; header(m, "reason") == "" {
				t.Errorf("dead letter without reason: %v", m.Headers)
			}
		})
	}
}

// TestSecurityFailsFast: a wrong password, TLS against a plaintext
// listener, plaintext against TLS, an untrusted certificate, SASL against a
// broker without it: each fails at once with an error that names the cause
// (ErrSecurity), never a hang.
func TestSecurityFailsFast(t *testing.T) {
	pki := testpki.New(t)
	other := testpki.New(t) // a CA that did not sign the broker's certificate
	secured := secureCluster(t, pki, false, SASLScramSHA256, "dispatchd", "right", true)
	plainSASL := secureCluster(t, nil, false, SASLScramSHA512, "dispatchd", "right", true)
	open := secureCluster(t, nil, false, "", "", "", false)
	for _, tc := range []struct {
		name, addr string
		cfg        SecurityConfig
		want       string
	}{
		{"wrong password", secured, SecurityConfig{CAFile: pki.CAFile, SASLMechanism: SASLScramSHA256, SASLUser: "dispatchd", SASLPassword: "wrong"}, "wrong user or password"},
		{"unknown user", secured, SecurityConfig{CAFile: pki.CAFile, SASLMechanism: SASLScramSHA256, SASLUser: "nobody", SASLPassword: "right"}, "wrong user or password"},
		{"wrong password PLAIN", secureCluster(t, pki, false, SASLPlain, "dispatchd", "right", false),
			SecurityConfig{CAFile: pki.CAFile, SASLMechanism: SASLPlain, SASLUser: "dispatchd", SASLPassword: "wrong"}, "wrong user or password"},
		{"wrong mechanism", plainSASL, SecurityConfig{SASLMechanism: SASLScramSHA256, SASLUser: "dispatchd", SASLPassword: "right"}, "wrong user or password"},
		{"tls to a plaintext listener", plainSASL, SecurityConfig{CAFile: pki.CAFile, SASLMechanism: SASLScramSHA512, SASLUser: "dispatchd", SASLPassword: "right"}, "TLS"},
		{"plaintext to a tls listener", secured, SecurityConfig{SASLMechanism: SASLScramSHA256, SASLUser: "dispatchd", SASLPassword: "right"}, "closed the connection"},
		{"untrusted certificate", secured, SecurityConfig{CAFile: other.CAFile, SASLMechanism: SASLScramSHA256, SASLUser: "dispatchd", SASLPassword: "right"}, "certificate not trusted"},
		{"sasl to a broker without sasl", open, SecurityConfig{SASLMechanism: SASLPlain, SASLUser: "dispatchd", SASLPassword: "right"}, "sasl"},
		{"no sasl to a sasl broker", plainSASL, SecurityConfig{}, "closed the connection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sec := newSecurity(t, tc.cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			began := time.Now()
			err := EnsureTopics(ctx, []string{tc.addr}, sec, []string{"incidents", "x"}, 1)
			took := time.Since(began)
			t.Logf("%s: failed after %v: %v", tc.name, took.Round(time.Millisecond), err)
			if err == nil {
				t.Fatal("no error")
			}
			if took > 6*time.Second { // the TLS handshake timeout is 5 s
				t.Errorf("took %v to fail, want < 6s", took)
			}
			if tc.want != "" && (!errors.Is(err, ErrSecurity) || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("error %q does not say %q (or is not ErrSecurity)", err, tc.want)
			}
			if strings.Contains(err.Error(), "right") || (tc.cfg.SASLPassword == "wrong" && strings.Contains(err.Error(), "wrong\"")) {
				t.Errorf("the error shows the password: %v", err)
			}
			// Readiness says so too.
			c, err := NewConsumer(ConsumerConfig{Brokers: []string{tc.addr}, Security: sec, Handler: &engineHandler{}})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Ready(); err == nil {
				t.Error("ready through a refused connection")
			}
		})
	}
}

func TestSecurityConfig(t *testing.T) {
	pki := testpki.New(t)
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]SecurityConfig{
		"unknown mechanism":   {SASLMechanism: "GSSAPI", SASLUser: "u", SASLPassword: "p"},
		"no password":         {SASLMechanism: SASLPlain, SASLUser: "u"},
		"no user":             {SASLMechanism: SASLScramSHA512, SASLPassword: "p"},
		"user, no mechanism":  {SASLUser: "u", SASLPassword: "p"},
		"missing CA file":     {CAFile: "/nonexistent/ca.pem"},
		"CA file not PEM":     {CAFile: notPEM},
		"cert without key":    {CertFile: pki.ClientCertFile},
		"key without cert":    {KeyFile: pki.ClientKeyFile},
		"cert of another key": {CertFile: pki.ClientCertFile, KeyFile: pki.KeyFile},
	} {
		if _, err := NewSecurity(cfg); !errors.Is(err, ErrSecurity) {
			t.Errorf("%s: %v, want ErrSecurity", name, err)
		}
	}
	var nilSec *Security
	if nilSec.Enabled() || nilSec.String() != "plaintext" || nilSec.Dialer().TLS != nil {
		t.Error("a nil Security is not plaintext")
	}
	s := newSecurity(t, SecurityConfig{CAFile: pki.CAFile, SASLMechanism: "scram-sha-512", SASLUser: "dispatchd", SASLPassword: "hunter2-secret"})
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("kafka", "security", s.Config(), "s", s.String())
	if strings.Contains(b.String(), "hunter2") || !strings.Contains(b.String(), "SCRAM-SHA-512") || !strings.Contains(b.String(), "tls=true") {
		t.Errorf("log of the settings: %s", b.String())
	}
}
