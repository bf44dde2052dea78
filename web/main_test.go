package web

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// pollUntil polls cond every few milliseconds until it holds or the timeout passes.
func pollUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond) // polling interval, not a wait for an effect
	}
}

// memSource is an in-memory event log: a slice under a mutex, seqs
// assigned on append (with an optional stride to leave holes, as a database
// sequence may).
type memSource struct {
	mu     sync.Mutex
	events []dispatch.Event
	next   int64
	stride int64
	fail   error // returned by EventsAfter when set
	reads  int
}

func newMemSource() *memSource { return &memSource{next: 1, stride: 1} }

func (m *memSource) append(evs ...dispatch.Event) []int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	seqs := make([]int64, len(evs))
	for i, ev := range evs {
		ev.Seq = m.next
		m.next += m.stride
		if ev.At.IsZero() {
			ev.At = time.Date(2013, 5, 31, 20, 0, 0, 0, time.UTC).Add(time.Duration(ev.Seq) * time.Second)
		}
		m.events = append(m.events, ev)
		seqs[i] = ev.Seq
	}
	return seqs
}

func (m *memSource) EventsAfter(_ context.Context, after int64, limit int) ([]dispatch.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if m.fail != nil {
		return nil, m.fail
	}
	i := sort.Search(len(m.events), func(i int) bool { return m.events[i].Seq > after })
	j := min(len(m.events), i+limit)
	return slices.Clone(m.events[i:j]), nil
}

func (m *memSource) last() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.events) == 0 {
		return 0
	}
	return m.events[len(m.events)-1].Seq
}

// testBackend is a small real engine for the HTTP layer: incidents, units
// and depots per world in slices, actions mutating them and appending
// events to the log like the engine does.
type testBackend struct {
	mu        sync.Mutex
	incidents map[string][]dispatch.IncidentRecord
	units     map[string][]teams.UnitView
	depots    map[string][]resources.DepotView
	log       *memSource
	notify    func()
	readyErr  error
	acts      []dispatch.Action
}

func (b *testBackend) Incidents(drill string) []dispatch.IncidentRecord {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []dispatch.IncidentRecord
	for _, r := range b.incidents[drill] {
		if r.State != dispatch.StateClosed && r.State != dispatch.StateCancelled {
			out = append(out, r)
		}
	}
	return out
}

func (b *testBackend) Incident(_ context.Context, drill, id string) (*dispatch.IncidentRecord, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.incidents[drill] {
		if r.ID == id {
			return &r, nil
		}
	}
	return nil, fmt.Errorf("incident %q: %w", id, dispatch.ErrNotFound)
}

func (b *testBackend) Units(drill string) []teams.UnitView {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.units[drill])
}

func (b *testBackend) Depots(drill string) []resources.DepotView {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.depots[drill])
}

func (b *testBackend) Ready(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.readyErr
}

// Act implements confirm, accept and en_route; others are refused as not
// allowed in this fixture's states.
func (b *testBackend) Act(_ context.Context, a dispatch.Action) (*dispatch.IncidentRecord, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.acts = append(b.acts, a)
	recs := b.incidents[a.Drill]
	k := slices.IndexFunc(recs, func(r dispatch.IncidentRecord) bool { return r.ID == a.Incident })
	if k < 0 {
		return nil, fmt.Errorf("incident %q: %w", a.Incident, dispatch.ErrNotFound)
	}
	rec := &recs[k]
	var ev dispatch.Event
	switch a.Kind {
	case dispatch.ActConfirm:
		if rec.State != dispatch.StateAwaiting {
			return nil, fmt.Errorf("confirm: incident is %s: %w", rec.State, dispatch.ErrBadAction)
		}
		rec.State = dispatch.StateDispatched
		for _, u := range rec.Rec.Units {
			rec.Assigned = append(rec.Assigned, u.UnitID)
		}
		ev = dispatch.Event{Kind: dispatch.EvIncidentDispatched, Town: rec.Town, Drill: a.Drill, Incident: rec.ID}
	case dispatch.ActAccept, dispatch.ActEnRoute:
		if !slices.Contains(rec.Assigned, a.Unit) {
			return nil, fmt.Errorf("unit %s not assigned: %w", a.Unit, dispatch.ErrBadAction)
		}
		us := b.units[a.Drill]
		i := slices.IndexFunc(us, func(u teams.UnitView) bool { return u.ID == a.Unit })
		if a.Team != "" && us[i].Team != a.Team {
			return nil, dispatch.ErrForbidden
		}
		if a.Kind == dispatch.ActAccept {
			rec.Accepted = append(rec.Accepted, a.Unit)
		} else {
			us[i].Status = "en_route"
		}
		ev = dispatch.Event{Kind: dispatch.EvIncidentUpdated, Town: rec.Town, Drill: a.Drill, Incident: rec.ID, Unit: a.Unit, Teams: []string{us[i].Team}}
	default:
		return nil, fmt.Errorf("%s not supported here: %w", a.Kind, dispatch.ErrBadAction)
	}
	rec.Version++
	b.log.append(ev)
	if b.notify != nil {
		b.notify()
	}
	cp := *rec
	return &cp, nil
}

func unitView(id, team, town string, status teams.Status) teams.UnitView {
	return teams.UnitView{Unit: teams.Unit{ID: id, Team: team}, Status: status, Town: town}
}

func pick(unit, team string) dispatch.UnitPick {
	return dispatch.UnitPick{UnitID: unit, Team: team}
}

