package web

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
)

// BenchmarkFanOut: one event appended to the log and delivered over real
// loopback websockets to every connected console (ns/op is per event, all
// consoles served).
func BenchmarkFanOut(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("consoles=%d", n), func(b *testing.B) {
			e := startEnv(b, envOpts{hub: func(c *HubConfig) { c.SendQueue = 1 << 16; c.Poll = time.Second }})
			clients := make([]*client, n)
			for i := range clients {
				clients[i] = e.console("desk", 0)
				c := clients[i]
				c.until("ready", func() bool { return c.ready >= 0 })
			}
			evs := make([]dispatch.Event, 100)
			for i := range evs {
				evs[i] = dispatch.Event{Kind: dispatch.EvIncidentDispatched, Town: "shiqi", Teams: []string{"fire", "police"}, Incident: fmt.Sprint("ZS110-", i)}
			}
			b.ResetTimer()
			var wg sync.WaitGroup
			for _, c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for len(c.got) < b.N {
						if _, err := c.next(); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			for i := 0; i < b.N; i += len(evs) {
				e.src.append(evs[:min(len(evs), b.N-i)]...)
				e.hub.Notify()
			}
			wg.Wait()
		})
	}
}

// BenchmarkVisible: the role filter for a town-limited dispatcher.
func BenchmarkVisible(b *testing.B) {
	p := Principal{Role: RoleDispatcher, Towns: []string{"shiqi", "dongqu", "xiqu", "nanqu"}}
	ev := dispatch.Event{Kind: "k", Town: "nanqu", Teams: []string{"fire"}}
	n := 0
	for b.Loop() {
		if Visible(p, ev) {
			n++
		}
	}
	if n == 0 {
		b.Fatal("not visible")
	}
}
