package dispatch_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
)

// sameViews fails unless e's read views (units, open incidents, depots)
// are those of an engine freshly loaded from the store: the brute-force
// oracle of a replica kept fresh from the log.
func sameViews(t *testing.T, what string, e *dispatch.Engine, cfg dispatch.EngineConfig) {
	t.Helper()
	cfg.OnReload, cfg.OnRefresh = nil, nil
	fresh, err := dispatch.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := e.Units(""), fresh.Units(""); !reflect.DeepEqual(got, want) {
		for i := range got {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("%s: unit %s is %+v, the store has %+v", what, got[i].ID, got[i], want[i])
			}
		}
	}
	if err := e.CheckBacklog(""); err != nil { // the count of missing units followed too
		t.Fatalf("%s: %v", what, err)
	}
	got, want := e.Incidents(""), fresh.Incidents("")
	if len(got) != len(want) {
		t.Fatalf("%s: %d open incidents, the store has %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].Version != want[i].Version || got[i].State != want[i].State {
			t.Fatalf("%s: incident %d is %s v%d %s, the store has %s v%d %s", what, i, got[i].ID, got[i].Version, got[i].State,
				want[i].ID, want[i].Version, want[i].State)
		}
	}
	if g, w := e.Depots(""), fresh.Depots(""); !reflect.DeepEqual(g, w) {
		t.Fatalf("%s: depots differ from the store's", what)
	}
}

// counter counts an engine's whole reloads and its refreshes by cause.
type counter struct {
	mu        sync.Mutex
	reloads   map[string]int
	refreshes map[string]int
	rows      map[string]int
}

func newCounter() *counter {
	return &counter{reloads: map[string]int{}, refreshes: map[string]int{}, rows: map[string]int{}}
}

func (c *counter) hook(cfg *dispatch.EngineConfig) {
	cfg.OnReload = func(cause string) { c.mu.Lock(); c.reloads[cause]++; c.mu.Unlock() }
	cfg.OnRefresh = func(r dispatch.Refresh) {
		c.mu.Lock()
		c.refreshes[r.Cause]++
		c.rows[r.Cause] += r.Rows
		c.mu.Unlock()
	}
}

func (c *counter) snapshot() (reloads, refreshes, rows map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := func(m map[string]int) map[string]int {
		out := map[string]int{}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	return cp(c.reloads), cp(c.refreshes), cp(c.rows)
}

func newReplica(t *testing.T, cfg dispatch.EngineConfig, c *counter) *dispatch.Engine {
	t.Helper()
	if c != nil {
		c.hook(&cfg)
	}
	e, err := dispatch.NewEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestReplicasFollowTheLog: engine a writes (decides incidents of every
// kind, its units report, dispatchers cancel), engine b on the same store
// only follows the log: after each of b's FollowOnce its views are those
// of an engine freshly loaded from the store, and it never reloads.
func TestReplicasFollowTheLog(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			f := newFixture(t, nil)
			c := newCounter()
			b := newReplica(t, f.cfg, c)
			rng := rand.New(rand.NewPCG(seed, 7))
			types := []string{"fire.building", "flooding", "theft", "fire.building"}
			var open []string
			next := map[string]string{"dispatched": "en_route", "en_route": "on_scene", "on_scene": "available"}
			for step := range 60 {
				f.now = f.now.Add(time.Duration(30+rng.IntN(90)) * time.Second)
				var what string
				switch r := rng.IntN(10); {
				case r < 4 || len(open) == 0:
					id := fmt.Sprintf("F%d", step)
					lat, lng := shiqiLat+(rng.Float64()-0.5)*0.2, shiqiLng+(rng.Float64()-0.5)*0.2
					f.process(inc(id, types[rng.IntN(len(types))], lat, lng, f.now))
					open = append(open, id)
					what = "decide " + id
				case r < 9:
					id := open[rng.IntN(len(open))]
					rec, err := f.eng.Incident(context.Background(), "", id)
					if err != nil || len(rec.Assigned) == 0 {
						continue
					}
					u := rec.Assigned[rng.IntN(len(rec.Assigned))]
					st := f.unitStatus(u)
					if next[st] == "" {
						continue
					}
					report(t, f.eng, u, next[st], id, f.now)
					what = fmt.Sprintf("%s %s on %s", u, next[st], id)
				default:
					i := rng.IntN(len(open))
					id := open[i]
					open = append(open[:i], open[i+1:]...)
					if _, err := f.act(dispatch.Action{Kind: dispatch.ActCancel, Incident: id, Reason: "test"}); err != nil {
						continue // closed already
					}
					what = "cancel " + id
				}
				if err := b.FollowOnce(context.Background()); err != nil {
					t.Fatal(err)
				}
				sameViews(t, fmt.Sprintf("step %d (%s)", step, what), b, f.cfg)
			}
			reloads, refreshes, rows := c.snapshot()
			if len(reloads) != 0 || refreshes[dispatch.RefreshFollow] == 0 {
				t.Fatalf("reloads %v, refreshes %v: want none and some", reloads, refreshes)
			}
			t.Logf("b: %d refreshes, %d rows set", refreshes[dispatch.RefreshFollow], rows[dispatch.RefreshFollow])
		})
	}
}

