package teams

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zs110/dispatch/geo"
)

var (
	t0     = time.Date(2013, 5, 31, 20, 14, 0, 0, time.FixedZone("CST", 8*3600))
	townA  = geo.Point{Lat: 22.52, Lng: 113.38}
	townB  = geo.Point{Lat: 22.60, Lng: 113.25}
	far    = geo.Point{Lat: 23.5, Lng: 114.5} // outside both towns
	nearA  = geo.Point{Lat: 22.53, Lng: 113.39}
	testTs = []Team{
		{ID: "cmd", Kind: KindCommand},
		{ID: "pol", Kind: KindProfessional},
		{ID: "res", Kind: KindReserve, ActivationDelayS: 1800},
	}
)

// testConfig is a small city: two towns, a station in each, five units
// (given out of id order).
func testConfig() FleetConfig {
	eta, err := geo.NewETA(geo.ETAConfig{Profiles: map[string]geo.SpeedProfile{"car": {SpeedKmh: 40}, "boat": {SpeedKmh: 20}}})
	if err != nil {
		panic(err)
	}
	towns, err := geo.NewTowns([]geo.Town{{Code: "a", Center: townA}, {Code: "b", Center: townB}}, 0)
	if err != nil {
		panic(err)
	}
	return FleetConfig{
		Teams:    testTs,
		Stations: []Station{{ID: "S1", Town: "a", Location: townA}, {ID: "S2", Town: "b", Location: townB}},
		Units: []Unit{
			{ID: "U3", Team: "pol", Capabilities: []string{"patrol"}, Station: "S1", Profile: "car"},
			{ID: "U1", Team: "pol", Capabilities: []string{"patrol", "first_aid", "patrol"}, Station: "S2", Profile: "car"},
			{ID: "U2", Team: "res", Capabilities: []string{"patrol"}, Station: "S1", Profile: "car"},
			{ID: "U5", Team: "pol", Capabilities: []string{"boat"}, Station: "S2", Profile: "boat"},
			{ID: "U4", Team: "cmd", Capabilities: []string{"patrol"}, Station: "S1", Profile: "car"},
		},
		ETA: eta, Towns: towns,
	}
}

func newTestFleet(t *testing.T) *Fleet {
	t.Helper()
	f, err := NewFleet(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestNewFleetRefuses(t *testing.T) {
	cases := []struct {
		name   string
		change func(*FleetConfig)
		want   string
	}{
		{"unknown team", func(c *FleetConfig) { c.Units[0].Team = "fire" }, `unit U3: unknown team "fire"`},
		{"unknown station", func(c *FleetConfig) { c.Units[0].Station = "S9" }, `unit U3: unknown station "S9"`},
		{"unknown profile", func(c *FleetConfig) { c.Units[0].Profile = "jet" }, `unit U3: unknown speed profile`},
		{"duplicate unit", func(c *FleetConfig) { c.Units[1].ID = "U3" }, `duplicate unit U3`},
		{"unknown index", func(c *FleetConfig) { c.Index = "kd" }, `unknown index "kd"`},
		{"resolution", func(c *FleetConfig) { c.Resolution = 16 }, `resolution 16 out of 0-15`},
		{"no eta", func(c *FleetConfig) { c.ETA = nil }, `no ETA model or towns`},
		{"no towns", func(c *FleetConfig) { c.Towns = nil }, `no ETA model or towns`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig()
			c.change(&cfg)
			_, err := NewFleet(cfg)
			if !errors.Is(err, ErrInvalidFleet) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want ErrInvalidFleet naming %q", err, c.want)
			}
		})
	}
}

