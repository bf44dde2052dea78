package drill

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// t0 is 10:00 in Zhongshan: every speed multiplier of the test scenario is 1.
var t0 = time.Date(2013, 1, 1, 10, 0, 0, 0, cst)

// station is where every unit of the hand-built scenario lives.
var station = geo.Point{Lat: 22.5, Lng: 113.4}

// north returns the point d metres due north of the station (negative:
// south): along a meridian the great-circle distance is exactly R x dlat.
func north(d float64) geo.Point {
	return geo.Point{Lat: station.Lat + d/(geo.EarthRadiusM*math.Pi/180), Lng: station.Lng}
}

// handScenario is one town, cars at 36 km/h (10 m/s) with no detour, and
// two types with a 10-minute service time: theft (P3) and a P1 call, each
// needing one patrol unit.
func handScenario(units []teams.Unit, reserveDelayS float64) *scenario.Scenario {
	return &scenario.Scenario{
		Name:     "hand",
		Towns:    []geo.Town{{Code: "t", NameEN: "Town", Kind: "urban district", Center: station, Population: 1000}},
		Teams:    []teams.Team{{ID: "police", Kind: teams.KindProfessional}, {ID: "militia", Kind: teams.KindReserve, ActivationDelayS: reserveDelayS}},
		Stations: []teams.Station{{ID: "S1", Town: "t", Location: station}},
		Units:    units,
		Items:    []resources.Item{{Code: "kit"}},
		Depots:   []resources.Depot{{ID: "D1", Town: "t", Kind: "town", Location: station, PrepS: 0, Stock: map[string]int{"kit": 3}}},
		ETA:      geo.ETAConfig{DetourFactor: 1, Profiles: map[string]geo.SpeedProfile{"car": {SpeedKmh: 36}}},
		Types: []scenario.IncidentType{
			{Code: "theft", Family: "property", Priority: 3, ServiceS: 600, Plan: scenario.Plan{Units: []scenario.Requirement{{Capability: "patrol", Count: 1}}}},
			{Code: "urgent", Family: "urgent", Priority: 1, ServiceS: 600, Plan: scenario.Plan{Units: []scenario.Requirement{{Capability: "patrol", Count: 1}},
				Materials: map[string]int{"kit": 2}}},
			{Code: "unknown", Family: "unknown", Priority: 2, ServiceS: 600, Plan: scenario.Plan{Units: []scenario.Requirement{{Capability: "patrol", Count: 1}}}},
		},
		Fallback: "unknown",
		Targets:  [4]float64{600, 900, 1800, 3600},
	}
}

func patrol(id, team string) teams.Unit {
	return teams.Unit{ID: id, Team: team, Capabilities: []string{"patrol"}, Station: "S1", Profile: "car", Crew: 2}
}

func callAt(id, typ string, after time.Duration, p geo.Point) dispatch.Incident {
	return dispatch.Incident{ID: id, Type: typ, ReportedAt: t0.Add(after), Lat: p.Lat, Lng: p.Lng, HasLocation: true}
}

