package hostile

import (
	"encoding/json"
	"strings"
)

// Case is one hostile record.
type Case struct {
	// Name identifies the case; the end-to-end test uses it as the Kafka key.
	Name string
	// Record is the raw bytes, as a producer would send them.
	Record []byte
	// Reason is the dead-letter reason intake must give it; "" means the
	// record is valid and must be decided (incidents) or applied.
	Reason string
	// DecodeReason is the decoder's own reason when intake's differs (the
	// size limit is intake's: the decoder sees a too long field). "": Reason.
	DecodeReason string
	// ID is the incident id the record still names, "" when none: a refused
	// record with an ID reaches dispatchers as a manual call.
	ID string
	// Text is the free text an accepted incident must keep verbatim, by
	// field (address, description, caller).
	Text map[string]string
}

// Payloads are the SQL and script texts put in free-text fields.
var Payloads = []string{
	`<script>alert("zs110")</script>`,
	`'); DROP TABLE incidents; --`,
	`" OR 1=1 --`,
	`<img src=x onerror=alert(1)>`,
	`{{.}} ${jndi:ldap://x} %s %n \u0000`,
	"路口 <b>粗体</b> & \"引号\" \\ 反斜杠",
}

const at = `"2013-05-31T20:14:03+08:00"`

// rec builds an incident record from its fields' JSON.
func rec(fields ...string) []byte {
	return []byte("{" + strings.Join(fields, ",") + "}")
}

func str(name, v string) string {
	b, _ := json.Marshal(v)
	return `"` + name + `":` + string(b)
}

func base(id string) []string {
	return []string{str("id", id), `"reported_at":` + at, `"type":"theft"`, `"lat":22.5220`, `"lng":113.3790`}
}

// Incidents returns the incident corpus. MaxRecordBytes is intake's record
// size limit (the 10 MB record must exceed it).
func Incidents() []Case {
	text := map[string]string{
		"address":     Payloads[0] + " " + Payloads[1],
		"description": strings.Join(Payloads, " | "),
		"caller":      Payloads[2] + " 13800138000",
	}
	free := base("HOST-TEXT")
	for _, f := range []string{"address", "description", "caller"} {
		free = append(free, str(f, text[f]))
	}
	deep := `{"id":"HOST-DEEP","x":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`
	big := rec(append(base("HOST-10MB"), str("description", strings.Repeat("x", 10<<20)))...)
	return []Case{
		{Name: "sql and script text in every free-text field", Record: rec(free...), ID: "HOST-TEXT", Text: text},
		{Name: "script text as the id", Record: rec(append(base(`<script>alert(1)</script>`), str("description", "id is markup"))...), ID: `<script>alert(1)</script>`},
		{Name: "sql text as the id", Record: rec(base(`x'); DROP TABLE incidents; --`)...), ID: `x'); DROP TABLE incidents; --`},
		{Name: "sql text as the type", Record: rec(str("id", "HOST-TYPE"), `"reported_at":`+at, str("type", `theft'; DELETE FROM units; --`), `"lat":22.52`, `"lng":113.38`), ID: "HOST-TYPE"},
		{Name: "duplicate keys: the last wins", Record: rec(append([]string{str("id", "HOST-DUP-FIRST")}, append(base("HOST-DUP"), `"lat":22.53`)...)...), ID: "HOST-DUP"},
		{Name: "invalid utf-8 in the description", Record: rec(append(base("HOST-UTF8"), `"description":"`+"\xff\xfe\xfd"+`"`)...), Reason: "invalid_utf8", ID: "HOST-UTF8"},
		{Name: "invalid utf-8 everywhere", Record: []byte("\xff\xfe{\"id\":\xc3\x28}"), Reason: "invalid_utf8"},
		{Name: "NUL character in the description", Record: rec(append(base("HOST-NUL"), `"description":"a\u0000b"`)...), Reason: "bad_field", ID: "HOST-NUL"},
		{Name: "NaN latitude", Record: rec(str("id", "HOST-NAN"), `"reported_at":`+at, `"type":"theft"`, `"lat":"NaN"`, `"lng":113.38`), Reason: "bad_location", ID: "HOST-NAN"},
		{Name: "infinite longitude", Record: rec(str("id", "HOST-INF"), `"reported_at":`+at, `"type":"theft"`, `"lat":22.5`, `"lng":1e999`), Reason: "bad_location", ID: "HOST-INF"},
		{Name: "Infinity literal", Record: rec(str("id", "HOST-INFLIT"), `"reported_at":`+at, `"type":"theft"`, `"lat":22.5`, `"lng":-Infinity`), Reason: "bad_json"},
		{Name: "latitude as an object", Record: rec(str("id", "HOST-OBJ"), `"reported_at":`+at, `"type":"theft"`, `"lat":{"$gt":0}`, `"lng":113.38`), Reason: "bad_location", ID: "HOST-OBJ"},
		{Name: "10 MB record", Record: big, Reason: "oversized", DecodeReason: "bad_field", ID: "HOST-10MB"},
		{Name: "deeply nested JSON", Record: []byte(deep), Reason: "bad_json"},
		{Name: "priority 1e309", Record: rec(append(base("HOST-PRIO"), `"priority":1e309`)...), Reason: "bad_field", ID: "HOST-PRIO"},
		{Name: "a thousand materials", Record: rec(append(base("HOST-MAT"), `"materials":{`+materials(1000)+`}`)...), Reason: "bad_field", ID: "HOST-MAT"},
		{Name: "id of 200 bytes", Record: rec(base(strings.Repeat("I", 200))...), Reason: "bad_field"},
		{Name: "byte order mark", Record: append([]byte("\ufeff"), rec(base("HOST-BOM")...)...), Reason: "bad_json"},
		{Name: "empty object", Record: []byte(`{}`), Reason: "missing_field"},
		{Name: "JSON array", Record: []byte(`[{"id":"HOST-ARR"}]`), Reason: "bad_json"},
		{Name: "empty record", Record: []byte{}, Reason: "bad_json"},
	}
}

