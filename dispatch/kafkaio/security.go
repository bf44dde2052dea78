package kafkaio

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// SASL mechanisms of SecurityConfig.SASLMechanism.
const (
	// SASLPlain sends the user and password as they are: use it over TLS only.
	SASLPlain = "PLAIN"
	// SASLScramSHA256 is SCRAM with SHA-256 (the password never crosses the wire).
	SASLScramSHA256 = "SCRAM-SHA-256"
	// SASLScramSHA512 is SCRAM with SHA-512.
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// ErrSecurity: the Kafka security settings are incomplete or inconsistent,
// or a file they name cannot be read.
var ErrSecurity = errors.New("kafka security")

// SecurityConfig is how every Kafka connection of dispatchd is encrypted
// and authenticated: the consumer group, the dead-letter and outbox writers,
// topic creation and the drills' source and sink. The zero value is
// plaintext without authentication (the embedded broker, a closed network).
type SecurityConfig struct {
	// TLS turns TLS on. Default false; setting CAFile, CertFile or
	// ServerName turns it on too. Without CAFile the system's roots verify
	// the brokers' certificates.
	TLS bool
	// CAFile is a PEM file of the CA certificates that verify the brokers.
	// Default "": the system's roots.
	CAFile string
	// CertFile and KeyFile are the client's certificate and key (PEM), for
	// brokers that ask for one (mutual TLS). Default "": none. Both or
	// neither.
	CertFile, KeyFile string
	// ServerName is the name the brokers' certificates must carry. Default
	// "": the host part of each broker address.
	ServerName string
	// InsecureSkipVerify accepts any broker certificate. For tests only:
	// it makes TLS worthless against an attacker. Default false.
	InsecureSkipVerify bool
	// SASLMechanism is SASLPlain, SASLScramSHA256 or SASLScramSHA512.
	// Default "": no SASL.
	SASLMechanism string
	// SASLUser is the SASL user name. Required with a mechanism.
	SASLUser string
	// SASLPassword is the SASL password. Required with a mechanism. It is
	// never logged: LogValue leaves it out.
	SASLPassword string
	// DialTimeout bounds one connection's dial, TLS handshake and SASL
	// exchange. Default 10s.
	DialTimeout time.Duration
	// HandshakeTimeout bounds the TLS handshake alone: a plaintext listener
	// that waits for more bytes (it reads the TLS hello as the start of a
	// huge request) fails after it instead of hanging. Default 5s.
	HandshakeTimeout time.Duration
}

// LogValue implements slog.LogValuer: the settings without the password.
func (c SecurityConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("tls", c.tlsOn()), slog.String("ca", c.CAFile), slog.String("cert", c.CertFile),
		slog.String("server_name", c.ServerName), slog.Bool("insecure_skip_verify", c.InsecureSkipVerify),
		slog.String("sasl", c.SASLMechanism), slog.String("user", c.SASLUser))
}

func (c SecurityConfig) tlsOn() bool {
	return c.TLS || c.CAFile != "" || c.CertFile != "" || c.ServerName != "" || c.InsecureSkipVerify
}

// Security is a validated SecurityConfig with its files loaded: the one
// place where kafka-go dialers and transports get their TLS and SASL. A nil
// *Security is plaintext without authentication. It is safe for concurrent
// use.
type Security struct {
	cfg  SecurityConfig
	tls  *tls.Config
	mech sasl.Mechanism
}

// NewSecurity validates cfg, reads its certificate files and prepares the
// SASL mechanism.
func NewSecurity(cfg SecurityConfig) (*Security, error) {
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 5 * time.Second
	}
	s := &Security{cfg: cfg}
	if cfg.tlsOn() {
		tc, err := cfg.tlsConfig()
		if err != nil {
			return nil, err
		}
		s.tls = tc
	} else if cfg.KeyFile != "" {
		return nil, fmt.Errorf("%w: a client key without a client certificate", ErrSecurity)
	}
	mech, err := cfg.mechanism()
	if err != nil {
		return nil, err
	}
	s.mech = mech
	return s, nil
}