// TestFollowRuns: Follow, run as a loop, brings a replica up to date
// within a few ticks and returns when its context ends.
func TestFollowRuns(t *testing.T) {
	f := newFixture(t, nil)
	b := newReplica(t, f.cfg, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Follow(ctx) }()
	f.process(inc("X", "fire.building", shiqiLat, shiqiLng, t0))
	pollUntil(t, 5*time.Second, "b sees X", func() bool {
		r, err := b.Incident(context.Background(), "", "X")
		return err == nil && r.State == dispatch.StateDispatched && len(b.Incidents("")) == 1
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// injecting is a store that lets another writer in right after the next
// Changes call: the write lands between a step's refresh and its commit.
type injecting struct {
	dispatch.Store
	mu     sync.Mutex
	before func()
}

func (s *injecting) Changes(ctx context.Context, drill string, after int64, want dispatch.Want) (*dispatch.Changes, error) {
	ch, err := s.Store.Changes(ctx, drill, after, want)
	s.mu.Lock()
	fn := s.before
	s.before = nil
	s.mu.Unlock()
	if fn != nil {
		fn()
	}
	return ch, err
}

// TestConflictRefreshesRows: another engine takes the units b is about to
// send, between b's refresh and its commit. The store refuses b's write;
// b sets back only the rows its write named and reads the other's from
// the log, decides again with other units, and never reloads its world.
func TestConflictRefreshesRows(t *testing.T) {
	tests := []struct {
		name      string
		typ       string
		otherType string
	}{
		{"units taken", "fire.building", "fire.building"},
		{"units and stock taken", "flooding", "flooding"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			inj := &injecting{Store: f.store}
			cfg := f.cfg
			cfg.Store = inj
			c := newCounter()
			b := newReplica(t, cfg, c)
			inj.before = func() { f.process(inc("A1", tc.otherType, shiqiLat, shiqiLng, t0)) }
			if _, err := b.Process(context.Background(), []dispatch.Incident{inc("B1", tc.typ, shiqiLat+0.003, shiqiLng, t0)}, nil); err != nil {
				t.Fatal(err)
			}
			reloads, refreshes, rows := c.snapshot()
			if len(reloads) != 0 || refreshes[dispatch.RefreshConflict] != 1 {
				t.Fatalf("reloads %v, refreshes %v: want no reload, one conflict refresh", reloads, refreshes)
			}
			// The rows set back: B1, its units, the stock levels; not the fleet.
			if n := rows[dispatch.RefreshConflict]; n == 0 || n > 40 {
				t.Fatalf("a conflict set %d rows", n)
			}
			a1, err := b.Incident(context.Background(), "", "A1")
			if err != nil {
				t.Fatal(err)
			}
			b1, err := b.Incident(context.Background(), "", "B1")
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range b1.Assigned {
				for _, v := range a1.Assigned {
					if u == v {
						t.Fatalf("unit %s on A1 and B1", u)
					}
				}
			}
			sameViews(t, "after the conflict", b, f.cfg)
		})
	}
}

// TestLinkAcrossReplicas: a duplicate call reaching another instance than
// the one that decided its incident is linked to it, as on one instance;
// closing the incident there closes the linked call too.
func TestLinkAcrossReplicas(t *testing.T) {
	tests := []struct {
		name   string
		follow bool // b has followed the log before the call (else: its step's refresh)
	}{
		{"after follow", true},
		{"at the step", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			c := newCounter()
			b := newReplica(t, f.cfg, c)
			f.process(inc("X", "fire.building", shiqiLat, shiqiLng, t0))
			if tc.follow {
				if err := b.FollowOnce(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := b.Process(context.Background(), []dispatch.Incident{inc("X2", "fire.building", shiqiLat+0.0003, shiqiLng, t0.Add(time.Minute))}, nil); err != nil {
				t.Fatal(err)
			}
			if r, err := f.store.Incident(context.Background(), "", "X2"); err != nil || r.State != dispatch.StateLinked || r.LinkedTo != "X" {
				t.Fatalf("X2 is %+v (%v), want linked to X", r, err)
			}
			if _, err := f.act(dispatch.Action{Kind: dispatch.ActCancel, Incident: "X", Reason: "test"}); err != nil {
				t.Fatal(err)
			}
			if r, err := f.store.Incident(context.Background(), "", "X2"); err != nil || r.State != dispatch.StateCancelled {
				t.Fatalf("X2 is %+v (%v), want cancelled with X", r, err)
			}
			if reloads, _, _ := c.snapshot(); len(reloads) != 0 {
				t.Fatalf("reloads %v", reloads)
			}
			if err := b.FollowOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			sameViews(t, "after the cancel", b, f.cfg)
		})
	}
}

// pollUntil polls cond until it holds or timeout passes.
func pollUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for: %s", timeout, what)
		}
		runtime.Gosched()
		<-time.After(time.Millisecond)
	}
}