func materials(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `"item` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strings.Repeat("0", i/26) + `":1`
	}
	return strings.Join(parts, ",")
}

// UnitEvents returns the unit-event corpus. unit is a unit of the scenario.
func UnitEvents(unit string) []Case {
	u := str("unit_id", unit)
	return []Case{
		{Name: "unit: invalid utf-8", Record: []byte(`{"unit_id":"` + "\xff" + `","at":` + at + `,"status":"available"}`), Reason: "invalid_utf8"},
		{Name: "unit: NaN position", Record: rec(u, `"at":`+at, `"lat":"NaN"`, `"lng":113.38`), Reason: "bad_location"},
		{Name: "unit: infinite position", Record: rec(u, `"at":`+at, `"lat":22.5`, `"lng":-1e999`), Reason: "bad_location"},
		{Name: "unit: sql text as the unit", Record: rec(str("unit_id", `U'; UPDATE units SET status='available'; --`), `"at":`+at, `"status":"available"`), Reason: "unknown_unit"},
		{Name: "unit: script text as the incident", Record: rec(u, `"at":"2100-01-01T00:00:00Z"`, `"status":"en_route"`, str("incident", `<script>alert(1)</script>`)), Reason: "illegal_status"},
		{Name: "unit: deeply nested JSON", Record: []byte(`{"unit_id":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`), Reason: "bad_json"},
		{Name: "unit: 10 MB record", Record: rec(u, `"at":`+at, `"status":"available"`, str("drill", strings.Repeat("d", 10<<20))), Reason: "oversized", DecodeReason: "bad_field"},
		{Name: "unit: NUL in the incident", Record: rec(u, `"at":`+at, `"status":"en_route"`, `"incident":"A\u0000"`), Reason: "bad_field"},
	}
}
