package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/kafkaio"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/web"
)

func loadScenario(path string) (*scenario.Scenario, error) {
	if path == "" {
		return scenario.Default()
	}
	return scenario.Load(path)
}

// handler feeds consumed batches to the engine.
type handler struct {
	eng *dispatch.Engine
	m   *engineMetrics
}

// Handle implements kafkaio.Handler: it returns once the batch is durable.
func (h handler) Handle(ctx context.Context, b *kafkaio.Batch) ([]dispatch.Reject, error) {
	start := time.Now()
	rej, err := h.eng.Process(ctx, b.Incidents, b.Units)
	if err != nil {
		return nil, err
	}
	h.m.batch(len(b.Incidents), time.Since(start))
	return rej, nil
}

// backend is what the web server asks of the engine.
type backend struct {
	*dispatch.Engine
	store    dispatch.Store
	consumer *kafkaio.Consumer
}

// Ready reports whether the database and Kafka are reachable.
func (b backend) Ready(ctx context.Context) error {
	if err := b.store.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if err := b.consumer.Ready(); err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	return nil
}

// engineMetrics are the decision-side metrics.
type engineMetrics struct {
	decisions *prometheus.CounterVec
	latency   prometheus.Histogram
	reloads   *prometheus.CounterVec
}

func newEngineMetrics(reg prometheus.Registerer) *engineMetrics {
	m := &engineMetrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dispatch_decisions_total", Help: "Incident decisions made, by resulting state.",
		}, []string{"state"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dispatch_decision_batch_seconds",
			Help:    "Time to decide and durably store one intake batch.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dispatch_engine_reloads_total",
			Help: "Times the engine rebuilt its memory from the database, by cause (conflict: another instance wrote first; stale: a refused input tried again; error).",
		}, []string{"cause"}),
	}
	reg.MustRegister(m.decisions, m.latency, m.reloads)
	return m
}

func (m *engineMetrics) observe(outs []*dispatch.Outcome) {
	for _, o := range outs {
		if o.NewIncident && o.Incident != nil {
			m.decisions.WithLabelValues(o.Incident.State).Inc()
		}
	}
}

func (m *engineMetrics) batch(n int, d time.Duration) {
	if n > 0 {
		m.latency.Observe(d.Seconds())
	}
}

type printedToken struct {
	label string
	token string
}

// loadTokens reads the token file, or makes fresh tokens (one per role and
// team) when there is none, returning them to print.
func loadTokens(path string, sc *scenario.Scenario, rnd io.Reader) (*web.TokenStore, []printedToken, error) {
	if path != "" {
		entries, err := web.LoadTokens(path)
		if err != nil {
			return nil, nil, err
		}
		ts, err := web.NewTokenStore(entries)
		return ts, nil, err
	}
	var (
		entries []web.TokenEntry
		printed []printedToken
	)
	add := func(label string, fill func(e *web.TokenEntry)) error {
		plain, e, err := web.GenerateToken(rnd)
		if err != nil {
			return err
		}
		fill(&e)
		entries = append(entries, e)
		printed = append(printed, printedToken{label, plain})
		return nil
	}
	errs := []error{add("dispatcher (all towns)", func(e *web.TokenEntry) { e.Name, e.Role = "dispatcher", web.RoleDispatcher })}
	for _, t := range sc.Teams {
		errs = append(errs, add("team leader "+t.ID, func(e *web.TokenEntry) { e.Name, e.Role, e.Team = "leader-"+t.ID, web.RoleTeamLeader, t.ID }))
	}
	errs = append(errs, add("drill planner (drill demo)", func(e *web.TokenEntry) { e.Name, e.Role, e.Drill = "drill-demo", web.RoleDrill, "demo" }))
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	ts, err := web.NewTokenStore(entries)
	return ts, printed, err
}

// tokenCmd makes one token and prints it with its hashed file entry.
func tokenCmd(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("dispatchd token", flag.ContinueOnError)
	name := fs.String("name", "", "console name (logged instead of the token)")
	role := fs.String("role", web.RoleDispatcher, "dispatcher, team_leader or drill")
	team := fs.String("team", "", "team id (team_leader)")
	drill := fs.String("drill", "", "drill id (drill)")
	towns := fs.String("towns", "", "comma-separated town codes (dispatcher; empty = all)")
	ttl := fs.Duration("ttl", 24*time.Hour*90, "validity")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return web.PrintToken(out, web.TokenRequest{Name: *name, Role: *role, Team: *team, Drill: *drill, Towns: *towns, TTL: *ttl})
}
