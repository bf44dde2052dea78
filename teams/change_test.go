package teams

import (
	"encoding/json"
	"testing"
	"time"
)

// TestUnitJSON: the wire form of the unit records is the one they had in
// package dispatch, byte for byte.
func TestUnitJSON(t *testing.T) {
	at := time.Date(2013, 5, 31, 20, 14, 0, 0, time.FixedZone("CST", 8*3600))
	cases := []struct {
		v    any
		want string
	}{
		{UnitChange{UnitID: "U1", Team: "pol", OldStatus: StatusAvailable, NewStatus: StatusDispatched, OldCell: "8941", NewCell: "8942", Lat: 22.5, Lng: 113.4, Town: "a", Incident: "I1", At: at},
			`{"unit_id":"U1","team":"pol","old_status":"available","new_status":"dispatched","old_cell":"8941","new_cell":"8942","lat":22.5,"lng":113.4,"town":"a","incident":"I1","at":"2013-05-31T20:14:00+08:00"}`},
		{UnitChange{UnitID: "U1", Team: "pol", OldStatus: StatusOnScene, NewStatus: StatusReturning, Lat: 22.5, Lng: 113.4, At: at},
			`{"unit_id":"U1","team":"pol","old_status":"on_scene","new_status":"returning","lat":22.5,"lng":113.4,"at":"2013-05-31T20:14:00+08:00"}`},
		{UnitState{ID: "U1", Status: StatusEnRoute, Lat: 22.5, Lng: 113.4, Incident: "I1", Since: at},
			`{"id":"U1","status":"en_route","lat":22.5,"lng":113.4,"incident":"I1","since":"2013-05-31T20:14:00+08:00"}`},
		{UnitState{ID: "U1", Status: StatusAvailable, Lat: 22.5, Lng: 113.4},
			`{"id":"U1","status":"available","lat":22.5,"lng":113.4,"since":"0001-01-01T00:00:00Z"}`},
		{UnitView{Unit: Unit{ID: "U1", Team: "pol", Capabilities: []string{"patrol"}, Station: "S1", Profile: "car", Crew: 2}, Status: StatusOnScene, Lat: 22.5, Lng: 113.4, Town: "a", Cell: "8941", Incident: "I1", Since: at, Reserve: true},
			`{"id":"U1","team":"pol","capabilities":["patrol"],"station":"S1","profile":"car","crew":2,"status":"on_scene","lat":22.5,"lng":113.4,"town":"a","cell":"8941","incident":"I1","since":"2013-05-31T20:14:00+08:00","reserve":true}`},
		{UnitView{Unit: Unit{ID: "U2"}, Status: StatusAvailable},
			`{"id":"U2","team":"","capabilities":null,"station":"","profile":"","crew":0,"status":"available","lat":0,"lng":0,"since":"0001-01-01T00:00:00Z"}`},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.v)
		if err != nil || string(b) != c.want {
			t.Fatalf("%T: got %s, %v\nwant %s", c.v, b, err, c.want)
		}
	}
	var ch UnitChange
	err := json.Unmarshal([]byte(cases[0].want), &ch)
	want := cases[0].v.(UnitChange)
	if err != nil || !ch.At.Equal(want.At) {
		t.Fatalf("decode: %+v %v", ch, err)
	}
	ch.At = want.At
	if ch != want {
		t.Fatalf("decode: %+v", ch)
	}
}