func (c SecurityConfig) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName,
		InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // documented as for tests only
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: tls ca: %w", ErrSecurity, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: tls ca %s: no PEM certificate in it", ErrSecurity, c.CAFile)
		}
		tc.RootCAs = pool
	}
	switch {
	case c.CertFile != "" && c.KeyFile != "":
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: tls client certificate: %w", ErrSecurity, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	case c.CertFile != "" || c.KeyFile != "":
		return nil, fmt.Errorf("%w: a client certificate needs both its cert and its key file", ErrSecurity)
	}
	return tc, nil
}

func (c SecurityConfig) mechanism() (sasl.Mechanism, error) {
	m := strings.ToUpper(strings.TrimSpace(c.SASLMechanism))
	if m == "" {
		if c.SASLUser != "" || c.SASLPassword != "" {
			return nil, fmt.Errorf("%w: a sasl user or password without a sasl mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)", ErrSecurity)
		}
		return nil, nil
	}
	if c.SASLUser == "" || c.SASLPassword == "" {
		return nil, fmt.Errorf("%w: sasl %s needs a user and a password", ErrSecurity, m)
	}
	switch m {
	case SASLPlain:
		return plain.Mechanism{Username: c.SASLUser, Password: c.SASLPassword}, nil
	case SASLScramSHA256, SASLScramSHA512:
		algo := scram.SHA256
		if m == SASLScramSHA512 {
			algo = scram.SHA512
		}
		mech, err := scram.Mechanism(algo, c.SASLUser, c.SASLPassword)
		if err != nil {
			return nil, fmt.Errorf("%w: sasl %s: %w", ErrSecurity, m, err)
		}
		return mech, nil
	}
	return nil, fmt.Errorf("%w: unknown sasl mechanism %q (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)", ErrSecurity, c.SASLMechanism)
}

// Config returns the settings s was made from.
func (s *Security) Config() SecurityConfig {
	if s == nil {
		return SecurityConfig{}
	}
	return s.cfg
}

// Enabled reports whether s uses TLS or SASL.
func (s *Security) Enabled() bool { return s != nil && (s.tls != nil || s.mech != nil) }

// String describes s without secrets, e.g. "TLS, SASL SCRAM-SHA-512 as dispatchd".
func (s *Security) String() string {
	if !s.Enabled() {
		return "plaintext"
	}
	var parts []string
	if s.tls != nil {
		parts = append(parts, "TLS")
	}
	if s.mech != nil {
		parts = append(parts, "SASL "+s.mech.Name()+" as "+s.cfg.SASLUser)
	}
	return strings.Join(parts, ", ")
}

// Dialer returns a kafka-go dialer with s's TLS and SASL (a nil s: plain).
func (s *Security) Dialer() *kafka.Dialer {
	d := &kafka.Dialer{Timeout: 10 * time.Second, DualStack: true}
	if s != nil {
		d.Timeout, d.SASLMechanism = s.cfg.DialTimeout, s.mech
		if s.tls != nil {
			d.DialFunc = s.dialTLS
		}
	}
	return d
}

// Transport returns a new kafka-go transport (its own connection pool: the
// caller closes its idle connections when done) with s's TLS and SASL.
func (s *Security) Transport() *kafka.Transport {
	t := &kafka.Transport{DialTimeout: 10 * time.Second}
	if s != nil {
		t.DialTimeout, t.SASL = s.cfg.DialTimeout, s.mech
		if s.tls != nil {
			t.Dial = s.dialTLS
		}
	}
	return t
}

// dialTLS opens a TCP connection and makes the TLS handshake within
// HandshakeTimeout, verifying the broker's name (ServerName, or the host of
// addr). kafka-go's dialers and transports get it instead of a tls.Config.
func (s *Security) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	raw, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	tc := s.tls
	if tc.ServerName == "" {
		tc = tc.Clone()
		if host, _, err := net.SplitHostPort(addr); err == nil {
			tc.ServerName = host
		} else {
			tc.ServerName = addr
		}
	}
	hctx, cancel := context.WithTimeout(ctx, s.cfg.HandshakeTimeout)
	defer cancel()
	conn := tls.Client(raw, tc)
	if err := conn.HandshakeContext(hctx); err != nil {
		_ = raw.Close()
		if hctx.Err() != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("%w: broker %s did not answer the TLS handshake within %v (a plaintext listener?)", ErrSecurity, addr, s.cfg.HandshakeTimeout)
		}
		return nil, err
	}
	return conn, nil
}

