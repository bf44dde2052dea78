package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/kafkaio"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/pgstore"
	"github.com/zs110/dispatch/web"
)

// serve runs the engine until ctx is cancelled: intake -> decide -> store -> push.
func serve(ctx context.Context, cfg *config, log *slog.Logger, out io.Writer) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// The HTTP port first: a port taken fails at once, before anything is
	// started or any console link printed.
	httpL, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("http address %s unavailable (another dispatchd, or set -http / DISPATCH_HTTP_ADDR): %w", cfg.HTTPAddr, err)
	}
	defer httpL.Close() //nolint:errcheck // Serve closed it already, or nothing was served

	sc, err := loadScenario(cfg.Scenario)
	if err != nil {
		return err
	}

	// Kafka: real brokers, or the embedded one.
	brokers := cfg.Brokers
	topics := []string{cfg.TopicIncidents, cfg.TopicUnits, cfg.TopicAssign, cfg.TopicDLQ}
	embedded := len(brokers) == 0
	if embedded {
		emb, err := kafkaio.StartEmbedded(ctx, cfg.EmbeddedKafka, topics, cfg.Partitions)
		if err != nil {
			return fmt.Errorf("embedded kafka: %w", err)
		}
		defer emb.Close()
		brokers = []string{emb.Addr()}
	} else {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := kafkaio.EnsureTopics(cctx, brokers, cfg.KafkaSecurity, topics, cfg.Partitions)
		cancel()
		if errors.Is(err, kafkaio.ErrSecurity) {
			return fmt.Errorf("kafka %v refused the connection: %w", brokers, err)
		}
		if err != nil {
			return fmt.Errorf("kafka %v unreachable: %w", brokers, err)
		}
		log.Info("kafka reachable", "component", "serve", "brokers", brokers, "security", cfg.KafkaSecurity.String())
	}

	// State: PostgreSQL, or memory.
	var (
		store dispatch.Store
		pg    *pgstore.Store
	)
	if cfg.DatabaseURL != "" {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		pg, err = pgstore.New(cctx, pgstore.Config{URL: cfg.DatabaseURL, Timeout: cfg.DBTimeout, Logger: log})
		cancel()
		if err != nil {
			return fmt.Errorf("database unreachable: %w", err)
		}
		store = pg
	} else {
		store = memstore.New(memstore.Config{})
	}
	defer store.Close()

	hub, err := web.NewHub(web.HubConfig{Source: store, Logger: log, Registerer: reg})
	if err != nil {
		return err
	}
	relay, err := kafkaio.NewRelay(kafkaio.RelayConfig{Brokers: brokers, Security: cfg.KafkaSecurity, Topic: cfg.TopicAssign, Outbox: store, Logger: log, Registerer: reg})
	if err != nil {
		return err
	}
	metrics := newEngineMetrics(reg)
	eng, err := dispatch.NewEngine(dispatch.EngineConfig{
		Scenario:    sc,
		Store:       store,
		Rank:        dispatch.RankConfig{CoverageWeightS: cfg.CoverageW, Policy: cfg.Policy},
		ConfirmFrom: cfg.ConfirmFrom,
		LinkRadiusM: cfg.LinkRadiusM,
		LinkWindow:  cfg.LinkWindow,
		Logger:      log,
		OnReload:    func(cause string) { metrics.reloads.WithLabelValues(cause).Inc() },
		FillOnClear: true,
		MoveUp:      cfg.MoveUp,
		Divert:      cfg.Divert,
		OnCommit: func(outs []*dispatch.Outcome) {
			metrics.observe(outs)
			hub.Notify()
			relay.Notify()
		},
	})
	if err != nil {
		return err
	}
	if err := eng.Start(ctx); err != nil {
		return fmt.Errorf("load state: %w", err)
	}
	consumer, err := kafkaio.NewConsumer(kafkaio.ConsumerConfig{
		Brokers: brokers, Security: cfg.KafkaSecurity, GroupID: cfg.GroupID, SessionTimeout: cfg.SessionTimeout,
		IncidentsTopic: cfg.TopicIncidents, UnitEventsTopic: cfg.TopicUnits, DLQTopic: cfg.TopicDLQ,
		Handler: handler{eng: eng, m: metrics}, Logger: log, Registerer: reg,
	})
	if err != nil {
		return err
	}

	tokens, err := openTokens(ctx, cfg, sc, pg, log)
	if err != nil {
		return err
	}
	escal, err := dispatch.NewEscalator(dispatch.EscalatorConfig{Engine: eng, After: cfg.AckTimeout, Logger: log})
	if err != nil {
		return err
	}
	srv, err := web.New(web.Config{
		Addr: cfg.HTTPAddr, Backend: backend{Engine: eng, store: store, consumer: consumer},
		Hub: hub, Tokens: tokens.store, Logger: log, Registerer: reg, Gatherer: reg, AllowedOrigins: cfg.Origins,
		TLSCertFile: cfg.TLSCert, TLSKeyFile: cfg.TLSKey,
	})
	if err != nil {
		return err
	}

	announce(out, cfg, consoleBase(httpL.Addr(), cfg.TLSCert != ""), brokers, embedded, tokens)
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return hub.Run(ctx) })
	g.Go(func() error { return relay.Run(ctx) })
	g.Go(func() error { return consumer.Run(ctx) })
	g.Go(func() error { return escal.Run(ctx) })
	g.Go(func() error { return srv.Serve(ctx, httpL) })
	g.Go(func() error { return tokens.sync.Run(ctx) })
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	if err != nil {
		log.Error("dispatchd stopped", "component", "serve", "err", err)
	} else {
		log.Info("dispatchd stopped", "component", "serve", "reason", "signal or shutdown")
	}
	return err
}

