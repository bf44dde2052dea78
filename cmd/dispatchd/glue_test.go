package main

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/geo"
)

// TestETAErrorMetric: the arrived units' trips feed
// dispatch_eta_error_ratio by source; dropped trips do not.
func TestETAErrorMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newEngineMetrics(reg)
	m.observe([]*dispatch.Outcome{{Trips: []dispatch.Trip{
		{ActualS: 100, PredictedS: 80, Source: geo.SourceModel},
		{ActualS: 100, PredictedS: 130, Source: geo.SourceLearned},
		{ActualS: 200, PredictedS: 190, Source: geo.SourceLearned},
		{ActualS: 5, PredictedS: 300, Source: geo.SourceModel, Bad: "bad trip: moved 0 m"},
	}}})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "dispatch_eta_error_ratio" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			h := mt.GetHistogram()
			got[mt.GetLabel()[0].GetValue()] = [2]float64{float64(h.GetSampleCount()), h.GetSampleSum()}
		}
	}
	want := map[string][2]float64{"model": {1, 0.2}, "learned": {2, 0.35}}
	for k, w := range want {
		if g := got[k]; g[0] != w[0] || g[1] < w[1]-1e-9 || g[1] > w[1]+1e-9 {
			t.Fatalf("%s: count and sum %v, want %v (all %v)", k, g, w, got)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("sources %v", got)
	}
}