// newTestBackend: live incidents in shiqi (fire + police), in dongqu
// (police), a manual one with no town, and one in drill "a".
func newTestBackend(src *memSource) *testBackend {
	inc := func(id, town, state string, picks ...dispatch.UnitPick) dispatch.IncidentRecord {
		return dispatch.IncidentRecord{Incident: dispatch.Incident{ID: id, Type: "fire.building"}, Town: town, State: state,
			Rec: &dispatch.Recommendation{Units: picks}, Version: 1}
	}
	b := &testBackend{log: src,
		incidents: map[string][]dispatch.IncidentRecord{
			"": {
				inc("I-SHIQI", "shiqi", dispatch.StateAwaiting, pick("FIRE-1", "fire"), pick("POL-1", "police")),
				inc("I-DONGQU", "dongqu", dispatch.StateAwaiting, pick("POL-2", "police")),
				inc("I-MANUAL", "", dispatch.StateManual),
			},
			"a": {inc("I-DRILL-A", "shiqi", dispatch.StateAwaiting, pick("FIRE-1", "fire"))},
		},
		units: map[string][]teams.UnitView{
			"":  {unitView("FIRE-1", "fire", "shiqi", "available"), unitView("POL-1", "police", "shiqi", "available"), unitView("POL-2", "police", "dongqu", "on_scene")},
			"a": {unitView("FIRE-1", "fire", "shiqi", "available")},
		},
		depots: map[string][]resources.DepotView{
			"": {
				{Depot: resources.Depot{ID: "DEP-CITY", Town: "dongqu", Kind: "city"}, Available: map[string]int{"sandbag": 100}},
				{Depot: resources.Depot{ID: "DEP-SHIQI", Town: "shiqi", Kind: "town"}, Available: map[string]int{"pump": 2}},
				{Depot: resources.Depot{ID: "DEP-DONGQU", Town: "dongqu", Kind: "town"}, Available: map[string]int{"tent": 5}},
			},
		},
	}
	return b
}

// env is a running server and hub over a memSource and a testBackend.
type env struct {
	t      testing.TB
	src    *memSource
	be     *testBackend
	hub    *Hub
	srv    *Server
	reg    *prometheus.Registry
	addr   string
	tokens map[string]string // console name -> plain token
	cancel context.CancelFunc
}

type envOpts struct {
	hub    func(*HubConfig)
	server func(*Config)
	// listen wraps the listener (socket buffer sizes for slow consumers).
	listen func(net.Listener) net.Listener
	// before is called with the source before the hub starts.
	before func(*memSource)
}

func newTokens(t testing.TB) (*TokenStore, map[string]string) {
	t.Helper()
	plain := map[string]string{}
	var entries []TokenEntry
	add := func(e TokenEntry) {
		p, g, err := GenerateToken(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		e.SHA256 = g.SHA256
		entries = append(entries, e)
		plain[e.Name] = p
	}
	future := time.Now().Add(time.Hour)
	add(TokenEntry{Name: "desk", Role: RoleDispatcher, Expires: future})
	add(TokenEntry{Name: "desk-2", Role: RoleDispatcher})
	add(TokenEntry{Name: "desk-shiqi", Role: RoleDispatcher, Towns: []string{"shiqi"}})
	add(TokenEntry{Name: "leader-fire", Role: RoleTeamLeader, Team: "fire"})
	add(TokenEntry{Name: "leader-police", Role: RoleTeamLeader, Team: "police"})
	add(TokenEntry{Name: "drill-a", Role: RoleDrill, Drill: "a"})
	add(TokenEntry{Name: "drill-b", Role: RoleDrill, Drill: "b"})
	add(TokenEntry{Name: "old", Role: RoleDispatcher, Expires: time.Now().Add(-time.Minute)})
	ts, err := NewTokenStore(entries)
	if err != nil {
		t.Fatal(err)
	}
	return ts, plain
}

func startEnv(t testing.TB, o envOpts) *env {
	t.Helper()
	src := newMemSource()
	if o.before != nil {
		o.before(src)
	}
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hc := HubConfig{Source: src, Logger: log, Registerer: reg, Poll: 20 * time.Millisecond}
	if o.hub != nil {
		o.hub(&hc)
	}
	hub, err := NewHub(hc)
	if err != nil {
		t.Fatal(err)
	}
	be := newTestBackend(src)
	be.notify = hub.Notify
	tokens, plain := newTokens(t)
	sc := Config{Backend: be, Hub: hub, Tokens: tokens, Logger: log, Registerer: reg, Gatherer: reg}
	if o.server != nil {
		o.server(&sc)
	}
	srv, err := New(sc)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if o.listen != nil {
		l = o.listen(l)
	}
	ctx, cancel := context.WithCancel(context.Background())
	hubDone, srvDone := make(chan error, 1), make(chan error, 1)
	go func() { hubDone <- hub.Run(ctx) }()
	go func() { srvDone <- srv.Serve(ctx, l) }()
	e := &env{t: t, src: src, be: be, hub: hub, srv: srv, reg: reg, addr: addr, tokens: plain, cancel: cancel}
	t.Cleanup(func() {
		cancel()
		if err := <-srvDone; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := <-hubDone; err != nil {
			t.Errorf("hub: %v", err)
		}
	})
	pollUntil(t, 5*time.Second, "ready", func() bool {
		select {
		case <-hub.started:
			return true
		default:
			return false
		}
	})
	return e
}

// counter reads a metric from the env's registry.
func (e *env) counter(name string, labels ...string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue metrics
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// request makes an HTTP request with a Bearer token ("" = none).
func (e *env) request(method, path, token string, body string, hdr map[string]string) (*http.Response, string) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+e.addr+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, string(b)
}

// getJSON GETs path as a console and decodes the answer into v.
func (e *env) getJSON(path, console string, v any) int {
	e.t.Helper()
	resp, body := e.request("GET", path, e.tokens[console], "", nil)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			e.t.Fatalf("GET %s: %v: %s", path, err, body)
		}
	}
	return resp.StatusCode
}

var errBoom = errors.New("boom")
