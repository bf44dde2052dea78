package wire

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/zs110/dispatch/dispatch"
)

// TestSalvageIncident: a refused record that names an incident by a
// readable id or by its key is kept as a call for dispatchers, with the
// reason, the field and the raw text; one that names none is not.
func TestSalvageIncident(t *testing.T) {
	long := `{"id":"ZS-LONG","description":"` + strings.Repeat("火", 3000) + `"`
	cases := []struct {
		name, key, value string
		ok               bool
		id, reason       string
		field, typ       string
		drill            string
	}{
		{"NaN as Python writes it", "ZS-K1", `{"id": "ZS-NAN", "reported_at": "2013-06-01T10:00:00+08:00", "type": "fire.building", "lat": NaN, "lng": 113.4}`,
			true, "ZS-NAN", ReasonBadJSON, "", "fire.building", ""},
		{"truncated record", "", `{"id":"ZS-CUT","type":"medical.collapse","drill":"d1","lat":22.5,"ln`,
			true, "ZS-CUT", ReasonBadJSON, "", "medical.collapse", "d1"},
		{"no readable id: the key names it", "ZS-KEY", `{"lat": NaN, "type": "traffic.accident"`,
			true, "ZS-KEY", ReasonBadJSON, "", "traffic.accident", ""},
		{"readable id wins over the key", "ZS-KEY", `{"id":"ZS-BODY", "lat": Infinity}`,
			true, "ZS-BODY", ReasonBadJSON, "", "", ""},
		{"bad field: the decoder's incident, with the field", "", `{"id":"ZS-BF","reported_at":"2013-06-01T10:00:00+08:00","type":"x","lat":22.5,"lng":113.4,"priority":"high"}`,
			true, "ZS-BF", ReasonBadField, "priority", "x", ""},
		{"bad location", "", `{"id":"ZS-BL","reported_at":"2013-06-01T10:00:00+08:00","type":"x","lat":95,"lng":113.4}`,
			true, "ZS-BL", ReasonBadLocation, "lat", "x", ""},
		{"invalid UTF-8", "", "{\"id\":\"ZS-U8\",\"reported_at\":\"2013-06-01T10:00:00+08:00\",\"type\":\"x\",\"lat\":22.5,\"lng\":113.4,\"address\":\"\xff\"}",
			true, "ZS-U8", ReasonInvalidUTF8, "", "x", ""},
		{"long and cut short: raw bounded", "", long, true, "ZS-LONG", ReasonBadJSON, "", "", ""},
		{"nothing names it", "", `{"lat": NaN`, false, "", "", "", "", ""},
		{"a key with control characters names nothing", "bad\x01key", `garbage`, false, "", "", "", "", ""},
		{"an id with a control character is not read", "", "{\"id\":\"a\x01b\", \"lat\": NaN}", false, "", "", "", "", ""},
		{"not an error: nothing to salvage", "", `{"id":"OK","reported_at":"2013-06-01T10:00:00+08:00","type":"x","lat":22.5,"lng":113.4}`,
			false, "", "", "", "", ""},
		{"a bad drill name is not read", "", `{"id":"ZS-D","drill":"a b", "lat": NaN}`, true, "ZS-D", ReasonBadJSON, "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inc, err := DecodeIncident([]byte(tc.value))
			got, ok := Salvage([]byte(tc.key), []byte(tc.value), inc, err)
			if ok != tc.ok {
				t.Fatalf("ok %v, want %v (%+v, decode error %v)", ok, tc.ok, got, err)
			}
			if !ok {
				return
			}
			if got.ID != tc.id || got.Invalid != tc.reason || got.InvalidField != tc.field || got.Type != tc.typ || got.Drill != tc.drill {
				t.Errorf("got id %q reason %q field %q type %q drill %q, want %q %q %q %q %q", got.ID, got.Invalid, got.InvalidField, got.Type, got.Drill,
					tc.id, tc.reason, tc.field, tc.typ, tc.drill)
			}
			if got.HasLocation && (tc.reason == ReasonBadLocation || tc.reason == ReasonBadJSON || tc.reason == ReasonInvalidUTF8) {
				t.Errorf("salvaged call has a location")
			}
			checkRaw(t, got.Raw)
			if len(tc.value) <= dispatch.MaxRaw && utf8.ValidString(tc.value) && got.Raw != tc.value {
				t.Errorf("raw %q, want the record %q", got.Raw, tc.value)
			}
		})
	}
}

func checkRaw(t *testing.T, raw string) {
	t.Helper()
	if raw == "" || len(raw) > dispatch.MaxRaw || !utf8.ValidString(raw) || strings.IndexByte(raw, 0) >= 0 {
		t.Fatalf("raw of %d bytes, valid %v, NUL %v", len(raw), utf8.ValidString(raw), strings.IndexByte(raw, 0) >= 0)
	}
}
