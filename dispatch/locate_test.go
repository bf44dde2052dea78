package dispatch_test

import (
	"errors"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
)

// TestLocateSources: a manual P1 located by a gazetteer place, a map click
// or typed coordinates is decided at that position, one incident (next
// version), with how it was located in the record and in its event; bad
// sources, unknown places and bad points are refused before anything
// changes.
func TestLocateSources(t *testing.T) {
	f := newFixture(t, nil)
	sc := f.eng.Scenario()
	var bridge dispatch.Action
	for _, e := range f.eng.Places() {
		if e.Ref == "place:qijiang-bridge" {
			bridge = dispatch.Action{Source: dispatch.LocatedPlace, Place: e.Ref, Lat: e.Point.Lat, Lng: e.Point.Lng}
		}
	}
	if bridge.Place == "" {
		t.Fatal("no Qijiang bridge in the gazetteer")
	}
	for i, tc := range []struct {
		name    string
		a       dispatch.Action
		want    *dispatch.Located
		town    string
		wantErr bool
	}{
		{"place", dispatch.Action{Source: "place", Place: "place:qijiang-bridge"}, &dispatch.Located{Source: "place", Place: "place:qijiang-bridge", Approximate: true, By: "desk"}, "shiqi", false},
		{"town centre", dispatch.Action{Source: "place", Place: "town:xiaolan"}, &dispatch.Located{Source: "place", Place: "town:xiaolan", Approximate: true, By: "desk"}, "xiaolan", false},
		{"depot", dispatch.Action{Source: "place", Place: "depot:" + sc.Depots[3].ID}, &dispatch.Located{Source: "place", Place: "depot:" + sc.Depots[3].ID, Approximate: true, By: "desk"}, sc.Depots[3].Town, false},
		{"map click", dispatch.Action{Source: "map", Lat: 22.6800, Lng: 113.4200}, &dispatch.Located{Source: "map", Approximate: true, By: "desk"}, "sanjiao", false},
		{"typed", dispatch.Action{Lat: 22.5170, Lng: 113.4000}, &dispatch.Located{Source: "coords", By: "desk"}, "dongqu", false},
		{"unknown place", dispatch.Action{Source: "place", Place: "place:atlantis"}, nil, "", true},
		{"place with map source", dispatch.Action{Source: "map", Place: "town:shiqi", Lat: 22.5, Lng: 113.4}, nil, "", true},
		{"unknown source", dispatch.Action{Source: "gps", Lat: 22.5, Lng: 113.4}, nil, "", true},
		{"bad click", dispatch.Action{Source: "map", Lat: 95, Lng: 113.4}, nil, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "L-" + tc.name
			f.process(dispatch.Incident{ID: id, ReportedAt: t0.Add(time.Duration(i) * time.Second), Type: "drowning", Description: "person down under a bridge"})
			before := f.get(id)
			a := tc.a
			a.Kind, a.Incident, a.By, a.Role = dispatch.ActLocate, id, "desk", dispatch.RoleDispatcher
			_, err := f.act(a)
			if tc.wantErr {
				if !errors.Is(err, dispatch.ErrBadAction) {
					t.Fatalf("got %v, want a bad action", err)
				}
				if r := f.get(id); r.State != dispatch.StateManual || r.Version != before.Version || r.Located != nil {
					t.Fatalf("a refused locate changed the incident: %+v", r)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := f.get(id)
			if r.State != dispatch.StateDispatched || len(r.Assigned) == 0 || r.Town != tc.town || r.Version != before.Version+1 {
				t.Fatalf("after locate: %s town %q version %d assigned %v", r.State, r.Town, r.Version, r.Assigned)
			}
			if r.Located == nil || *r.Located != *tc.want {
				t.Fatalf("located %+v, want %+v", r.Located, tc.want)
			}
			var seen bool
			for _, ev := range f.events() {
				if ev.Incident == id && ev.Kind == dispatch.EvIncidentDispatched {
					seen = true
					if b := ev.Body.Record; b == nil || b.Located == nil || *b.Located != *tc.want || b.Version != r.Version {
						t.Errorf("event record %+v", b)
					}
				}
			}
			if !seen {
				t.Error("no dispatched event")
			}
		})
	}
}
