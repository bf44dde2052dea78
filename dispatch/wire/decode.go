package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/teams"
)

// Decoding errors. Every error returned by DecodeIncident and
// DecodeUnitEvent wraps ErrBadRecord and is a *DecodeError naming the reason
// that goes into the dead-letter record.
var (
	// ErrBadRecord: a record of outside input that intake refuses.
	ErrBadRecord = errors.New("bad record")
)

// Reasons of refused records, as written in the dead-letter "reason" header.
const (
	ReasonBadJSON      = "bad_json"       // not a JSON object
	ReasonInvalidUTF8  = "invalid_utf8"   // not UTF-8 text
	ReasonMissingField = "missing_field"  // a required field is absent or empty
	ReasonBadField     = "bad_field"      // a field has the wrong type or an impossible value
	ReasonBadLocation  = "bad_location"   // lat/lng missing, wrong-typed, NaN or out of range
	ReasonOversized    = "oversized"      // the record is larger than intake accepts
	ReasonUnknownUnit  = "unknown_unit"   // a unit event names no unit of the scenario
	ReasonIllegal      = "illegal_status" // a status change the state machine refuses
	// ReasonStaleReport: a refused status report made before the unit's
	// last change (a redelivery after a crash or rebalance, a terminal
	// resending): a duplicate, not news.
	ReasonStaleReport = "stale_report"
)

// Limits of the decoders.
const (
	maxIDLen   = 128
	maxTextLen = 4096 // address, description, caller
	maxItems   = 64   // distinct materials on one call
	maxQty     = 1_000_000
)

// DecodeError is a record intake refused, with the reason for the
// dead-letter header. ID is the incident (or unit) id when the record names
// one: a call that names an incident is shown to dispatchers even when it
// cannot be decided automatically.
type DecodeError struct {
	Reason string
	Field  string // the offending field, if one
	ID     string
	Err    error
}

func (e *DecodeError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %v", e.Reason, e.Field, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Reason, e.Err)
}

// Unwrap makes errors.Is(err, ErrBadRecord) hold.
func (e *DecodeError) Unwrap() []error { return []error{ErrBadRecord, e.Err} }

// ReasonOf returns the dead-letter reason of a decoding or engine error.
func ReasonOf(err error) string {
	var de *DecodeError
	if errors.As(err, &de) {
		return de.Reason
	}
	return rejectReason(err)
}

// DecodeIncident decodes one incident record (UTF-8 JSON in the schema of
// docs/protocol.md). id, reported_at, type, lat and lng are required.
//
// On error it returns a *DecodeError. When the record still names an
// incident (a usable id) the returned Incident is not empty: it carries what
// could be read, HasLocation false when the location was the problem, and
// Invalid set to the reason, so that the caller can show it to dispatchers
// as a call for manual handling (a call is a call). ReportedAt may then be
// zero: the caller fills it from the record's timestamp.
func DecodeIncident(b []byte) (dispatch.Incident, error) {
	var inc dispatch.Incident
	if !utf8.Valid(b) {
		// Salvage the id of the call from a repaired copy; the original
		// bytes go to the dead-letter topic.
		fixed := []byte(strings.ToValidUTF8(string(b), "\uFFFD"))
		if salvaged, _ := DecodeIncident(fixed); salvaged.ID != "" {
			salvaged.Invalid = ReasonInvalidUTF8
			salvaged.HasLocation = false
			return salvaged, &DecodeError{Reason: ReasonInvalidUTF8, ID: salvaged.ID, Err: errors.New("record is not valid UTF-8")}
		}
		return inc, &DecodeError{Reason: ReasonInvalidUTF8, Err: errors.New("record is not valid UTF-8")}
	}
	fields, err := object(b)
	if err != nil {
		return inc, err
	}
	id, err := str(fields, "id", maxIDLen, true)
	if err != nil {
		return inc, err
	}
	inc.ID = id
	// From here on the record names an incident: collect the first problem
	// and keep reading what can be read.
	var first *DecodeError
	note := func(err error) {
		var de *DecodeError
		if err != nil && first == nil && errors.As(err, &de) {
			de.ID = id
			first = de
		}
	}
	if s, err := str(fields, "reported_at", 64, true); err != nil {
		note(err)
	} else if t, perr := parseTime(s); perr != nil {
		note(&DecodeError{Reason: ReasonBadField, Field: "reported_at", Err: perr})
	} else {
		inc.ReportedAt = t
	}
	inc.Type, err = str(fields, "type", 64, true)
	note(err)
	if n, ok, err := integer(fields, "priority", 0, 4); err != nil {
		note(err)
	} else if ok {
		inc.Priority = n
	}
	if n, ok, err := integer(fields, "casualties", 0, 100000); err != nil {
		note(err)
	} else if ok {
		inc.Casualties = n
	}
	inc.Address, err = str(fields, "address", maxTextLen, false)
	note(err)
	inc.Description, err = str(fields, "description", maxTextLen, false)
	note(err)
	inc.Caller, err = str(fields, "caller", maxTextLen, false)
	note(err)
	inc.Drill, err = str(fields, "drill", 64, false)
	note(err)
	if err == nil && inc.Drill != "" && !validName(inc.Drill) {
		note(&DecodeError{Reason: ReasonBadField, Field: "drill", Err: errors.New("only letters, digits, '.', '_' and '-'")})
	}
	inc.Materials, err = materials(fields)
	note(err)
	lat, lng, err := location(fields, true)
	if err != nil {
		note(err)
	} else {
		inc.Lat, inc.Lng, inc.HasLocation = lat, lng, true
	}
	if first != nil {
		inc.Invalid = first.Reason
		return inc, first
	}
	return inc, nil
}