func TestNewFleet(t *testing.T) {
	f := newTestFleet(t)
	if f.Len() != 5 {
		t.Fatalf("len %d", f.Len())
	}
	for i, want := range []string{"U1", "U2", "U3", "U4", "U5"} {
		if n, ok := f.Number(want); !ok || n != int32(i) || f.Record(n).ID() != want {
			t.Fatalf("unit %s: number %d %v", want, n, ok)
		}
	}
	if _, ok := f.Number("U9"); ok {
		t.Fatal("U9 has a number")
	}
	if got := f.Capabilities(); !slices.Equal(got, []string{"boat", "first_aid", "patrol"}) {
		t.Fatalf("capabilities %v", got)
	}
	if _, ok := f.Capability("ladder"); ok {
		t.Fatal("ladder is a capability")
	}
	if got := f.TownCodes(); !slices.Equal(got, []string{"a", "b"}) || f.TownCode(-1) != "" || f.TownCode(1) != "b" {
		t.Fatalf("towns %v", got)
	}
	for _, v := range f.Units() {
		if v.Status != StatusAvailable || v.Incident != "" || !v.Since.IsZero() {
			t.Fatalf("%s: %+v", v.ID, v)
		}
	}
	u1, _ := f.Unit("U1")
	if u1.Town != "b" || u1.Cell != geo.CellOf(townB, CellResolution).String() || u1.Reserve || u1.Lat != townB.Lat {
		t.Fatalf("U1 %+v", u1)
	}
	r1 := f.Record(0)
	patrol, _ := f.Capability("patrol")
	aid, _ := f.Capability("first_aid")
	if !slices.Equal(r1.Capabilities(), []int32{patrol, aid}) || !r1.Has(aid) || r1.Home() != townB || r1.Station() != "S2" || r1.Team() != "pol" {
		t.Fatalf("U1 record %+v", r1)
	}
	u2 := f.Record(1)
	if !u2.Reserve() || u2.ActivationDelay() != 30*time.Minute || u2.ActivationDelayS() != 1800 {
		t.Fatalf("U2 reserve %v delay %v", u2.Reserve(), u2.ActivationDelay())
	}
	// Classes: U3 and U4 (car, patrol, standing) are alike; U2 is a reserve,
	// U1 has one more capability, U5 another profile.
	cl := func(i int32) uint32 { return f.Record(i).Class() }
	if cl(2) != cl(3) || cl(1) == cl(2) || cl(0) == cl(2) || cl(4) == cl(2) || cl(0) == cl(4) {
		t.Fatalf("classes %d %d %d %d %d", cl(0), cl(1), cl(2), cl(3), cl(4))
	}
	boat, _ := f.Capability("boat")
	car, _ := f.cfg.ETA.Profile("car")
	if got := f.SpeedProfiles(patrol); !slices.Equal(got, []int{car}) {
		t.Fatalf("patrol profiles %v", got)
	}
	if got := f.SpeedProfiles(boat); len(got) != 1 || got[0] == car {
		t.Fatalf("boat profiles %v", got)
	}
	// Available professional units by town: U3, U4 in a; U1 in b. U2 is a reserve.
	if f.Available(0, patrol) != 2 || f.Available(1, patrol) != 1 || f.Available(1, aid) != 1 || f.Available(0, boat) != 0 || f.Available(1, boat) != 1 {
		t.Fatal("available counts")
	}
}

func TestFleetDefaults(t *testing.T) {
	f := newTestFleet(t)
	if f.cfg.Index != "h3" {
		t.Fatalf("index %q", f.cfg.Index)
	}
	if _, ok := f.caps[0].pro.(*geo.H3Index); !ok {
		t.Fatalf("index type %T", f.caps[0].pro)
	}
	for kind, want := range map[string]string{"rtree": "*geo.RTreeIndex", "brute": "*geo.BruteIndex"} {
		cfg := testConfig()
		cfg.Index = kind
		f, err := NewFleet(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%T", f.caps[0].res); got != want {
			t.Fatalf("%s: %s", kind, got)
		}
	}
}

