package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/kafkaio"
)

// config is the whole of dispatchd's configuration: every field has a flag
// and a DISPATCH_* environment variable (the flag wins). See
// docs/operations.md for the table.
type config struct {
	HTTPAddr       string
	Brokers        []string // empty: start the embedded broker
	EmbeddedKafka  string
	DatabaseURL    string // empty: in-memory state
	DBTimeout      time.Duration
	Scenario       string // empty: the embedded Zhongshan scenario
	TokensFile     string // empty: fresh tokens printed at start
	GroupID        string
	SessionTimeout time.Duration
	TopicIncidents string
	TopicUnits     string
	TopicAssign    string
	TopicDLQ       string
	Partitions     int
	ConfirmFrom    int
	CoverageW      float64
	Policy         string // ranking policy: dispatch.Policies()
	LinkRadiusM    float64
	LinkWindow     time.Duration
	AckTimeout     time.Duration
	MoveUp         string // off, recommend, auto
	Divert         bool
	Origins        []string
	LogLevel       string
	// KafkaSecurity is the TLS and SASL of every Kafka connection (nil:
	// plaintext); built from KafkaSecurityConfig and the password.
	KafkaSecurity       *kafkaio.Security
	KafkaSecurityConfig kafkaio.SecurityConfig // without the password
	TLSCert, TLSKey     string                 // HTTPS; empty: plain HTTP
	StateDir            string                 // token file without a database or -tokens
}

type envFlag struct {
	name, env, def, help string
	set                  func(string) error
}

