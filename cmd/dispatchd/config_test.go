package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zs110/dispatch/dispatch/testpki"
)

// TestKafkaSecurityConfig: the Kafka security settings from the
// environment and flags (the flag wins, the password file over the
// variable), refused without brokers; HTTPS needs a certificate and a key.
func TestKafkaSecurityConfig(t *testing.T) {
	pki := testpki.New(t)
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"DISPATCH_KAFKA_BROKERS":        "k1:9093",
		"DISPATCH_KAFKA_TLS_CA":         pki.CAFile,
		"DISPATCH_KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
		"DISPATCH_KAFKA_SASL_USER":      "env-user",
		"DISPATCH_KAFKA_SASL_PASSWORD":  "from-env",
	}
	getenv := func(k string) string { return env[k] }
	c, err := parseConfig("t", []string{"-kafka-sasl-user", "flag-user"}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	got := c.KafkaSecurity.Config()
	if got.SASLUser != "flag-user" || got.SASLPassword != "from-env" || got.CAFile != pki.CAFile || c.KafkaSecurity.String() != "TLS, SASL SCRAM-SHA-256 as flag-user" {
		t.Fatalf("settings: %+v %s", got, c.KafkaSecurity)
	}
	if c, err = parseConfig("t", []string{"-kafka-sasl-password-file", pw}, getenv); err != nil || c.KafkaSecurity.Config().SASLPassword != "from-file" {
		t.Fatalf("password file: %v", err)
	}
	for name, args := range map[string][]string{
		"security without brokers": {"-brokers", ""},
		"unknown mechanism":        {"-kafka-sasl-mechanism", "KERBEROS"},
		"missing CA":               {"-kafka-tls-ca", "/nonexistent"},
		"cert without key":         {"-tls-cert", pki.CertFile},
	} {
		if _, err := parseConfig("t", args, getenv); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "from-env") {
			t.Errorf("%s: the error shows the password: %v", name, err)
		}
	}
	if c, err := parseConfig("t", nil, func(string) string { return "" }); err != nil || c.KafkaSecurity.Enabled() {
		t.Fatalf("default: %v %s", err, c.KafkaSecurity)
	}
}

// TestConfigPolicy: the ranking policy comes from -policy over
// DISPATCH_POLICY over the default, and an unknown name is refused.
func TestConfigPolicy(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     string
		want    string
		wantErr string
	}{
		{"default", nil, "", "responders", ""},
		{"environment", nil, "closest", "closest", ""},
		{"flag", []string{"-policy", "closest"}, "", "closest", ""},
		{"flag over environment", []string{"-policy", "responders"}, "closest", "responders", ""},
		{"unknown", []string{"-policy", "nearest"}, "", "", `-policy / DISPATCH_POLICY: unknown policy "nearest" (responders, closest)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig("test", tt.args, func(k string) string {
				if k == "DISPATCH_POLICY" {
					return tt.env
				}
				return ""
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || cfg.Policy != tt.want {
				t.Fatalf("policy %q (%v), want %q", cfg.Policy, err, tt.want)
			}
		})
	}
}

// TestConfigLogLevel: the four levels in any case, from the flag or the
// environment; anything else is refused rather than silently taken as info.
func TestConfigLogLevel(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		env     string
		want    string
		wantErr bool
	}{
		{nil, "", "info", false},
		{[]string{"-log-level", "debug"}, "", "debug", false},
		{nil, "WARN", "warn", false},
		{[]string{"-log-level", "error"}, "debug", "error", false},
		{[]string{"-log-level", "verbose"}, "", "", true},
		{nil, "INFO+2", "", true},
		{[]string{"-log-level", ""}, "", "", true},
	} {
		cfg, err := parseConfig("test", tt.args, func(k string) string {
			if k == "DISPATCH_LOG_LEVEL" {
				return tt.env
			}
			return ""
		})
		if tt.wantErr {
			if err == nil || !strings.Contains(err.Error(), "unknown log level") {
				t.Errorf("%v env %q: err %v, want unknown log level", tt.args, tt.env, err)
			}
			continue
		}
		if err != nil || cfg.LogLevel != tt.want {
			t.Errorf("%v env %q: level %q (%v), want %q", tt.args, tt.env, cfg.LogLevel, err, tt.want)
		}
	}
}