// TestHandBuiltReplay replays a few calls whose response times are worked
// out by hand: turnout 60 s, then distance / 10 m/s; service 600 s; the
// drive back at 10 m/s.
func TestHandBuiltReplay(t *testing.T) {
	cases := []struct {
		name    string
		units   []teams.Unit
		calls   []dispatch.Incident
		restock time.Duration
		// response (s) per incident, call to first unit on scene
		want     map[string]float64
		wantWait map[string]float64 // call to first unit assigned, for those that waited
		queued   int
		reserves int
		busyS    float64 // police + militia unit-seconds away from the station
		spanS    float64
		kitsEnd  int
		short    int // incidents short of kits
	}{
		{
			// I1 (1 km north) takes PAT-1 (tie on ETA: lower id), I2 (2 km)
			// PAT-2; I3 (500 m south) finds no unit and waits. PAT-1: on scene
			// 0+60+100 = 160, clears at 760, back at 860, is sent to I3 at
			// once: on scene 860+60+50 = 970, i.e. 950 s after the call.
			// PAT-2: on scene 10+60+200 = 270, back at 870+200 = 1070.
			// PAT-1 again: clears at 1570, back at 1620.
			name:  "queue",
			units: []teams.Unit{patrol("PAT-1", "police"), patrol("PAT-2", "police")},
			calls: []dispatch.Incident{callAt("I1", "theft", 0, north(1000)), callAt("I2", "theft", 10*time.Second, north(2000)),
				callAt("I3", "urgent", 20*time.Second, north(-500))},
			want:     map[string]float64{"I1": 160, "I2": 260, "I3": 950},
			wantWait: map[string]float64{"I3": 840},
			queued:   1,
			busyS:    860 + 760 + (1070 - 10),
			spanS:    1620,
			kitsEnd:  1, // I3 used 2 of 3
		},
		{
			// With a reserve (activation 300 s) at the station, I3 gets it at
			// once: on scene 20+60+50+300 = 430, response 410. It clears at
			// 1030 and is back at 1080; PAT-2 is the last back, at 1070... and
			// PAT-1 at 860.
			name:  "reserve",
			units: []teams.Unit{patrol("PAT-1", "police"), patrol("PAT-2", "police"), patrol("MIL-1", "militia")},
			calls: []dispatch.Incident{callAt("I1", "theft", 0, north(1000)), callAt("I2", "theft", 10*time.Second, north(2000)),
				callAt("I3", "urgent", 20*time.Second, north(-500))},
			want:     map[string]float64{"I1": 160, "I2": 260, "I3": 410},
			reserves: 1,
			busyS:    860 + (1070 - 10) + (1080 - 20),
			spanS:    1080,
			kitsEnd:  1,
		},
		{
			// Two urgent calls want 2 kits each, 3 in stock: the second is
			// short of 1 and the restock a day later brings the depot back
			// to 3 (both consumed: 2 left after the first, 0 reserved).
			name:    "stock",
			units:   []teams.Unit{patrol("PAT-1", "police"), patrol("PAT-2", "police")},
			calls:   []dispatch.Incident{callAt("I1", "urgent", 0, north(1000)), callAt("I2", "urgent", 0, north(2000)), callAt("I9", "theft", 48*time.Hour, north(1000))},
			restock: 24 * time.Hour,
			want:    map[string]float64{"I1": 160, "I2": 260, "I9": 160},
			busyS:   860 + 1060 + 860,
			spanS:   48*3600 + 860,
			kitsEnd: 3,
			short:   1,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc := handScenario(c.units, 300)
			store := memstore.New(Retention())
			restock := c.restock
			if restock == 0 {
				restock = -1
			}
			d, err := New(Config{Scenario: sc, Store: store, Drill: "hand", Turnout: time.Minute, ServiceSigma: -1, RestockEvery: restock, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			res, err := d.Run(context.Background(), &SliceSource{Incidents: c.calls})
			if err != nil {
				t.Fatal(err)
			}
			for id, want := range c.want {
				rec, err := store.Incident(context.Background(), "hand", id)
				if err != nil {
					t.Fatal(err)
				}
				if rec.State != dispatch.StateClosed {
					t.Errorf("%s is %s, want closed", id, rec.State)
				}
				if got := rec.FirstOnSceneAt.Sub(rec.ReportedAt).Seconds(); math.Abs(got-want) > 1e-6 {
					t.Errorf("%s: response %.6f s, want %.0f", id, got, want)
				}
			}
			rep, err := res.Report(ReportConfig{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Queue.Queued != c.queued || rep.Queue.Waited != len(c.wantWait) {
				t.Errorf("queued %d waited %d, want %d %d", rep.Queue.Queued, rep.Queue.Waited, c.queued, len(c.wantWait))
			}
			for _, w := range c.wantWait {
				if math.Abs(rep.Queue.Wait.Max-w) > 0.05 {
					t.Errorf("wait %v, want %v", rep.Queue.Wait.Max, w)
				}
			}
			if got := rep.Teams[1].Activations; got != c.reserves {
				t.Errorf("reserve activations %d, want %d", got, c.reserves)
			}
			busy := (rep.Teams[0].BusyHours + rep.Teams[1].BusyHours) * 3600
			if math.Abs(busy-c.busyS) > 360 { // busy hours are rounded to 0.1 h
				t.Errorf("busy %.0f s, want %.0f", busy, c.busyS)
			}
			if got := rep.To.Sub(rep.From).Seconds(); math.Abs(got-c.spanS) > 1e-6 {
				t.Errorf("span %.3f s, want %.0f", got, c.spanS)
			}
			if rep.Stock[0].End != c.kitsEnd || rep.Stock[0].Shortfall != c.short {
				t.Errorf("kits end %d short %d, want %d %d", rep.Stock[0].End, rep.Stock[0].Shortfall, c.kitsEnd, c.short)
			}
		})
	}
}

// TestHandBuiltReport checks the report's arithmetic on the "queue" case:
// P3 responses 160 and 260 s, P1 950 s (target 600: late).
func TestHandBuiltReport(t *testing.T) {
	sc := handScenario([]teams.Unit{patrol("PAT-1", "police"), patrol("PAT-2", "police")}, 300)
	d, err := New(Config{Scenario: sc, Store: memstore.New(Retention()), Drill: "hand", Turnout: time.Minute, ServiceSigma: -1, RestockEvery: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Run(context.Background(), &SliceSource{Incidents: []dispatch.Incident{callAt("I1", "theft", 0, north(1000)),
		callAt("I2", "theft", 10*time.Second, north(2000)), callAt("I3", "urgent", 20*time.Second, north(-500))}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := res.Report(ReportConfig{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Stat{
		{Key: "all", Count: 3, Served: 3, P50: 260, P90: 950, P99: 950, Mean: 456.7, Max: 950, WithinTarget: 0.6667, Late: 1},
		{Key: "P1", Count: 1, Served: 1, P50: 950, P90: 950, P99: 950, Mean: 950, Max: 950, WithinTarget: 0, Late: 1},
		{Key: "P3", Count: 2, Served: 2, P50: 160, P90: 260, P99: 260, Mean: 210, Max: 260, WithinTarget: 1},
	}
	got := []Stat{rep.Response.All, rep.Response.ByPriority[0], rep.Response.ByPriority[2]}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s:\n got %+v\nwant %+v", want[i].Key, got[i], want[i])
		}
	}
	if u := rep.Teams[0].Utilisation; math.Abs(u-2680.0/(2*1620)) > 1e-4 {
		t.Errorf("police utilisation %v, want %v", u, 2680.0/(2*1620))
	}
}

// TestFirstResponders: a traffic accident 3 km from the traffic unit and
// 500 m from a patrol car (turnout 60 s, 10 m/s, service 600 s). Under
// responders the patrol goes ahead: on scene at 60+50 = 110 s, relieved
// when the traffic unit arrives at 60+300 = 360 s, back at 360+50 = 410 s;
// the traffic unit clears at 960 and is back at 1260. Under closest only
// the traffic unit goes. Without any traffic unit the patrol stays for the
// service: back at 110+600+50 = 760 s, and no primary unit ever comes.
func TestFirstResponders(t *testing.T) {
	trf := teams.Unit{ID: "TRF-1", Team: "traffic", Capabilities: []string{"traffic_control"}, Station: "S2", Profile: "car"}
	tests := []struct {
		name     string
		policy   string
		noTRF    bool
		resp     float64 // call to first unit on scene
		primary  float64 // call to first primary unit on scene (-1: never)
		firsts   int
		police   float64 // patrol seconds away from the station
		lastBack float64
	}{
		{"responders", dispatch.PolicyResponders, false, 110, 360, 1, 410, 1260},
		{"closest", dispatch.PolicyClosest, false, 360, 360, 0, 0, 1260},
		{"responders, no traffic unit", dispatch.PolicyResponders, true, 110, -1, 1, 760, 760},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			units := []teams.Unit{patrol("PAT-1", "police")}
			if !tt.noTRF {
				units = append(units, trf)
			}
			sc := handScenario(units, 300)
			sc.Teams = append(sc.Teams, teams.Team{ID: "traffic", Kind: teams.KindProfessional})
			sc.Stations = append(sc.Stations, teams.Station{ID: "S2", Town: "t", Location: north(3500)})
			sc.Types = append(sc.Types, scenario.IncidentType{Code: "traffic.accident", Family: "traffic", Priority: 3, ServiceS: 600,
				Plan: scenario.Plan{Units: []scenario.Requirement{{Capability: "traffic_control", Count: 1,
					First: &scenario.FirstResponse{Capabilities: []string{"patrol"}}}}}})
			d, err := New(Config{Scenario: sc, Store: memstore.New(Retention()), Drill: "fr", Turnout: time.Minute, ServiceSigma: -1,
				RestockEvery: -1, Logger: quiet, Rank: dispatch.RankConfig{Policy: tt.policy}})
			if err != nil {
				t.Fatal(err)
			}
			res, err := d.Run(context.Background(), &SliceSource{Incidents: []dispatch.Incident{callAt("A1", "traffic.accident", 0, north(500))}})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := res.Report(ReportConfig{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Policy != tt.policy || rep.Label != tt.policy {
				t.Errorf("policy %q label %q", rep.Policy, rep.Label)
			}
			if got := rep.Response.All; got.Served != 1 || math.Abs(got.Max-tt.resp) > 0.05 {
				t.Errorf("response %+v, want %v s", got, tt.resp)
			}
			p := rep.PrimaryResponse.All
			if tt.primary < 0 && (p.Served != 0 || p.Late != 1) || tt.primary >= 0 && (p.Served != 1 || math.Abs(p.Max-tt.primary) > 0.05) {
				t.Errorf("first primary %+v, want %v s", p, tt.primary)
			}
			if fr := rep.FirstResponders; fr.Sent != tt.firsts || fr.ByPriority[2] != tt.firsts ||
				(tt.firsts > 0 && !slices.Equal(fr.ByFamily, []Count{{Key: "traffic", N: tt.firsts}})) {
				t.Errorf("first responders %+v, want %d", fr, tt.firsts)
			}
			if got := rep.Teams[0].BusyHours * 3600; math.Abs(got-tt.police) > 180 { // busy hours are rounded to 0.1 h
				t.Errorf("patrol busy %.0f s, want %.0f", got, tt.police)
			}
			if got := rep.To.Sub(rep.From).Seconds(); math.Abs(got-tt.lastBack) > 1e-3 {
				t.Errorf("last unit back at %.3f s, want %.0f", got, tt.lastBack)
			}
			if rep.ReserveActivations != 0 {
				t.Errorf("%d reserve activations", rep.ReserveActivations)
			}
		})
	}
}

// TestLiveUntouched: a drill replayed into a store holding live state
// leaves the live units, stock and incidents as they were.
func TestLiveUntouched(t *testing.T) {
	ctx := context.Background()
	sc := handScenario([]teams.Unit{patrol("PAT-1", "police"), patrol("PAT-2", "police")}, 300)
	store := memstore.New(memstore.Config{})
	live, err := dispatch.NewEngine(dispatch.EngineConfig{Scenario: sc, Store: store, Clock: func() time.Time { return t0 }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := live.Process(ctx, []dispatch.Incident{callAt("LIVE-1", "urgent", 0, north(300))}, nil); err != nil {
		t.Fatal(err)
	}
	before, err := store.Load(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{Scenario: sc, Store: store, Drill: "d1", RestockEvery: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	calls := []dispatch.Incident{callAt("I1", "urgent", 0, north(1000)), callAt("I2", "urgent", 0, north(100))}
	if _, err := d.Run(ctx, &SliceSource{Incidents: calls}); err != nil {
		t.Fatal(err)
	}
	after, err := store.Load(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Open) != 1 || after.Open[0].ID != "LIVE-1" || len(after.Units) != len(before.Units) {
		t.Fatalf("live state changed: %+v", after)
	}
	for i := range before.Units {
		if before.Units[i] != after.Units[i] {
			t.Errorf("live unit %s changed: %+v -> %+v", before.Units[i].ID, before.Units[i], after.Units[i])
		}
	}
	for i := range before.Stock {
		if before.Stock[i] != after.Stock[i] {
			t.Errorf("live stock changed: %+v -> %+v", before.Stock[i], after.Stock[i])
		}
	}
	if dec, _ := store.Decided(ctx, "", []string{"I1", "I2"}); len(dec) != 0 {
		t.Errorf("drill incidents decided in live state: %v", dec)
	}
	// the drill's events are in the same log, under the drill id
	evs, err := store.EventsAfter(ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	drillEvents := 0
	for _, e := range evs {
		if e.Drill == "d1" {
			drillEvents++
		} else if e.Drill != "" {
			t.Errorf("event of drill %q", e.Drill)
		}
	}
	if drillEvents == 0 {
		t.Error("no drill event in the store's log")
	}
	// the same drill id cannot be replayed again
	d2, err := New(Config{Scenario: sc, Store: store, Drill: "d1", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d2.Run(ctx, &SliceSource{Incidents: calls}); err == nil {
		t.Error("second replay into drill d1 accepted")
	}
}

func TestConfigErrors(t *testing.T) {
	sc := handScenario([]teams.Unit{patrol("PAT-1", "police")}, 300)
	cases := []struct {
		name string
		cfg  Config
	}{
		{"no scenario", Config{Store: memstore.New(Retention()), Drill: "d"}},
		{"no store", Config{Scenario: sc, Drill: "d"}},
		{"live", Config{Scenario: sc, Store: memstore.New(Retention())}},
		{"negative speed", Config{Scenario: sc, Store: memstore.New(Retention()), Drill: "d", Speed: -1}},
		{"NaN sigma", Config{Scenario: sc, Store: memstore.New(Retention()), Drill: "d", ServiceSigma: math.NaN()}},
	}
	for _, c := range cases {
		if _, err := New(c.cfg); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}

// fakeWall is a wall clock that moves only when slept on.
type fakeWall struct {
	mu    sync.Mutex
	now   time.Time
	slept time.Duration
}

func (w *fakeWall) Now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *fakeWall) Sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = w.now.Add(d)
	w.slept += d
	return ctx.Err()
}

// TestSpeed: at xN the drill waits virtual time / N in total; as fast as
// possible it never waits; a cancelled context stops it.
func TestSpeed(t *testing.T) {
	calls := []dispatch.Incident{callAt("I1", "theft", 0, north(1000)), callAt("I2", "theft", 30*time.Minute, north(1000))}
	// the last event: I2's unit back at 30m + 60 + 100 + 600 + 100 s
	span := 30*time.Minute + 860*time.Second
	cases := []struct {
		speed float64
		want  time.Duration
	}{{0, 0}, {1, span}, {60, span / 60}}
	for _, c := range cases {
		w := &fakeWall{now: time.Unix(1e9, 0)}
		sc := handScenario([]teams.Unit{patrol("PAT-1", "police")}, 300)
		var last Progress
		// the weekly restock (the default) must not keep the drill going once every unit is home
		d, err := New(Config{Scenario: sc, Store: memstore.New(Retention()), Drill: "d", Speed: c.speed, Wall: w, ServiceSigma: -1,
			Progress: func(p Progress) { last = p }, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Run(context.Background(), &SliceSource{Incidents: calls}); err != nil {
			t.Fatal(err)
		}
		if diff := w.slept - c.want; diff < -time.Millisecond || diff > time.Millisecond {
			t.Errorf("speed %v: slept %v, want %v", c.speed, w.slept, c.want)
		}
		if !last.Done || last.Incidents != 2 || !last.SimTime.Equal(t0.Add(span)) {
			t.Errorf("speed %v: last progress %+v", c.speed, last)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := New(Config{Scenario: handScenario([]teams.Unit{patrol("PAT-1", "police")}, 300), Store: memstore.New(Retention()), Drill: "d",
		Speed: 1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Run(ctx, &SliceSource{Incidents: calls}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v", err)
	}
}
