package wire

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/zs110/dispatch/dispatch/hostile"
)

func TestDecodeIncident(t *testing.T) {
	const ok = `{"id":"ZS110-1","reported_at":"2013-05-31T20:14:03+08:00","type":"fire.building","priority":1,
		"lat":22.5211,"lng":113.3925,"address":"Sunwen Rd","casualties":2,"materials":{"sandbag":200},"drill":"typhoon-2013"}`
	tests := []struct {
		name       string
		in         string
		reason     string // "" = valid
		id         string // id salvaged on error
		hasLoc     bool
		wantPrio   int
		wantDrill  string
		wantInvErr bool
	}{
		{name: "full", in: ok, id: "ZS110-1", hasLoc: true, wantPrio: 1, wantDrill: "typhoon-2013"},
		{name: "minimal", in: `{"id":"a","reported_at":"2013-01-01T00:00:00Z","type":"theft","lat":22.5,"lng":113.4}`, id: "a", hasLoc: true},
		{name: "not json", in: `{"id": "x", `, reason: ReasonBadJSON},
		{name: "array", in: `[1,2]`, reason: ReasonBadJSON},
		{name: "null", in: `null`, reason: ReasonBadJSON},
		{name: "trailing data", in: `{"id":"a"} {"id":"b"}`, reason: ReasonBadJSON},
		{name: "missing id", in: `{"reported_at":"2013-01-01T00:00:00Z","type":"theft","lat":22.5,"lng":113.4}`, reason: ReasonMissingField},
		{name: "numeric id", in: `{"id":12,"reported_at":"2013-01-01T00:00:00Z","type":"theft","lat":22.5,"lng":113.4}`, reason: ReasonBadField},
		{name: "lat 95", in: `{"id":"L","reported_at":"2013-01-01T00:00:00Z","type":"theft","lat":95,"lng":113.4}`, reason: ReasonBadLocation, id: "L"},
		{name: "lat NaN string", in: `{"id":"N","reported_at":"2013-01-01T00:00:00Z","type":"theft","lat":"NaN","lng":113.4}`, reason: ReasonBadLocation, id: "N"},
		{name: "lng missing", in: `{"id":"M","reported_at":"2013-01-01T00:00:00Z","type":"theft","lat":22.5}`, reason: ReasonBadLocation, id: "M"},
		{name: "lng 1e400", in: `{"id":"I","reported_at":"2013-01-01T00:00:00Z","type":"theft","lat":22.5,"lng":1e400}`, reason: ReasonBadLocation, id: "I"},
		{name: "bad time", in: `{"id":"T","reported_at":"yesterday","type":"theft","lat":22.5,"lng":113.4}`, reason: ReasonBadField, id: "T", hasLoc: true},
		{name: "missing type", in: `{"id":"T2","reported_at":"2013-01-01T00:00:00Z","lat":22.5,"lng":113.4}`, reason: ReasonMissingField, id: "T2", hasLoc: true},
		{name: "priority 7", in: `{"id":"P","reported_at":"2013-01-01T00:00:00Z","type":"theft","priority":7,"lat":22.5,"lng":113.4}`, reason: ReasonBadField, id: "P", hasLoc: true},
		{name: "priority 1.5", in: `{"id":"P","reported_at":"2013-01-01T00:00:00Z","type":"theft","priority":1.5,"lat":22.5,"lng":113.4}`, reason: ReasonBadField, id: "P", hasLoc: true},
		{name: "negative material", in: `{"id":"Q","reported_at":"2013-01-01T00:00:00Z","type":"theft","lat":22.5,"lng":113.4,"materials":{"sandbag":-1}}`, reason: ReasonBadField, id: "Q", hasLoc: true},
		{name: "bad drill", in: `{"id":"D","reported_at":"2013-01-01T00:00:00Z","type":"theft","lat":22.5,"lng":113.4,"drill":"a b"}`, reason: ReasonBadField, id: "D", hasLoc: true},
		{name: "long description", in: `{"id":"X","reported_at":"2013-01-01T00:00:00Z","type":"theft","lat":22.5,"lng":113.4,"description":"` + strings.Repeat("x", 5000) + `"}`, reason: ReasonBadField, id: "X", hasLoc: true},
		{name: "invalid utf-8", in: `{"id":"U","reported_at":"2013-01-01T00:00:00Z","type":"theft","lat":22.5,"lng":113.4,"description":"` + "\xff\xfe" + `"}`, reason: ReasonInvalidUTF8, id: "U"},
		{name: "invalid utf-8 no id", in: "\xff\xfe", reason: ReasonInvalidUTF8},
		{name: "duplicate key keeps last", in: `{"id":"a","id":"b","reported_at":"2013-01-01T00:00:00Z","type":"theft","lat":22.5,"lng":113.4}`, id: "b", hasLoc: true},
		{name: "script text kept as text", in: `{"id":"S","reported_at":"2013-01-01T00:00:00Z","type":"theft","lat":22.5,"lng":113.4,"description":"<script>alert(1)</script>'; DROP TABLE incidents;--"}`, id: "S", hasLoc: true},
		{name: "deep nesting", in: `{"id":"Z","x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, reason: ReasonBadJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inc, err := DecodeIncident([]byte(tc.in))
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
			} else {
				var de *DecodeError
				if !errors.As(err, &de) || !errors.Is(err, ErrBadRecord) {
					t.Fatalf("error %v, want a DecodeError", err)
				}
				if de.Reason != tc.reason || ReasonOf(err) != tc.reason {
					t.Fatalf("reason %q, want %q (%v)", de.Reason, tc.reason, err)
				}
				if inc.ID != "" && inc.Invalid == "" {
					t.Fatalf("salvaged incident %q without Invalid", inc.ID)
				}
			}
			if inc.ID != tc.id {
				t.Fatalf("id %q, want %q", inc.ID, tc.id)
			}
			if inc.HasLocation != tc.hasLoc {
				t.Fatalf("HasLocation %v, want %v", inc.HasLocation, tc.hasLoc)
			}
			if tc.wantPrio != 0 && inc.Priority != tc.wantPrio {
				t.Fatalf("priority %d", inc.Priority)
			}
			if inc.Drill != tc.wantDrill && tc.reason == "" {
				t.Fatalf("drill %q", inc.Drill)
			}
		})
	}
}

func TestDecodeIncidentFields(t *testing.T) {
	inc, err := DecodeIncident([]byte(`{"id":" ZS-1 ","reported_at":"2013-05-31T20:14:03+08:00","type":"flood","lat":22.5,"lng":113.4,"materials":{"sandbag":200,"pump":0}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2013, 5, 31, 12, 14, 3, 0, time.UTC)
	if inc.ID != "ZS-1" || !inc.ReportedAt.Equal(want) || inc.Materials["sandbag"] != 200 || len(inc.Materials) != 1 {
		t.Fatalf("%+v", inc)
	}
}

func TestDecodeUnitEvent(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		reason string
		pos    bool
		status string
	}{
		{name: "position and status", in: `{"unit_id":"FIRE-1","at":"2013-01-01T00:00:00Z","lat":22.5,"lng":113.4,"status":"available"}`, pos: true, status: "available"},
		{name: "position only", in: `{"unit_id":"FIRE-1","at":"2013-01-01T00:00:00Z","lat":22.5,"lng":113.4}`, pos: true},
		{name: "status only", in: `{"unit_id":"FIRE-1","at":"2013-01-01T00:00:00Z","status":"on_scene","incident":"X"}`, status: "on_scene"},
		{name: "neither", in: `{"unit_id":"FIRE-1","at":"2013-01-01T00:00:00Z"}`, reason: ReasonMissingField},
		{name: "bad status", in: `{"unit_id":"FIRE-1","at":"2013-01-01T00:00:00Z","status":"asleep"}`, reason: ReasonBadField},
		{name: "no unit", in: `{"at":"2013-01-01T00:00:00Z","status":"available"}`, reason: ReasonMissingField},
		{name: "no time", in: `{"unit_id":"FIRE-1","status":"available"}`, reason: ReasonMissingField},
		{name: "lat only", in: `{"unit_id":"FIRE-1","at":"2013-01-01T00:00:00Z","lat":22.5}`, reason: ReasonBadLocation},
		{name: "lng 200", in: `{"unit_id":"FIRE-1","at":"2013-01-01T00:00:00Z","lat":22.5,"lng":200}`, reason: ReasonBadLocation},
		{name: "not json", in: `unit`, reason: ReasonBadJSON},
		{name: "invalid utf-8", in: "{\"unit_id\":\"\xff\"}", reason: ReasonInvalidUTF8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := DecodeUnitEvent([]byte(tc.in))
			if tc.reason != "" {
				if ReasonOf(err) != tc.reason || !errors.Is(err, ErrBadRecord) {
					t.Fatalf("error %v, want reason %s", err, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.HasPosition != tc.pos || ev.Status != tc.status {
				t.Fatalf("%+v", ev)
			}
		})
	}
}

// FuzzDecodeIncident: never panics; a valid result has a valid location and
// the required fields; an error always has a reason.
func FuzzDecodeIncident(f *testing.F) {
	f.Add([]byte(`{"id":"ZS110-1","reported_at":"2013-05-31T20:14:03+08:00","type":"fire.building","priority":1,"lat":22.5211,"lng":113.3925,"materials":{"sandbag":200}}`))
	f.Add([]byte(`{"id":"x","lat":"NaN"}`))
	f.Add([]byte("{\"id\":\"\xff\"}"))
	f.Add([]byte(`[[[[[[]]]]]]`))
	for _, c := range hostile.Incidents() {
		if len(c.Record) <= 64<<10 { // the fuzzer mutates seeds: keep them small
			f.Add(c.Record)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		inc, err := DecodeIncident(b)
		if err != nil {
			if ReasonOf(err) == "" || !errors.Is(err, ErrBadRecord) {
				t.Fatalf("error without reason: %v", err)
			}
			if inc.ID != "" && inc.Invalid == "" {
				t.Fatalf("salvaged incident without Invalid")
			}
			// What dispatchers would see of it: named, bounded, valid text.
			if got, ok := Salvage(b[:min(len(b), 16)], b, inc, err); ok {
				if !usableID(got.ID) || got.Invalid == "" {
					t.Fatalf("salvaged %q invalid %q", got.ID, got.Invalid)
				}
				checkRaw(t, got.Raw)
			}
			return
		}
		if inc.ID == "" || inc.Type == "" || inc.ReportedAt.IsZero() || !inc.HasLocation {
			t.Fatalf("accepted incomplete incident %+v", inc)
		}
		if math.IsNaN(inc.Lat) || inc.Lat < -90 || inc.Lat > 90 || inc.Lng < -180 || inc.Lng > 180 {
			t.Fatalf("accepted location %v,%v", inc.Lat, inc.Lng)
		}
		if !utf8.ValidString(inc.Description) || len(inc.Description) > maxTextLen {
			t.Fatalf("accepted description")
		}
	})
}

// FuzzDecodeUnitEvent: never panics; accepted events are well-formed.
func FuzzDecodeUnitEvent(f *testing.F) {
	f.Add([]byte(`{"unit_id":"FIRE-SQ-01","at":"2013-05-31T20:14:03+08:00","lat":22.52,"lng":113.38,"status":"available"}`))
	f.Add([]byte(`{"unit_id":"u","at":"x"}`))
	for _, c := range hostile.UnitEvents("FIRE-SQ-01") {
		if len(c.Record) <= 64<<10 {
			f.Add(c.Record)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := DecodeUnitEvent(b)
		if err != nil {
			if ReasonOf(err) == "" {
				t.Fatalf("error without reason: %v", err)
			}
			return
		}
		if ev.UnitID == "" || ev.At.IsZero() || (!ev.HasPosition && ev.Status == "") {
			t.Fatalf("accepted incomplete event %+v", ev)
		}
		if ev.HasPosition && (math.IsNaN(ev.Lat) || ev.Lat < -90 || ev.Lat > 90 || ev.Lng < -180 || ev.Lng > 180) {
			t.Fatalf("accepted position %v,%v", ev.Lat, ev.Lng)
		}
	})
}
