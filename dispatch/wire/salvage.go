package wire

import (
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/zs110/dispatch/dispatch"
)

// readable finds a string field in text that is not JSON (a truncated
// record, NaN, a stray comma): "name": "value" with no escapes in value.
var readable = regexp.MustCompile(`"(id|type|drill|address)"\s*:\s*"([^"\\\x00-\x1f]{1,128})"`)

// Salvage returns the call a refused incident record still names, for
// dispatchers to handle manually: a call is a call. inc and err are what
// DecodeIncident returned for value; key is the Kafka record's key.
//
// The incident is the decoded one when the decoder could read an id; else
// its id is a readable "id" field of the raw text (a record cut short, a
// NaN that Python's json.dumps writes), else the record's key. Invalid is
// the dead-letter reason, InvalidField the offending field, Raw the
// record's text (at most dispatch.MaxRaw bytes of valid UTF-8, NUL
// replaced). ok is false when nothing names an incident (or err is nil).
func Salvage(key, value []byte, inc dispatch.Incident, err error) (dispatch.Incident, bool) {
	var de *DecodeError
	if err == nil || !errors.As(err, &de) {
		return inc, false
	}
	if inc.ID == "" {
		text := strings.ToValidUTF8(string(value), "\uFFFD")
		inc = dispatch.Incident{}
		for _, m := range readable.FindAllStringSubmatch(text, -1) {
			v := strings.TrimSpace(m[2])
			switch m[1] {
			case "id":
				if inc.ID == "" && usableID(v) {
					inc.ID = v
				}
			case "type":
				if inc.Type == "" {
					inc.Type = v
				}
			case "drill":
				if inc.Drill == "" && validName(v) {
					inc.Drill = v
				}
			case "address":
				if inc.Address == "" {
					inc.Address = v
				}
			}
		}
		if inc.ID == "" {
			if k := strings.TrimSpace(string(key)); usableID(k) {
				inc.ID = k
			}
		}
		if inc.ID == "" {
			return dispatch.Incident{}, false
		}
	}
	inc.HasLocation = inc.HasLocation && de.Reason != ReasonBadLocation
	inc.Invalid = de.Reason
	inc.InvalidField = de.Field
	inc.Raw = rawText(value)
	return inc, true
}

// usableID reports whether s can name an incident: UTF-8, not empty, at
// most maxIDLen bytes, no control characters.
func usableID(s string) bool {
	return s != "" && len(s) <= maxIDLen && utf8.ValidString(s) &&
		!strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// rawText is b as valid UTF-8 without NUL (no PostgreSQL text can hold
// it), cut to dispatch.MaxRaw bytes on a character boundary.
func rawText(b []byte) string {
	if len(b) > 4*dispatch.MaxRaw {
		b = b[:4*dispatch.MaxRaw] // enough to fill MaxRaw after repair
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	if len(s) <= dispatch.MaxRaw {
		return s
	}
	cut := dispatch.MaxRaw - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