// DecodeUnitEvent decodes one unit event record: unit_id and at are
// required, and a position (lat and lng together), a status, or both.
func DecodeUnitEvent(b []byte) (dispatch.UnitEvent, error) {
	var ev dispatch.UnitEvent
	if !utf8.Valid(b) {
		return ev, &DecodeError{Reason: ReasonInvalidUTF8, Err: errors.New("record is not valid UTF-8")}
	}
	fields, err := object(b)
	if err != nil {
		return ev, err
	}
	if ev.UnitID, err = str(fields, "unit_id", maxIDLen, true); err != nil {
		return ev, err
	}
	fail := func(err error) (dispatch.UnitEvent, error) {
		var de *DecodeError
		if errors.As(err, &de) {
			de.ID = ev.UnitID
		}
		return dispatch.UnitEvent{}, err
	}
	s, err := str(fields, "at", 64, true)
	if err != nil {
		return fail(err)
	}
	if ev.At, err = parseTime(s); err != nil {
		return fail(&DecodeError{Reason: ReasonBadField, Field: "at", Err: err})
	}
	if ev.Status, err = str(fields, "status", 32, false); err != nil {
		return fail(err)
	}
	if ev.Status != "" {
		if _, err := teams.ParseStatus(ev.Status); err != nil {
			return fail(&DecodeError{Reason: ReasonBadField, Field: "status", Err: err})
		}
	}
	if ev.Incident, err = str(fields, "incident", maxIDLen, false); err != nil {
		return fail(err)
	}
	if ev.Drill, err = str(fields, "drill", 64, false); err != nil {
		return fail(err)
	}
	if ev.Drill != "" && !validName(ev.Drill) {
		return fail(&DecodeError{Reason: ReasonBadField, Field: "drill", Err: errors.New("only letters, digits, '.', '_' and '-'")})
	}
	lat, lng, err := location(fields, false)
	if err != nil {
		return fail(err)
	}
	_, hasLat := fields["lat"]
	_, hasLng := fields["lng"]
	ev.HasPosition = hasLat || hasLng
	ev.Lat, ev.Lng = lat, lng
	if !ev.HasPosition && ev.Status == "" {
		return fail(&DecodeError{Reason: ReasonMissingField, Field: "status", Err: errors.New("neither a position nor a status")})
	}
	return ev, nil
}

// object parses b as one JSON object, keeping its fields raw. A duplicated
// key keeps its last value, as encoding/json does.
func object(b []byte) (map[string]json.RawMessage, error) {
	var fields map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&fields); err != nil {
		return nil, &DecodeError{Reason: ReasonBadJSON, Err: errors.New(shorten(err.Error()))}
	}
	if fields == nil {
		return nil, &DecodeError{Reason: ReasonBadJSON, Err: errors.New("not a JSON object")}
	}
	if d.More() {
		return nil, &DecodeError{Reason: ReasonBadJSON, Err: errors.New("data after the JSON object")}
	}
	if _, err := d.Token(); err == nil {
		return nil, &DecodeError{Reason: ReasonBadJSON, Err: errors.New("data after the JSON object")}
	}
	return fields, nil
}