// TestFollowGapReloads: a replica further behind than the store's log
// keeps (memstore's KeepEvents) reloads its world whole, once, and is then
// as fresh as the store.
func TestFollowGapReloads(t *testing.T) {
	f := newFixture(t, nil)
	f.store = memstore.New(memstore.Config{KeepEvents: 4})
	f.cfg.Store = f.store
	f.restart()
	c := newCounter()
	b := newReplica(t, f.cfg, c)
	f.process(inc("X", "fire.building", shiqiLat, shiqiLng, t0)) // more than 4 events
	if err := b.FollowOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if reloads, _, _ := c.snapshot(); reloads[dispatch.ReloadGap] != 1 || len(reloads) != 1 {
		t.Fatalf("reloads %v, want one for the gap", reloads)
	}
	sameViews(t, "after the gap", b, f.cfg)
}

// TestRefusedReportRefreshes: a report refused against memory that another
// engine changed after the step's refresh (it dispatched the unit) is taken
// again once memory is refreshed, and the batch's earlier changes, undone
// in memory for the second try, are written once: nothing is lost.
func TestRefusedReportRefreshes(t *testing.T) {
	scratch := newFixture(t, nil) // the same scenario and clock: the unit a will send
	scratch.process(inc("X", "fire.building", shiqiLat, shiqiLng, t0))
	u := scratch.get("X").Assigned[0]
	var v string // another unit, free: its report comes first in the batch
	for _, x := range scratch.eng.Units("") {
		if x.Status == "available" && x.ID != u {
			v = x.ID
			break
		}
	}
	f := newFixture(t, nil)
	inj := &injecting{Store: f.store}
	cfg := f.cfg
	cfg.Store = inj
	c := newCounter()
	b := newReplica(t, cfg, c)
	inj.before = func() { f.process(inc("X", "fire.building", shiqiLat, shiqiLng, t0)) }
	rej, err := b.Process(context.Background(), nil, []dispatch.UnitEvent{
		{UnitID: v, Status: "out_of_service", At: t0.Add(time.Second)},
		{UnitID: u, Status: "en_route", Incident: "X", At: t0.Add(2 * time.Second)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rej) != 0 {
		t.Fatalf("refused: %v", rej[0].Err)
	}
	reloads, refreshes, _ := c.snapshot()
	if len(reloads) != 0 || refreshes[dispatch.RefreshStale] == 0 {
		t.Fatalf("reloads %v, refreshes %v: want a refresh at the refusal, no reload", reloads, refreshes)
	}
	snap, err := f.store.Load(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range snap.Units {
		if want := map[string]string{u: "en_route", v: "out_of_service"}[x.ID]; want != "" && string(x.Status) != want {
			t.Errorf("unit %s is %s in the store, want %s", x.ID, x.Status, want)
		}
	}
	sameViews(t, "after the refusal", b, f.cfg)
}