func TestSetStatus(t *testing.T) {
	type step struct {
		unit     string
		to       Status
		incident string
		want     UnitChange // At is t0 + step minutes
		err      error
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"cycle", []step{
			{"U3", StatusDispatched, "I1", UnitChange{UnitID: "U3", Team: "pol", OldStatus: StatusAvailable, NewStatus: StatusDispatched, Lat: townA.Lat, Lng: townA.Lng, Town: "a", Incident: "I1"}, nil},
			{"U3", StatusEnRoute, "I1", UnitChange{UnitID: "U3", Team: "pol", OldStatus: StatusDispatched, NewStatus: StatusEnRoute, Lat: townA.Lat, Lng: townA.Lng, Town: "a", Incident: "I1"}, nil},
			{"U3", StatusOnScene, "I1", UnitChange{UnitID: "U3", Team: "pol", OldStatus: StatusEnRoute, NewStatus: StatusOnScene, Lat: townA.Lat, Lng: townA.Lng, Town: "a", Incident: "I1"}, nil},
			{"U3", StatusReturning, "", UnitChange{UnitID: "U3", Team: "pol", OldStatus: StatusOnScene, NewStatus: StatusReturning, Lat: townA.Lat, Lng: townA.Lng, Town: "a"}, nil},
			{"U3", StatusAvailable, "", UnitChange{UnitID: "U3", Team: "pol", OldStatus: StatusReturning, NewStatus: StatusAvailable, Lat: townA.Lat, Lng: townA.Lng, Town: "a"}, nil},
		}},
		{"no-op", []step{
			{"U2", StatusAvailable, "", UnitChange{UnitID: "U2", Team: "res", OldStatus: StatusAvailable, NewStatus: StatusAvailable, Lat: townA.Lat, Lng: townA.Lng, Town: "a"}, nil},
		}},
		{"illegal", []step{
			{"U1", StatusOnScene, "I1", UnitChange{}, ErrIllegalTransition},
			{"U1", StatusOutOfService, "", UnitChange{UnitID: "U1", Team: "pol", OldStatus: StatusAvailable, NewStatus: StatusOutOfService, Lat: townB.Lat, Lng: townB.Lng, Town: "b"}, nil},
			{"U1", StatusDispatched, "I2", UnitChange{}, ErrIllegalTransition},
		}},
		{"unknown", []step{
			{"U9", StatusDispatched, "I1", UnitChange{}, ErrUnknownUnit},
			{"U1", "flying", "", UnitChange{}, ErrUnknownStatus},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newTestFleet(t)
			for i, s := range c.steps {
				at := t0.Add(time.Duration(i+1) * time.Minute)
				before, _ := f.Unit(s.unit)
				got, err := f.SetStatus(s.unit, s.to, s.incident, at)
				after, _ := f.Unit(s.unit)
				if s.err != nil {
					if !errors.Is(err, s.err) {
						t.Fatalf("step %d: got %v, want %v", i, err, s.err)
					}
					if !reflectEqual(before, after) {
						t.Fatalf("step %d: a refused change changed the unit: %+v", i, after)
					}
					continue
				}
				s.want.At = at
				if err != nil || got != s.want {
					t.Fatalf("step %d: got %+v, %v\nwant %+v", i, got, err, s.want)
				}
				if after.Status != s.to || after.Incident != s.incident {
					t.Fatalf("step %d: view %+v", i, after)
				}
				if wantSince := map[bool]time.Time{true: before.Since, false: at}[s.to == before.Status]; !after.Since.Equal(wantSince) {
					t.Fatalf("step %d: since %v, want %v", i, after.Since, wantSince)
				}
			}
			checkIndices(t, f)
		})
	}
}

func reflectEqual(a, b UnitView) bool { return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b) }