func shorten(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

func str(fields map[string]json.RawMessage, name string, maxLen int, required bool) (string, error) {
	raw, ok := fields[name]
	if !ok || string(raw) == "null" {
		if required {
			return "", &DecodeError{Reason: ReasonMissingField, Field: name, Err: errors.New("required")}
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", &DecodeError{Reason: ReasonBadField, Field: name, Err: errors.New("not a string")}
	}
	s = strings.TrimSpace(s)
	if required && s == "" {
		return "", &DecodeError{Reason: ReasonMissingField, Field: name, Err: errors.New("empty")}
	}
	if len(s) > maxLen {
		return "", &DecodeError{Reason: ReasonBadField, Field: name, Err: fmt.Errorf("longer than %d bytes", maxLen)}
	}
	if strings.IndexByte(s, 0) >= 0 {
		// No text column or jsonb value of PostgreSQL can hold NUL: accepted,
		// it would fail every write of its batch.
		return "", &DecodeError{Reason: ReasonBadField, Field: name, Err: errors.New("NUL character")}
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' }) && maxLen <= maxIDLen {
		return "", &DecodeError{Reason: ReasonBadField, Field: name, Err: errors.New("control characters")}
	}
	return s, nil
}

func integer(fields map[string]json.RawMessage, name string, lo, hi int) (int, bool, error) {
	raw, ok := fields[name]
	if !ok || string(raw) == "null" {
		return 0, false, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || f != math.Trunc(f) {
		return 0, false, &DecodeError{Reason: ReasonBadField, Field: name, Err: errors.New("not an integer")}
	}
	if f < float64(lo) || f > float64(hi) {
		return 0, false, &DecodeError{Reason: ReasonBadField, Field: name, Err: fmt.Errorf("out of range %d-%d", lo, hi)}
	}
	return int(f), true, nil
}

func materials(fields map[string]json.RawMessage) (map[string]int, error) {
	raw, ok := fields["materials"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var m map[string]float64
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &DecodeError{Reason: ReasonBadField, Field: "materials", Err: errors.New("not an object of item quantities")}
	}
	if len(m) > maxItems {
		return nil, &DecodeError{Reason: ReasonBadField, Field: "materials", Err: fmt.Errorf("more than %d items", maxItems)}
	}
	out := make(map[string]int, len(m))
	for k, v := range m {
		if k == "" || len(k) > 64 || v != math.Trunc(v) || v < 0 || v > maxQty {
			return nil, &DecodeError{Reason: ReasonBadField, Field: "materials." + shorten(k), Err: fmt.Errorf("quantity must be an integer 0-%d", maxQty)}
		}
		if v > 0 {
			out[k] = int(v)
		}
	}
	return out, nil
}

// location reads lat and lng. With required false, both absent is fine.
func location(fields map[string]json.RawMessage, required bool) (lat, lng float64, err error) {
	rawLat, okLat := fields["lat"]
	rawLng, okLng := fields["lng"]
	if !okLat && !okLng && !required {
		return 0, 0, nil
	}
	if !okLat || !okLng {
		return 0, 0, &DecodeError{Reason: ReasonBadLocation, Field: "lat/lng", Err: errors.New("lat and lng are both required")}
	}
	if json.Unmarshal(rawLat, &lat) != nil {
		return 0, 0, &DecodeError{Reason: ReasonBadLocation, Field: "lat", Err: errors.New("not a number")}
	}
	if json.Unmarshal(rawLng, &lng) != nil {
		return 0, 0, &DecodeError{Reason: ReasonBadLocation, Field: "lng", Err: errors.New("not a number")}
	}
	if !(lat >= -90 && lat <= 90) {
		return 0, 0, &DecodeError{Reason: ReasonBadLocation, Field: "lat", Err: fmt.Errorf("%v out of -90..90", lat)}
	}
	if !(lng >= -180 && lng <= 180) {
		return 0, 0, &DecodeError{Reason: ReasonBadLocation, Field: "lng", Err: fmt.Errorf("%v out of -180..180", lng)}
	}
	return lat, lng, nil
}

// parseTime parses an RFC 3339 time between 1970 and 2200.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errors.New("not an RFC 3339 time")
	}
	if t.Year() < 1970 || t.Year() > 2200 {
		return time.Time{}, errors.New("year out of 1970-2200")
	}
	return t, nil
}

func validName(s string) bool {
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return false
		}
	}
	return true
}

// rejectReason is the dead-letter reason of an input the engine refused.
func rejectReason(err error) string {
	switch {
	case errors.Is(err, dispatch.ErrUnknownUnit):
		return ReasonUnknownUnit
	case errors.Is(err, dispatch.ErrStaleReport):
		return ReasonStaleReport
	case errors.Is(err, dispatch.ErrIllegalStatus):
		return ReasonIllegal
	default:
		return "rejected"
	}
}
