package pgstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/scenario"
)

// BenchmarkReload: what one engine reload costs (the world read back from
// PostgreSQL: units, stock, reservations and every open incident), by how
// many incidents are open. With several instances a reload follows every
// conflict and every report refused against stale memory
// (docs/architecture.md, "Scaling past one machine").
func BenchmarkReload(b *testing.B) {
	sc, err := scenario.Default()
	if err != nil {
		b.Fatal(err)
	}
	for _, open := range []int{0, 1000, 10000} {
		b.Run(fmt.Sprintf("open=%d", open), func(b *testing.B) {
			s := newStore(b)
			defer s.Close()
			ctx := context.Background()
			// P1-P4 all wait for a dispatcher: incidents stay open, units free.
			cfg := dispatch.EngineConfig{Scenario: sc, Store: s, ConfirmFrom: 1, LinkRadiusM: -1, Logger: quiet}
			eng, err := dispatch.NewEngine(cfg)
			if err != nil {
				b.Fatal(err)
			}
			if err := eng.Start(ctx); err != nil {
				b.Fatal(err)
			}
			at := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
			for i := 0; i < open; i += 500 {
				var batch []dispatch.Incident
				for j := i; j < min(i+500, open); j++ {
					batch = append(batch, dispatch.Incident{ID: fmt.Sprintf("R-%06d", j), Type: "theft", ReportedAt: at,
						Lat: 22.45 + float64(j%97)/1000, Lng: 113.30 + float64(j%89)/1000, HasLocation: true})
				}
				if _, err := eng.Process(ctx, batch, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				e, err := dispatch.NewEngine(cfg)
				if err != nil {
					b.Fatal(err)
				}
				if err := e.Start(ctx); err != nil {
					b.Fatal(err)
				}
				if n := len(e.Incidents("")); n != open {
					b.Fatalf("%d open after reload, want %d", n, open)
				}
			}
		})
	}
}