// Dial connects to one broker with s's TLS and SASL and explains a failure
// in the terms of the settings (wrong password, TLS against a plaintext
// listener, an untrusted certificate).
func (s *Security) Dial(ctx context.Context, broker string) (*kafka.Conn, error) {
	conn, err := s.Dialer().DialContext(ctx, "tcp", broker)
	if err != nil {
		return nil, s.explain(broker, err)
	}
	return conn, nil
}

// Check dials the brokers in turn until one accepts the connection (TLS
// handshake and SASL authentication included) and answers a metadata
// request. It
// returns at once on an authentication or certificate error: those do not
// get better by trying the next broker.
func (s *Security) Check(ctx context.Context, brokers []string) error {
	if len(brokers) == 0 {
		return errors.New("no brokers")
	}
	var errs []error
	for _, b := range brokers {
		conn, err := s.Dial(ctx, b)
		if err == nil {
			if dl, ok := ctx.Deadline(); ok {
				_ = conn.SetDeadline(dl)
			}
			_, err = conn.Brokers() // a metadata request: refused before SASL
			_ = conn.Close()
			if err == nil {
				return nil
			}
			err = s.explain(b, err)
		}
		if errors.Is(err, ErrSecurity) {
			return err
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// explain turns a dial error into one that names the likely cause. Errors
// about the settings wrap ErrSecurity.
func (s *Security) explain(broker string, err error) error {
	var (
		rhe     tls.RecordHeaderError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		inval   x509.CertificateInvalidError
		kerr    kafka.Error
	)
	mech := ""
	if s != nil && s.mech != nil {
		mech = s.mech.Name()
	}
	switch {
	case errors.Is(err, ErrSecurity):
		return err
	case errors.As(err, &kerr) && kerr == kafka.SASLAuthenticationFailed:
		return fmt.Errorf("%w: broker %s refused sasl %s for user %q: wrong user or password: %w", ErrSecurity, broker, mech, s.Config().SASLUser, err)
	case errors.As(err, &kerr) && (kerr == kafka.UnsupportedSASLMechanism || kerr == kafka.IllegalSASLState):
		return fmt.Errorf("%w: broker %s does not take sasl %s (is SASL on for this listener, and this mechanism?): %w", ErrSecurity, broker, mech, err)
	case errors.As(err, &rhe):
		return fmt.Errorf("%w: broker %s did not answer the TLS handshake (a plaintext listener?): %w", ErrSecurity, broker, err)
	case errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &inval):
		return fmt.Errorf("%w: broker %s: certificate not trusted (check the CA file and the server name): %w", ErrSecurity, broker, err)
	case s.Config().tlsOn() && isCut(err):
		return fmt.Errorf("%w: broker %s closed the connection during the TLS handshake (not a TLS listener, or it wants a client certificate?): %w", ErrSecurity, broker, err)
	case isCut(err):
		hint := "does it want TLS or SASL?"
		if mech != "" {
			hint = "a TLS listener, or a refused sasl exchange?"
		}
		return fmt.Errorf("%w: broker %s closed the connection (%s): %w", ErrSecurity, broker, hint, err)
	}
	return err
}

// isCut reports whether err is the peer closing or resetting the connection
// (as opposed to not reaching it).
func isCut(err error) bool {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// roundTripper is the transport of a kafka-go Writer: nil (kafka-go's shared
// default) for plaintext, else a transport of its own.
func (s *Security) roundTripper() kafka.RoundTripper {
	if !s.Enabled() {
		return nil
	}
	return s.Transport()
}

// closeIdle closes the idle connections of a writer's own transport.
func closeIdle(rt kafka.RoundTripper) {
	if t, ok := rt.(*kafka.Transport); ok {
		t.CloseIdleConnections()
	}
}