func TestSetPosition(t *testing.T) {
	cases := []struct {
		name string
		unit string
		to   geo.Point
		want UnitChange
		err  error
	}{
		{"same place", "U1", townB, UnitChange{UnitID: "U1", Team: "pol", OldStatus: StatusAvailable, NewStatus: StatusAvailable, Lat: townB.Lat, Lng: townB.Lng, Town: "b"}, nil},
		{"other town", "U1", nearA, UnitChange{UnitID: "U1", Team: "pol", OldStatus: StatusAvailable, NewStatus: StatusAvailable,
			OldCell: geo.CellOf(townB, 9).String(), NewCell: geo.CellOf(nearA, 9).String(), Lat: nearA.Lat, Lng: nearA.Lng, Town: "a"}, nil},
		{"outside", "U2", far, UnitChange{UnitID: "U2", Team: "res", OldStatus: StatusAvailable, NewStatus: StatusAvailable,
			OldCell: geo.CellOf(townA, 9).String(), NewCell: geo.CellOf(far, 9).String(), Lat: far.Lat, Lng: far.Lng}, nil},
		{"bad point", "U1", geo.Point{Lat: 91}, UnitChange{}, geo.ErrBadPoint},
		{"unknown unit", "U9", townA, UnitChange{}, ErrUnknownUnit},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newTestFleet(t)
			got, err := f.SetPosition(c.unit, c.to, t0)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("got %v, want %v", err, c.err)
				}
				return
			}
			c.want.At = t0
			if err != nil || got != c.want {
				t.Fatalf("got %+v, %v\nwant %+v", got, err, c.want)
			}
			v, _ := f.Unit(c.unit)
			if v.Lat != c.to.Lat || v.Lng != c.to.Lng || v.Town != c.want.Town || v.Cell != geo.CellOf(c.to, 9).String() || !v.Since.IsZero() {
				t.Fatalf("view %+v", v)
			}
			checkIndices(t, f)
		})
	}
	// A busy unit moves too, and stays out of the indices.
	f := newTestFleet(t)
	if _, err := f.SetStatus("U3", StatusDispatched, "I1", t0); err != nil {
		t.Fatal(err)
	}
	if ch, err := f.SetPosition("U3", townB, t0); err != nil || ch.Town != "b" || ch.NewStatus != StatusDispatched || ch.Incident != "I1" {
		t.Fatalf("%+v %v", ch, err)
	}
	checkIndices(t, f)
}

func TestRestore(t *testing.T) {
	cases := []struct {
		name string
		st   UnitState
		err  error
	}{
		{"busy elsewhere", UnitState{ID: "U3", Status: StatusOnScene, Lat: townB.Lat, Lng: townB.Lng, Incident: "I7", Since: t0}, nil},
		{"available outside", UnitState{ID: "U1", Status: StatusAvailable, Lat: far.Lat, Lng: far.Lng, Since: t0}, nil},
		{"out of service", UnitState{ID: "U2", Status: StatusOutOfService, Lat: townA.Lat, Lng: townA.Lng, Since: t0}, nil},
		{"unknown unit", UnitState{ID: "U9", Status: StatusAvailable, Lat: townA.Lat, Lng: townA.Lng}, ErrUnknownUnit},
		{"unknown status", UnitState{ID: "U1", Status: "flying", Lat: townA.Lat, Lng: townA.Lng}, ErrUnknownStatus},
		{"bad point", UnitState{ID: "U1", Status: StatusAvailable, Lat: 22, Lng: 200}, geo.ErrBadPoint},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newTestFleet(t)
			before := f.Units()
			err := f.Restore(c.st)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("got %v, want %v", err, c.err)
				}
				if fmt.Sprint(before) != fmt.Sprint(f.Units()) {
					t.Fatal("a refused restore changed the fleet")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			v, _ := f.Unit(c.st.ID)
			p := geo.Point{Lat: c.st.Lat, Lng: c.st.Lng}
			town, _, cell := f.Locate(p)
			if v.Status != c.st.Status || v.Incident != c.st.Incident || !v.Since.Equal(c.st.Since) || v.Lat != p.Lat || v.Lng != p.Lng || v.Town != town || v.Cell != cell {
				t.Fatalf("view %+v", v)
			}
			checkIndices(t, f)
			// and back: the unit returns to the indices
			if err := f.Restore(UnitState{ID: c.st.ID, Status: StatusAvailable, Lat: townA.Lat, Lng: townA.Lng}); err != nil {
				t.Fatal(err)
			}
			checkIndices(t, f)
		})
	}
}

