package dispatch_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/scenario"
)

// BenchmarkWriteStepHistory: the cost of the history in the write step.
// One op is two steps on memstore: a P1 decided and dispatched (Process),
// then cancelled by a dispatcher (Act), with and without the history, in
// the same process:
//
//	go test -run XXX -bench BenchmarkWriteStepHistory -count 6 ./dispatch/
func BenchmarkWriteStepHistory(b *testing.B) {
	sc, err := scenario.Default()
	if err != nil {
		b.Fatal(err)
	}
	for _, off := range []bool{false, true} {
		b.Run(fmt.Sprintf("history=%v", !off), func(b *testing.B) {
			now := t0
			eng, err := dispatch.NewEngine(dispatch.EngineConfig{Scenario: sc, Store: memstore.New(memstore.Config{KeepEvents: 1 << 16, KeepClosed: 1024}),
				Clock: func() time.Time { return now }, NoHistory: off})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if err := eng.Start(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				now = now.Add(time.Second)
				id := fmt.Sprintf("B-%d", i)
				if _, err := eng.Process(ctx, []dispatch.Incident{inc(id, "fire.building", shiqiLat+float64(i%50)*0.002, shiqiLng, now)}, nil); err != nil {
					b.Fatal(err)
				}
				if _, err := eng.Act(ctx, dispatch.Action{Kind: dispatch.ActCancel, Incident: id, Reason: "drill", By: "bench", Role: dispatch.RoleDispatcher}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
