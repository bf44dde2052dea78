package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/zs110/dispatch/dispatch/kafkaio"
)

// kafkaSecurityDefs are the flags and environment variables of the Kafka
// TLS and SASL settings, shared by serve, gen and replay. The password is
// not a flag (a flag shows in ps and in -h): it comes from
// DISPATCH_KAFKA_SASL_PASSWORD or from the file named by
// -kafka-sasl-password-file.
func kafkaSecurityDefs(sc *kafkaio.SecurityConfig, passwordFile *string) []envFlag {
	boolean := func(dst *bool) func(string) error {
		return func(s string) (err error) { *dst, err = strconv.ParseBool(s); return }
	}
	str := func(dst *string) func(string) error { return func(s string) error { *dst = s; return nil } }
	return []envFlag{
		{"kafka-tls", "DISPATCH_KAFKA_TLS", "false", "TLS to the brokers (implied by the other -kafka-tls-* flags); without a CA file the system's roots verify them", boolean(&sc.TLS)},
		{"kafka-tls-ca", "DISPATCH_KAFKA_TLS_CA", "", "PEM file of the CA certificates that verify the brokers", str(&sc.CAFile)},
		{"kafka-tls-cert", "DISPATCH_KAFKA_TLS_CERT", "", "PEM client certificate, for brokers that ask for one (with -kafka-tls-key)", str(&sc.CertFile)},
		{"kafka-tls-key", "DISPATCH_KAFKA_TLS_KEY", "", "PEM key of the client certificate", str(&sc.KeyFile)},
		{"kafka-tls-server-name", "DISPATCH_KAFKA_TLS_SERVER_NAME", "", "name the brokers' certificates must carry (default: each broker's host)", str(&sc.ServerName)},
		{"kafka-tls-insecure", "DISPATCH_KAFKA_TLS_INSECURE", "false", "accept any broker certificate: for tests only", boolean(&sc.InsecureSkipVerify)},
		{"kafka-sasl-mechanism", "DISPATCH_KAFKA_SASL_MECHANISM", "", "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (empty: no SASL)", str(&sc.SASLMechanism)},
		{"kafka-sasl-user", "DISPATCH_KAFKA_SASL_USER", "", "SASL user", str(&sc.SASLUser)},
		{"kafka-sasl-password-file", "DISPATCH_KAFKA_SASL_PASSWORD_FILE", "", "file holding the SASL password (else $DISPATCH_KAFKA_SASL_PASSWORD)", str(passwordFile)},
	}
}

// buildKafkaSecurity reads the password (the file wins over
// DISPATCH_KAFKA_SASL_PASSWORD) and validates the settings.
func buildKafkaSecurity(sc kafkaio.SecurityConfig, passwordFile string, getenv func(string) string) (*kafkaio.Security, error) {
	sc.SASLPassword = getenv("DISPATCH_KAFKA_SASL_PASSWORD")
	if passwordFile != "" {
		b, err := os.ReadFile(passwordFile) //nolint:gosec // the file the operator names
		if err != nil {
			return nil, fmt.Errorf("kafka sasl password file: %w", err)
		}
		sc.SASLPassword = strings.TrimRight(string(b), "\r\n")
	}
	return kafkaio.NewSecurity(sc)
}

// registerEnvFlags adds defs to fs with their environment defaults and
// returns the function that applies the parsed values.
func registerEnvFlags(fs *flag.FlagSet, defs []envFlag, getenv func(string) string) func() error {
	vals := make([]*string, len(defs))
	for i, d := range defs {
		def := d.def
		if v := getenv(d.env); v != "" {
			def = v
		}
		vals[i] = fs.String(d.name, def, d.help+" ($"+d.env+")")
	}
	return func() error {
		var errs []error
		for i, d := range defs {
			if err := d.set(*vals[i]); err != nil {
				errs = append(errs, fmt.Errorf("-%s / %s: %w", d.name, d.env, err))
			}
		}
		return errors.Join(errs...)
	}
}

// kafkaSecurityFlags adds the Kafka security flags to a drill command's
// flags; the function it returns builds the settings after fs.Parse.
func kafkaSecurityFlags(fs *flag.FlagSet) func() (*kafkaio.Security, error) {
	var (
		sc   kafkaio.SecurityConfig
		file string
	)
	apply := registerEnvFlags(fs, kafkaSecurityDefs(&sc, &file), osEnv)
	return func() (*kafkaio.Security, error) {
		if err := apply(); err != nil {
			return nil, err
		}
		return buildKafkaSecurity(sc, file, osEnv)
	}
}
