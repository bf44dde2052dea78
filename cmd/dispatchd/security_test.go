package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/kafkaio"
	"github.com/zs110/dispatch/dispatch/testpki"
)

// TestSecuredKafkaAndHTTPS runs the real `dispatchd serve` against a broker
// that takes only TLS with SASL SCRAM-SHA-512, serving its consoles over
// HTTPS. A wrong password and a TLS mismatch stop it at start within
// seconds with an error that names the cause; with the right settings an
// incident produced through the secured broker is decided, its assignment
// relayed, and the API answers over HTTPS. The debug log of the whole run
// holds neither the password nor a console token.
func TestSecuredKafkaAndHTTPS(t *testing.T) {
	pki := testpki.New(t)
	const password = "kafka-Pa55word-zs110"
	cl, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser(kafkaio.SASLScramSHA512, "dispatchd", password),
		kfake.TLS(pki.ServerTLS(false)))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	brokers := cl.ListenAddrs()
	r := newRig(t, brokers)
	pwFile := filepath.Join(t.TempDir(), "kafka-password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secure := func(env map[string]string) {
		env["DISPATCH_LOG_LEVEL"] = "debug"
		env["DISPATCH_KAFKA_TLS_CA"] = pki.CAFile
		env["DISPATCH_KAFKA_SASL_MECHANISM"] = kafkaio.SASLScramSHA512
		env["DISPATCH_KAFKA_SASL_USER"] = "dispatchd"
		env["DISPATCH_KAFKA_SASL_PASSWORD_FILE"] = pwFile
		env["DISPATCH_TLS_CERT"], env["DISPATCH_TLS_KEY"] = pki.CertFile, pki.KeyFile
	}

	// Refused at start, within seconds.
	for _, tc := range []struct {
		name, want string
		mod        func(env map[string]string)
	}{
		{"wrong password", "wrong user or password", func(env map[string]string) {
			delete(env, "DISPATCH_KAFKA_SASL_PASSWORD_FILE")
			env["DISPATCH_KAFKA_SASL_PASSWORD"] = "not-" + password
		}},
		{"no TLS to a TLS listener", "closed the connection", func(env map[string]string) { delete(env, "DISPATCH_KAFKA_TLS_CA") }},
		{"untrusted broker certificate", "certificate not trusted", func(env map[string]string) { env["DISPATCH_KAFKA_TLS_CA"] = testpki.New(t).CAFile }},
	} {
		p := r.engine(t, tc.name, r.db, func(env map[string]string) { secure(env); tc.mod(env) })
		began := time.Now()
		p.start()
		select {
		case <-p.exited:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: dispatchd still running after 30s", tc.name)
		}
		took := time.Since(began)
		t.Logf("%s: dispatchd stopped after %v", tc.name, took.Round(time.Millisecond))
		if p.err == nil {
			t.Errorf("%s: dispatchd exited without an error", tc.name)
		}
		if took > 8*time.Second {
			t.Errorf("%s: took %v to fail, want within seconds", tc.name, took)
		}
		if log := r.log.tail(3000); !strings.Contains(log, tc.want) {
			t.Errorf("%s: the error does not say %q:\n%s", tc.name, tc.want, log)
		}
	}

	p := r.engine(t, "secured", r.db, secure)
	p.start()
	https := &http.Client{Transport: &http.Transport{TLSClientConfig: pki.ClientTLS()}, Timeout: 10 * time.Second}
	// get answers the status (negative when the response lacks HSTS) and body.
	get := func(path, token string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, "https://"+p.addr+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := https.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.Header.Get("Strict-Transport-Security") == "" {
			return -resp.StatusCode, body
		}
		return resp.StatusCode, body
	}
	pollUntil(t, 60*time.Second, "dispatchd ready over https", func() bool {
		if !p.running() {
			t.Fatalf("dispatchd exited: %v\n%s", p.err, r.log.tail(4000))
		}
		code, _ := get("/readyz", "")
		return code == http.StatusOK
	})
	sec, err := kafkaio.NewSecurity(kafkaio.SecurityConfig{CAFile: pki.CAFile, SASLMechanism: kafkaio.SASLScramSHA512, SASLUser: "dispatchd", SASLPassword: password})
	if err != nil {
		t.Fatal(err)
	}
	tr := sec.Transport()
	defer tr.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: "incidents", Transport: tr, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, incidentMsg("SEC-FIRE", "fire.building", 22.52, 113.39, e2eStart)); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	token := r.plain["dispatcher"]
	pollUntil(t, 60*time.Second, "SEC-FIRE dispatched (read over https)", func() bool {
		code, body := get("/api/incidents/SEC-FIRE", token)
		var rec dispatch.IncidentRecord
		return code == http.StatusOK && json.Unmarshal(body, &rec) == nil && rec.State == dispatch.StateDispatched
	})
	rd := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: "assignments", Dialer: sec.Dialer(), GroupID: "sec-check", StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	m, err := rd.ReadMessage(ctx)
	_ = rd.Close()
	if err != nil || string(m.Key) != "SEC-FIRE" {
		t.Fatalf("assignment through the secured broker: %q %v", m.Key, err)
	}
	p.stop()
	log := r.log.tail(1 << 30)
	// The refused starts and the secured run are in the log (at debug
	// level), else the check below would prove nothing.
	if !strings.Contains(log, "wrong user or password") || !strings.Contains(log, "kafka reachable") || !strings.Contains(log, "console tokens loaded") {
		t.Fatalf("the log does not show the run: the check below would prove nothing\n%.3000s", log)
	}
	checkNoSecrets(t, log, append([]string{password}, tokensOf(r.plain)...)...)
}

func tokensOf(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// checkNoSecrets fails the test for every secret found in log.
func checkNoSecrets(t *testing.T, log string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if i := strings.Index(log, s); i >= 0 {
			t.Errorf("the log holds a secret %q...: %q", s[:6], log[max(0, i-200):min(len(log), i+50)])
		}
	}
}