// consoleBase is the address a person can open for the console: the port
// bound, on 127.0.0.1 when the address listens on every interface
// (":18081", "0.0.0.0:18081", "[::]:18081").
func consoleBase(addr net.Addr, tls bool) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		host, port = addr.String(), ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// announce prints where things are: what a person starting `make run` needs.
func announce(out io.Writer, cfg *config, base string, brokers []string, embedded bool, tokens *tokenSetup) {
	fmt.Fprintln(out, "dispatchd is running.")
	if embedded {
		fmt.Fprintf(out, "  Kafka: embedded broker on %s (topics %s, %s in; %s, %s out)\n", brokers[0], cfg.TopicIncidents, cfg.TopicUnits, cfg.TopicAssign, cfg.TopicDLQ)
		fmt.Fprintln(out, "         NOT PERSISTENT: its records and offsets live in memory and are lost when dispatchd stops (set DISPATCH_KAFKA_BROKERS for a real cluster)")
	} else {
		fmt.Fprintf(out, "  Kafka: %v (%s)\n", brokers, cfg.KafkaSecurity)
	}
	if cfg.DatabaseURL == "" {
		fmt.Fprintln(out, "  State: IN MEMORY ONLY - NOT PERSISTENT: everything is lost when dispatchd stops (set DISPATCH_DATABASE_URL for PostgreSQL)")
	} else {
		fmt.Fprintln(out, "  State: PostgreSQL")
	}
	if len(tokens.printed) > 0 {
		fmt.Fprintf(out, "  Consoles (first tokens, saved as hashes in %s: the links are shown only now and keep working across restarts for %d days):\n", tokens.where, int(defaultTokenTTL.Hours()/24))
		for _, p := range tokens.printed {
			fmt.Fprintf(out, "    %-28s %s/?token=%s\n", p.label, base, url.QueryEscape(p.token))
		}
	} else {
		fmt.Fprintf(out, "  Consoles: tokens from %s (dispatchd token list; a new one: dispatchd token add --name NAME --role dispatcher)\n", tokens.where)
	}
	fmt.Fprintf(out, "  Metrics: %s/metrics  Health: %s/readyz\n", base, base)
}
