package main

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/kafkaio"
	"github.com/zs110/dispatch/dispatch/scenario"
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
	refreshes *prometheus.CounterVec
	rows      *prometheus.CounterVec
	lag       prometheus.Histogram
	etaError  *prometheus.HistogramVec
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
			Help: "Times the engine rebuilt its whole memory from the database after start, by cause (error: a write that may have committed; gap: the log could not fill the gap; conflict, stale: setting a refused write's rows back failed).",
		}, []string{"cause"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dispatch_engine_refreshes_total",
			Help: "Refreshes of the engine's memory from the database's log that found something, by cause (follow: the follow tick; step: a step's start; conflict: a refused write's rows set back; stale: a refused input).",
		}, []string{"cause"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dispatch_engine_refreshed_rows_total",
			Help: "Rows (units, incidents, stock levels) a refresh set in memory, by cause.",
		}, []string{"cause"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dispatch_engine_replica_lag_seconds",
			Help:    "How long before a refresh the oldest of the other instances' events it applied was committed.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		etaError: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dispatch_eta_error_ratio",
			Help:    "ETA error of arrived units: |predicted - actual| / actual travel time (en route to on scene), by the source of the prediction (model, learned, matrix).",
			Buckets: []float64{0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2},
		}, []string{"source"}),
	}
	reg.MustRegister(m.decisions, m.latency, m.reloads, m.refreshes, m.rows, m.lag, m.etaError)
	return m
}

func (m *engineMetrics) observe(outs []*dispatch.Outcome) {
	for _, o := range outs {
		if o.NewIncident && o.Incident != nil {
			m.decisions.WithLabelValues(o.Incident.State).Inc()
		}
		for i := range o.Trips {
			if t := &o.Trips[i]; t.ActualS > 0 && t.Bad == "" {
				m.etaError.WithLabelValues(t.Source.String()).Observe(math.Abs(t.PredictedS-t.ActualS) / t.ActualS)
			}
		}
	}
}

// refresh is dispatch.EngineConfig.OnRefresh.
func (m *engineMetrics) refresh(r dispatch.Refresh) {
	m.refreshes.WithLabelValues(r.Cause).Inc()
	m.rows.WithLabelValues(r.Cause).Add(float64(r.Rows))
	if r.Events > 0 {
		m.lag.Observe(r.Lag.Seconds())
	}
}

func (m *engineMetrics) batch(n int, d time.Duration) {
	if n > 0 {
		m.latency.Observe(d.Seconds())
	}
}

// printedToken is a console token made at start, printed once.
type printedToken struct {
	label string
	token string
}