// checkIndices compares the capability indices and the per-town counts
// with a plain scan of the units: an index holds exactly the available
// units with its capability and reserve flag, and Nearest agrees with a
// sorted scan.
func checkIndices(t *testing.T, f *Fleet) {
	t.Helper()
	counts := make([]int32, len(f.avail))
	for c := range int32(len(f.caps)) {
		for _, reserve := range []bool{false, true} {
			var want []int32
			for i := range int32(f.Len()) {
				r := f.Record(i)
				if r.Status().Assignable() && r.Reserve() == reserve && r.Has(c) {
					want = append(want, i)
					if !reserve && r.Town() >= 0 {
						counts[int(r.Town())*len(f.caps)+int(c)]++
					}
				}
			}
			ix := f.caps[c].pro
			if reserve {
				ix = f.caps[c].res
			}
			if ix.Len() != len(want) {
				t.Fatalf("capability %s reserve %v: index has %d units, scan %d", f.capNames[c], reserve, ix.Len(), len(want))
			}
			for _, q := range []geo.Point{townA, townB, far, nearA} {
				hits := f.Nearest(c, reserve, q, len(want)+1, 1, func(_ int32, d float64) (float64, bool) { return d, true }, nil)
				var got []int32
				for _, h := range hits {
					got = append(got, h.ID)
				}
				scan := slices.Clone(want)
				slices.SortFunc(scan, func(a, b int32) int {
					if c := cmp.Compare(geo.DistanceM(q, f.Record(a).Position()), geo.DistanceM(q, f.Record(b).Position())); c != 0 {
						return c
					}
					return cmp.Compare(a, b)
				})
				if !slices.Equal(got, scan) {
					t.Fatalf("capability %s reserve %v from %v: index %v, scan %v", f.capNames[c], reserve, q, got, scan)
				}
			}
		}
	}
	if !slices.Equal(counts, f.avail) {
		t.Fatalf("available counts %v, scan %v", f.avail, counts)
	}
}