// parseConfig reads flags (args) over environment (getenv) over defaults.
func parseConfig(name string, args []string, getenv func(string) string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	list := func(s string) []string {
		var out []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	defs := []envFlag{
		{"http", "DISPATCH_HTTP_ADDR", "127.0.0.1:8080", "HTTP listen address (consoles, API, /ws, /metrics)", func(s string) error { c.HTTPAddr = s; return nil }},
		{"brokers", "DISPATCH_KAFKA_BROKERS", "", "Kafka brokers, comma separated; empty starts the embedded broker", func(s string) error { c.Brokers = list(s); return nil }},
		{"embedded-kafka", "DISPATCH_EMBEDDED_KAFKA_ADDR", "127.0.0.1:9092", "listen address of the embedded Kafka-protocol broker", func(s string) error { c.EmbeddedKafka = s; return nil }},
		{"database", "DISPATCH_DATABASE_URL", "", "PostgreSQL URL; empty keeps state in memory (not persistent)", func(s string) error { c.DatabaseURL = s; return nil }},
		{"db-timeout", "DISPATCH_DB_TIMEOUT", "15s", "bound on every PostgreSQL call: a hung connection fails and is replaced instead of stalling intake", func(s string) (err error) {
			if c.DBTimeout, err = time.ParseDuration(s); err == nil && c.DBTimeout <= 0 {
				err = errors.New("must be positive")
			}
			return
		}},
		{"scenario", "DISPATCH_SCENARIO", "", "scenario file (JSON or YAML); empty uses the embedded Zhongshan scenario", func(s string) error { c.Scenario = s; return nil }},
		{"tokens", "DISPATCH_TOKENS_FILE", "", "console token file (hashed tokens); empty makes fresh tokens and prints them", func(s string) error { c.TokensFile = s; return nil }},
		{"group", "DISPATCH_GROUP_ID", "dispatchd", "Kafka consumer group", func(s string) error { c.GroupID = s; return nil }},
		{"kafka-session-timeout", "DISPATCH_KAFKA_SESSION_TIMEOUT", "30s", "how long the consumer group waits for a silent (crashed) instance before handing its partitions to the others", func(s string) (err error) { c.SessionTimeout, err = time.ParseDuration(s); return }},
		{"topic-incidents", "DISPATCH_TOPIC_INCIDENTS", "incidents", "incidents topic (in)", func(s string) error { c.TopicIncidents = s; return nil }},
		{"topic-unit-events", "DISPATCH_TOPIC_UNIT_EVENTS", "unit-events", "unit events topic (in)", func(s string) error { c.TopicUnits = s; return nil }},
		{"topic-assignments", "DISPATCH_TOPIC_ASSIGNMENTS", "assignments", "assignments topic (out)", func(s string) error { c.TopicAssign = s; return nil }},
		{"topic-dlq", "DISPATCH_TOPIC_DLQ", "incidents.dlq", "dead-letter topic (out)", func(s string) error { c.TopicDLQ = s; return nil }},
		{"partitions", "DISPATCH_PARTITIONS", "4", "partitions of topics the engine creates", func(s string) (err error) { c.Partitions, err = strconv.Atoi(s); return }},
		{"confirm-from", "DISPATCH_CONFIRM_FROM", "3", "first priority that waits for a dispatcher's confirmation (5 = none)", func(s string) (err error) { c.ConfirmFrom, err = strconv.Atoi(s); return }},
		{"coverage-weight", "DISPATCH_COVERAGE_WEIGHT_S", "0", "seconds of cost for leaving a town without a capability (0 = closest ETA)", func(s string) (err error) { c.CoverageW, err = strconv.ParseFloat(s, 64); return }},
		{"policy", "DISPATCH_POLICY", dispatch.DefaultPolicy, "ranking policy: " + strings.Join(dispatch.Policies(), " or ") + " (docs/drills.md)", func(s string) error {
			if !slices.Contains(dispatch.Policies(), s) {
				return fmt.Errorf("unknown policy %q (%s)", s, strings.Join(dispatch.Policies(), ", "))
			}
			c.Policy = s
			return nil
		}},
		{"link-radius", "DISPATCH_LINK_RADIUS_M", "150", "duplicate-call radius in metres (negative disables)", func(s string) (err error) { c.LinkRadiusM, err = strconv.ParseFloat(s, 64); return }},
		{"link-window", "DISPATCH_LINK_WINDOW", "10m", "duplicate-call time window", func(s string) (err error) { c.LinkWindow, err = time.ParseDuration(s); return }},
		{"ack-timeout", "DISPATCH_ACK_TIMEOUT", "2m", "an assignment not accepted within this is escalated to dispatchers", func(s string) (err error) { c.AckTimeout, err = time.ParseDuration(s); return }},
		{"move-up", "DISPATCH_MOVE_UP", "recommend", "move-ups that keep the city covered: recommend (dispatchers confirm), auto or off", func(s string) error { c.MoveUp = s; return nil }},
		{"divert", "DISPATCH_DIVERT", "true", "a P1 no unit reaches within its target may take a unit on its way to a P3/P4 call", func(s string) (err error) { c.Divert, err = strconv.ParseBool(s); return }},
		{"origins", "DISPATCH_ALLOWED_ORIGINS", "", "extra allowed Origins for /ws, comma separated (the server's own host is always allowed)", func(s string) error { c.Origins = list(s); return nil }},
		{"log-level", "DISPATCH_LOG_LEVEL", "info", "debug, info, warn or error", func(s string) error {
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "debug", "info", "warn", "error":
				c.LogLevel = strings.ToLower(strings.TrimSpace(s))
				return nil
			}
			return fmt.Errorf("unknown log level %q (debug, info, warn or error)", s)
		}},
		{"tls-cert", "DISPATCH_TLS_CERT", "", "PEM certificate (chain) of the HTTPS listener; with -tls-key the consoles and API are served over HTTPS only", func(s string) error { c.TLSCert = s; return nil }},
		{"tls-key", "DISPATCH_TLS_KEY", "", "PEM key of -tls-cert", func(s string) error { c.TLSKey = s; return nil }},
		{"state-dir", "DISPATCH_STATE_DIR", ".dispatchd", "where the console tokens are kept without a database or -tokens (tokens.json, hashes only)", func(s string) error { c.StateDir = s; return nil }},
	}
	var passwordFile string
	defs = append(defs, kafkaSecurityDefs(&c.KafkaSecurityConfig, &passwordFile)...)
	apply := registerEnvFlags(fs, defs, getenv)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	errs := []error{apply()}
	if c.Partitions < 1 {
		errs = append(errs, errors.New("-partitions must be at least 1"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("-tls-cert and -tls-key go together"))
	}
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	sec, err := buildKafkaSecurity(c.KafkaSecurityConfig, passwordFile, getenv)
	if err != nil {
		return c, err
	}
	if sec.Enabled() && len(c.Brokers) == 0 {
		return c, errors.New("the -kafka-tls-* and -kafka-sasl-* settings need -brokers: the embedded broker is plaintext")
	}
	c.KafkaSecurity = sec
	return c, nil
}

func osEnv(k string) string { return os.Getenv(k) }