// TestIndicesAfterRandomOperations: after random status changes (legal or
// not), moves and restores, every index of every kind holds exactly the
// available units, and the per-town counts match a scan.
func TestIndicesAfterRandomOperations(t *testing.T) {
	for _, kind := range []string{"h3", "h3-fixed", "rtree", "brute"} {
		t.Run(kind, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, 11))
			cfg := testConfig()
			cfg.Index = kind
			if kind == "h3-fixed" {
				cfg.Index, cfg.Resolution = "h3", 8
			}
			caps := []string{"patrol", "boat", "ambulance", "rescue"}
			cfg.Units = nil
			for i := range 300 {
				u := Unit{ID: fmt.Sprintf("R%03d", r.IntN(1000)*1000+i), Team: testTs[r.IntN(3)].ID, Station: []string{"S1", "S2"}[r.IntN(2)],
					Profile: []string{"car", "boat"}[r.IntN(2)]}
				for range 1 + r.IntN(3) {
					u.Capabilities = append(u.Capabilities, caps[r.IntN(len(caps))])
				}
				cfg.Units = append(cfg.Units, u)
			}
			f, err := NewFleet(cfg)
			if err != nil {
				t.Fatal(err)
			}
			spots := []geo.Point{townA, townB, far, nearA}
			point := func() geo.Point {
				if r.IntN(3) == 0 {
					return spots[r.IntN(len(spots))]
				}
				return geo.Point{Lat: 22.3 + r.Float64()*0.5, Lng: 113.1 + r.Float64()*0.5}
			}
			statuses := Statuses()
			for step := range 3000 {
				id := cfg.Units[r.IntN(len(cfg.Units))].ID
				at := t0.Add(time.Duration(step) * time.Second)
				switch r.IntN(4) {
				case 0, 1:
					to := statuses[r.IntN(len(statuses))]
					inc := ""
					if to.Active() {
						inc = "I1"
					}
					before, _ := f.Unit(id)
					ch, err := f.SetStatus(id, to, inc, at)
					if err != nil {
						if !errors.Is(err, ErrIllegalTransition) || Transition(before.Status, to) == nil {
							t.Fatalf("%s %s -> %s: %v", id, before.Status, to, err)
						}
						continue
					}
					if ch.OldStatus != before.Status || ch.NewStatus != to {
						t.Fatalf("change %+v from %s", ch, before.Status)
					}
				case 2:
					if _, err := f.SetPosition(id, point(), at); err != nil {
						t.Fatal(err)
					}
				case 3:
					st := statuses[r.IntN(len(statuses))]
					p := point()
					us := UnitState{ID: id, Status: st, Lat: p.Lat, Lng: p.Lng, Since: at}
					if st.Active() {
						us.Incident = "I2"
					}
					if err := f.Restore(us); err != nil {
						t.Fatal(err)
					}
				}
				if step%500 == 0 {
					checkIndices(t, f)
				}
			}
			checkIndices(t, f)
		})
	}
}

func TestUnitChecks(t *testing.T) {
	cases := []struct {
		name string
		st   Status
		inc  string
		lat  float64
		lng  float64
		want string // "" = valid
	}{
		{"available", StatusAvailable, "", 22.5, 113.4, ""},
		{"dispatched", StatusDispatched, "I1", 22.5, 113.4, ""},
		{"returning", StatusReturning, "", -90, 180, ""},
		{"unknown status", "flying", "", 22.5, 113.4, `unit U1: unknown status "flying": invalid unit`},
		{"active without incident", StatusOnScene, "", 22.5, 113.4, `unit U1 on_scene with incident "": invalid unit`},
		{"incident while idle", StatusAvailable, "I1", 22.5, 113.4, `unit U1 available with incident "I1": invalid unit`},
		{"lat", StatusAvailable, "", 90.5, 113.4, `unit U1: position out of range: invalid unit`},
		{"lng", StatusAvailable, "", 22.5, -181, `unit U1: position out of range: invalid unit`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := []error{
				UnitChange{UnitID: "U1", OldStatus: StatusAvailable, NewStatus: c.st, Incident: c.inc, Lat: c.lat, Lng: c.lng}.Check(),
				UnitState{ID: "U1", Status: c.st, Incident: c.inc, Lat: c.lat, Lng: c.lng}.Check(),
			}
			for _, err := range errs {
				if c.want == "" {
					if err != nil {
						t.Fatal(err)
					}
					continue
				}
				if !errors.Is(err, ErrInvalidUnit) || err.Error() != c.want {
					t.Fatalf("got %v, want %q wrapping ErrInvalidUnit", err, c.want)
				}
			}
		})
	}
	if err := (UnitState{ID: "U1", Status: "x"}).Check(); !errors.Is(err, ErrUnknownStatus) {
		t.Fatalf("unknown status: %v", err)
	}
}

func TestLocate(t *testing.T) {
	f := newTestFleet(t)
	for _, c := range []struct {
		p      geo.Point
		town   string
		inside bool
	}{{townA, "a", true}, {nearA, "a", true}, {townB, "b", true}, {far, "", false}} {
		town, inside, cell := f.Locate(c.p)
		if town != c.town || inside != c.inside || cell != geo.CellOf(c.p, CellResolution).String() {
			t.Fatalf("%v: %q %v %s", c.p, town, inside, cell)
		}
	}
}
