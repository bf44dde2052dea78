package wire

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/teams"
)

// An incident record is in most console events, several times per
// incident: reflection-based encoding/json was most of the decision path's
// time. These functions write exactly the bytes
// json.Marshal writes for the same values (fastjson_test.go checks it for
// every field, so a field added to these types without its line here fails
// the test); a value they cannot write (a NaN, a time outside years 0-9999)
// falls back to json.Marshal, errors included.

// Encoder writes the JSON of console events (Event.Data) and assignment
// records (OutboxRecord.Value) from the engine's typed values: exactly the
// bytes encoding/json writes for them. It remembers the JSON of recent
// recommendations, which come back in event after event. It is not safe
// for concurrent use: a store keeps one under its lock.
type Encoder struct {
	buf []byte
	rc  recCache
}

// EventData returns the JSON of ev's body (nil for an empty body).
func (e *Encoder) EventData(ev *dispatch.Event) json.RawMessage {
	b := ev.Body
	switch {
	case b.Record != nil && b.Pick != nil:
		d, _ := assignmentEventJSON(&e.buf, &e.rc, b.Record, b.Pick) // {"incident": rec, "unit": pick}
		return d
	case b.Record != nil:
		d, _ := recordJSON(&e.buf, &e.rc, b.Record)
		return d
	case b.Change != nil:
		d, _ := unitChangeJSON(&e.buf, b.Change)
		return d
	case ev.Kind == dispatch.EvAssignmentEscalated:
		return marshal(struct {
			Incident string `json:"incident"`
			Message  string `json:"message"`
			Unit     string `json:"unit"`
			WaitedS  int    `json:"waited_s"`
		}{ev.Incident, b.Message, ev.Unit, b.WaitedS})
	case ev.Kind == dispatch.EvStockRestocked:
		return marshal(struct {
			Depot string `json:"depot"`
			Item  string `json:"item"`
			Qty   int    `json:"qty"`
		}{b.Depot, b.Item, b.Qty})
	case ev.Kind == dispatch.EvMoveUp:
		return marshal(struct {
			Message string `json:"message"`
			Station string `json:"station"`
			Unit    string `json:"unit"`
		}{b.Message, b.Station, ev.Unit})
	case b.Reason != "":
		return marshal(struct {
			Reason string `json:"reason"`
		}{b.Reason})
	}
	return nil
}

// AssignmentMessage is the value of a record on the assignments topic.
type AssignmentMessage struct {
	// DedupKey is unique per (drill, incident, version): a consumer that sees
	// it twice (the relay is at-least-once) drops the second copy.
	DedupKey string  `json:"dedup_key"`
	Incident string  `json:"incident"`
	Drill    string  `json:"drill,omitempty"`
	Version  int     `json:"version"`
	State    string  `json:"state"`
	Type     string  `json:"type"`
	Priority int     `json:"priority"`
	Lat      float64 `json:"lat"`
	Lng      float64 `json:"lng"`
	Town     string  `json:"town,omitempty"`
	// Located says how a dispatcher placed an incident that came without a
	// position (approximate: a place or a click on the map): crews should know.
	Located   *dispatch.Located       `json:"located,omitempty"`
	Units     []dispatch.UnitPick     `json:"units"`
	Materials []dispatch.MaterialPick `json:"materials,omitempty"`
	At        time.Time               `json:"at"`
}

// Assignment is the message of an outbox record: the incident's assigned
// units (those of its recommendation it has now) and materials.
func Assignment(r *dispatch.OutboxRecord) AssignmentMessage {
	rec := r.Record
	m := AssignmentMessage{
		DedupKey: fmt.Sprintf("%s|%s|%d", r.Drill, rec.ID, rec.Version),
		Incident: rec.ID, Drill: r.Drill, Version: rec.Version, State: rec.State, Type: rec.Type,
		Priority: rec.Priority, Lat: rec.Lat, Lng: rec.Lng, Town: rec.Town, Located: rec.Located, At: r.At, Units: []dispatch.UnitPick{},
	}
	if rec.Rec != nil {
		for _, p := range rec.Rec.Units {
			if slices.Contains(rec.Assigned, p.UnitID) {
				m.Units = append(m.Units, p)
			}
		}
		m.Materials = rec.Rec.Materials
	}
	return m
}

// AssignmentValue returns the JSON of an outbox record's message.
func (e *Encoder) AssignmentValue(r *dispatch.OutboxRecord) []byte {
	m := Assignment(r)
	v, _ := assignmentJSON(&e.buf, &m)
	return v
}

// Fill writes Data of every event and Value of every outbox record of outs
// that has none.
func (e *Encoder) Fill(outs []*dispatch.Outcome) {
	for _, o := range outs {
		for i := range o.Events {
			if o.Events[i].Data == nil {
				o.Events[i].Data = e.EventData(&o.Events[i])
			}
		}
		for i := range o.Outbox {
			if r := &o.Outbox[i]; r.Value == nil && r.Record != nil {
				r.Value = e.AssignmentValue(r)
			}
		}
	}
}

// marshal is json.Marshal of the small bodies (their fields cannot fail).
func marshal(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal %T: %v", v, err))
	}
	return b
}

// recordJSON is json.Marshal(rec). scratch, when not nil, is a buffer
// reused between calls: the result is an exact-size copy.
func recordJSON(scratch *[]byte, rc *recCache, rec *dispatch.IncidentRecord) ([]byte, error) {
	b, ok := appendRecord(take(scratch), rc, rec)
	if ok {
		return keep(scratch, b), nil
	}
	return json.Marshal(rec)
}

// assignmentEventJSON is json.Marshal of {"incident": rec, "unit": pick}.
func assignmentEventJSON(scratch *[]byte, rc *recCache, rec *dispatch.IncidentRecord, pick *dispatch.UnitPick) ([]byte, error) {
	if rec != nil {
		b, ok := appendRecord(append(take(scratch), `{"incident":`...), rc, rec)
		b = jpick(append(b, `,"unit":`...), pick, &ok)
		if ok {
			return keep(scratch, append(b, '}')), nil
		}
	}
	return json.Marshal(struct {
		Incident *dispatch.IncidentRecord `json:"incident"`
		Unit     dispatch.UnitPick        `json:"unit"`
	}{rec, *pick})
}

// unitChangeJSON is json.Marshal(c).
func unitChangeJSON(scratch *[]byte, c *teams.UnitChange) ([]byte, error) {
	if b, ok := appendUnitChange(take(scratch), c); ok {
		return keep(scratch, b), nil
	}
	return json.Marshal(c)
}

// assignmentJSON is json.Marshal(m).
func assignmentJSON(scratch *[]byte, m *AssignmentMessage) ([]byte, error) {
	if b, ok := appendAssignment(take(scratch), m); ok {
		return keep(scratch, b), nil
	}
	return json.Marshal(m)
}

func take(scratch *[]byte) []byte {
	if scratch == nil {
		return nil
	}
	return (*scratch)[:0]
}

// keep returns an exact-size copy of b and keeps b's array as the scratch buffer.
func keep(scratch *[]byte, b []byte) []byte {
	if scratch == nil {
		return b
	}
	*scratch = b[:0]
	return append([]byte(nil), b...)
}

// The appenders below take and return the buffer (no pointer to it is
// stored: no write barriers) and clear *ok on a value only encoding/json
// can judge.

// jkey appends ,"name": (without the comma when first).
func jkey(b []byte, name string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

func jstr(b []byte, s string, ok *bool) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil {
				*ok = false
				return b
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func jint(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) }

func jbool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// jfloat writes f as encoding/json does ('f', or 'e' for very small and
// very large magnitudes, exponent without a leading zero).
func jfloat(b []byte, f float64, ok *bool) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		*ok = false
		return b
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

func jtime(b []byte, t time.Time, ok *bool) []byte {
	if y := t.Year(); y < 0 || y > 9999 {
		*ok = false
		return b
	}
	if _, off := t.Zone(); off <= -24*3600 || off >= 24*3600 {
		*ok = false
		return b
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func jstrs(b []byte, s []string, ok *bool) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = jstr(b, v, ok)
	}
	return append(b, ']')
}

func jintMap(b []byte, m map[string]int, ok *bool) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jstr(b, k, ok)
		b = append(b, ':')
		b = jint(b, m[k])
	}
	return append(b, '}')
}

func appendRecord(b []byte, rc *recCache, r *dispatch.IncidentRecord) ([]byte, bool) {
	ok := true
	b = append(b, '{')
	b = jkey(b, "id", true)
	b = jstr(b, r.ID, &ok)
	b = jkey(b, "reported_at", false)
	b = jtime(b, r.ReportedAt, &ok)
	b = jkey(b, "type", false)
	b = jstr(b, r.Type, &ok)
	if r.Priority != 0 {
		b = jkey(b, "priority", false)
		b = jint(b, r.Priority)
	}
	b = jkey(b, "lat", false)
	b = jfloat(b, r.Lat, &ok)
	b = jkey(b, "lng", false)
	b = jfloat(b, r.Lng, &ok)
	b = jopt(b, "address", r.Address, &ok)
	b = jopt(b, "description", r.Description, &ok)
	b = jopt(b, "caller", r.Caller, &ok)
	if r.Casualties != 0 {
		b = jkey(b, "casualties", false)
		b = jint(b, r.Casualties)
	}
	if len(r.Materials) > 0 {
		b = jkey(b, "materials", false)
		b = jintMap(b, r.Materials, &ok)
	}
	b = jopt(b, "drill", r.Drill, &ok)
	b = jopt(b, "invalid", r.Invalid, &ok)
	b = jopt(b, "invalid_field", r.InvalidField, &ok)
	b = jopt(b, "raw", r.Raw, &ok)
	b = jkey(b, "state", false)
	b = jstr(b, r.State, &ok)
	b = jkey(b, "type_known", false)
	b = jbool(b, r.TypeKnown)
	b = jopt(b, "town", r.Town, &ok)
	b = jopt(b, "cell", r.Cell, &ok)
	b = jlocated(b, r.Located, &ok)
	b = jopt(b, "linked_to", r.LinkedTo, &ok)
	b = jopts(b, "linked", r.Linked, &ok)
	if r.Rec != nil {
		b = jkey(b, "recommendation", false)
		b = rc.append(b, r.Rec, &ok)
	}
	b = jopts(b, "assigned", r.Assigned, &ok)
	b = jopts(b, "accepted", r.Accepted, &ok)
	b = jopts(b, "declined", r.Declined, &ok)
	b = jopts(b, "swapped_out", r.SwappedOut, &ok)
	b = jopts(b, "cleared", r.Cleared, &ok)
	b = jopts(b, "escalated", r.Escalated, &ok)
	b = jkey(b, "dispatched_at", false) // omitempty never omits a struct
	b = jtime(b, r.DispatchedAt, &ok)
	b = jkey(b, "first_on_scene_at", false)
	b = jtime(b, r.FirstOnSceneAt, &ok)
	b = jopts(b, "flags", r.Flags, &ok)
	b = jkey(b, "version", false)
	b = jint(b, r.Version)
	if r.RecVersion != 0 {
		b = jkey(b, "rec_version", false)
		b = jint(b, r.RecVersion)
	}
	b = jkey(b, "decided_at", false)
	b = jtime(b, r.DecidedAt, &ok)
	b = jkey(b, "updated_at", false)
	b = jtime(b, r.UpdatedAt, &ok)
	return append(b, '}'), ok
}

// jlocated writes the omitempty "located" field.
func jlocated(b []byte, l *dispatch.Located, ok *bool) []byte {
	if l == nil {
		return b
	}
	b = jkey(b, "located", false)
	b = append(b, `{"source":`...)
	b = jstr(b, l.Source, ok)
	b = jopt(b, "place", l.Place, ok)
	b = append(b, `,"approximate":`...)
	b = jbool(b, l.Approximate)
	b = jopt(b, "by", l.By, ok)
	return append(b, '}')
}

// jopt writes an omitempty string field.
func jopt(b []byte, name, v string, ok *bool) []byte {
	if v == "" {
		return b
	}
	return jstr(jkey(b, name, false), v, ok)
}

// jopts writes an omitempty string slice field.
func jopts(b []byte, name string, v []string, ok *bool) []byte {
	if len(v) == 0 {
		return b
	}
	return jstrs(jkey(b, name, false), v, ok)
}

func jrecommendation(b []byte, r *dispatch.Recommendation, ok *bool) []byte {
	b = append(b, '{')
	b = jkey(b, "units", true)
	b = jpicks(b, r.Units, ok)
	if len(r.Alternates) > 0 {
		b = jkey(b, "alternates", false)
		keys := make([]string, 0, len(r.Alternates))
		for k := range r.Alternates {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = jstr(b, k, ok)
			b = append(b, ':')
			b = jpicks(b, r.Alternates[k], ok)
		}
		b = append(b, '}')
	}
	if len(r.Materials) > 0 {
		b = jkey(b, "materials", false)
		b = jmaterials(b, r.Materials, ok)
	}
	if len(r.Shortfalls) > 0 {
		b = jkey(b, "shortfalls", false)
		b = append(b, '[')
		for i := range r.Shortfalls {
			s := &r.Shortfalls[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			b = jkey(b, "kind", true)
			b = jstr(b, s.Kind, ok)
			b = jkey(b, "what", false)
			b = jstr(b, s.What, ok)
			b = jkey(b, "missing", false)
			b = jint(b, s.Missing)
			b = jkey(b, "reason", false)
			b = jstr(b, s.Reason, ok)
			if s.Why != nil {
				b = jkey(b, "why", false)
				b = jwhy(b, s.Why, ok)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func jpicks(b []byte, ps []dispatch.UnitPick, ok *bool) []byte {
	if ps == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		b = jpick(b, &ps[i], ok)
	}
	return append(b, ']')
}

func jpick(b []byte, p *dispatch.UnitPick, ok *bool) []byte {
	b = append(b, '{')
	b = jkey(b, "unit_id", true)
	b = jstr(b, p.UnitID, ok)
	b = jkey(b, "team", false)
	b = jstr(b, p.Team, ok)
	b = jkey(b, "requirement", false)
	b = jstr(b, p.Requirement, ok)
	b = jkey(b, "capability", false)
	b = jstr(b, p.Capability, ok)
	if p.Substitute {
		b = append(b, `,"substitute":true`...)
	}
	if p.Reserve {
		b = append(b, `,"reserve":true`...)
	}
	if p.FirstResponder {
		b = append(b, `,"first_responder":true`...)
	}
	b = jkey(b, "eta_s", false)
	b = jfloat(b, p.EtaS, ok)
	b = jkey(b, "distance_m", false)
	b = jfloat(b, p.DistanceM, ok)
	if p.CoverageCost != 0 {
		b = jkey(b, "coverage_cost_s", false)
		b = jfloat(b, p.CoverageCost, ok)
	}
	b = jkey(b, "cost_s", false)
	b = jfloat(b, p.Cost, ok)
	b = jopt(b, "town", p.Town, ok)
	b = jopt(b, "eta_source", p.EtaSource, ok)
	if p.EtaTrips != 0 {
		b = jkey(b, "eta_trips", false)
		b = jint(b, p.EtaTrips)
	}
	b = jopt(b, "diverted_from", p.DivertedFrom, ok)
	b = jopts(b, "reasons", p.Reasons, ok)
	if len(p.Why) > 0 {
		b = jkey(b, "why", false)
		b = append(b, '[')
		for i := range p.Why {
			if i > 0 {
				b = append(b, ',')
			}
			b = jwhy(b, &p.Why[i], ok)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// jwhy writes a dispatch.Why as encoding/json does (omitempty fields).
func jwhy(b []byte, w *dispatch.Why, ok *bool) []byte {
	b = append(b, '{')
	b = jkey(b, "code", true)
	b = jstr(b, w.Code, ok)
	for _, f := range [...]struct {
		name string
		v    float64
	}{{"eta_s", w.EtaS}, {"distance_m", w.DistanceM}, {"ahead_s", w.AheadS}, {"target_s", w.TargetS},
		{"activation_s", w.ActivationS}, {"cost_s", w.CostS}} {
		if f.v != 0 {
			b = jfloat(jkey(b, f.name, false), f.v, ok)
		}
	}
	if w.Priority != 0 {
		b = jint(jkey(b, "priority", false), w.Priority)
	}
	b = jopt(b, "capability", w.Capability, ok)
	b = jopts(b, "substitutes", w.Substitutes, ok)
	b = jopt(b, "item", w.Item, ok)
	if w.Have != 0 {
		b = jint(jkey(b, "have", false), w.Have)
	}
	if w.Need != 0 {
		b = jint(jkey(b, "need", false), w.Need)
	}
	for _, f := range [...]struct{ name, v string }{{"town", w.Town}, {"unit", w.Unit}, {"incident", w.Incident}, {"by", w.By},
		{"reason", w.Reason}, {"action", w.Action}, {"state", w.State}, {"status", w.Status}, {"from", w.From}, {"to", w.To}, {"type", w.Type}} {
		b = jopt(b, f.name, f.v, ok)
	}
	b = jopt(b, "source", w.Source, ok)
	if w.Trips != 0 {
		b = jint(jkey(b, "trips", false), w.Trips)
	}
	return append(b, '}')
}

// sameWhy reports whether two reasons encode the same.
func sameWhy(a, b dispatch.Why) bool {
	return a.Code == b.Code && sameFloat(a.EtaS, b.EtaS) && sameFloat(a.DistanceM, b.DistanceM) && sameFloat(a.AheadS, b.AheadS) &&
		sameFloat(a.TargetS, b.TargetS) && sameFloat(a.ActivationS, b.ActivationS) && sameFloat(a.CostS, b.CostS) &&
		a.Priority == b.Priority && a.Capability == b.Capability && slices.Equal(a.Substitutes, b.Substitutes) &&
		a.Item == b.Item && a.Have == b.Have && a.Need == b.Need && a.Town == b.Town && a.Unit == b.Unit &&
		a.Incident == b.Incident && a.By == b.By && a.Reason == b.Reason && a.Action == b.Action && a.State == b.State &&
		a.Status == b.Status && a.From == b.From && a.To == b.To && a.Type == b.Type && a.Source == b.Source && a.Trips == b.Trips
}

func jmaterials(b []byte, ms []dispatch.MaterialPick, ok *bool) []byte {
	if ms == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range ms {
		m := &ms[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = jkey(b, "item", true)
		b = jstr(b, m.Item, ok)
		b = jkey(b, "depot_id", false)
		b = jstr(b, m.DepotID, ok)
		b = jkey(b, "qty", false)
		b = jint(b, m.Qty)
		b = jkey(b, "eta_s", false)
		b = jfloat(b, m.EtaS, ok)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendUnitChange(b []byte, c *teams.UnitChange) ([]byte, bool) {
	ok := true
	b = append(b, '{')
	b = jkey(b, "unit_id", true)
	b = jstr(b, c.UnitID, &ok)
	b = jkey(b, "team", false)
	b = jstr(b, c.Team, &ok)
	b = jkey(b, "old_status", false)
	b = jstr(b, string(c.OldStatus), &ok)
	b = jkey(b, "new_status", false)
	b = jstr(b, string(c.NewStatus), &ok)
	b = jopt(b, "old_cell", c.OldCell, &ok)
	b = jopt(b, "new_cell", c.NewCell, &ok)
	b = jkey(b, "lat", false)
	b = jfloat(b, c.Lat, &ok)
	b = jkey(b, "lng", false)
	b = jfloat(b, c.Lng, &ok)
	b = jopt(b, "town", c.Town, &ok)
	b = jopt(b, "incident", c.Incident, &ok)
	b = jopt(b, "station", c.Station, &ok)
	b = jkey(b, "at", false)
	b = jtime(b, c.At, &ok)
	return append(b, '}'), ok
}

func appendAssignment(b []byte, m *AssignmentMessage) ([]byte, bool) {
	ok := true
	b = append(b, '{')
	b = jkey(b, "dedup_key", true)
	b = jstr(b, m.DedupKey, &ok)
	b = jkey(b, "incident", false)
	b = jstr(b, m.Incident, &ok)
	b = jopt(b, "drill", m.Drill, &ok)
	b = jkey(b, "version", false)
	b = jint(b, m.Version)
	b = jkey(b, "state", false)
	b = jstr(b, m.State, &ok)
	b = jkey(b, "type", false)
	b = jstr(b, m.Type, &ok)
	b = jkey(b, "priority", false)
	b = jint(b, m.Priority)
	b = jkey(b, "lat", false)
	b = jfloat(b, m.Lat, &ok)
	b = jkey(b, "lng", false)
	b = jfloat(b, m.Lng, &ok)
	b = jopt(b, "town", m.Town, &ok)
	b = jlocated(b, m.Located, &ok)
	b = jkey(b, "units", false)
	b = jpicks(b, m.Units, &ok)
	if len(m.Materials) > 0 {
		b = jkey(b, "materials", false)
		b = jmaterials(b, m.Materials, &ok)
	}
	b = jkey(b, "at", false)
	b = jtime(b, m.At, &ok)
	return append(b, '}'), ok
}

// recCache remembers the JSON of recommendations: an incident's
// recommendation rarely changes while its record is written into every
// event of its life. An entry is used only when the recommendation still
// holds exactly what was encoded (compared field by field against a copy),
// so a change in place is never missed. Not safe for concurrent use (the
// engine's lock guards it); a nil *recCache encodes every time.
type recCache struct {
	m map[*dispatch.Recommendation]*recEntry
}

type recEntry struct {
	was  dispatch.Recommendation // a copy of the content encoded (slices and the map cloned)
	json []byte
}

// maxRecCache bounds the cache; it is emptied when full.
const maxRecCache = 8192

func (rc *recCache) append(b []byte, r *dispatch.Recommendation, ok *bool) []byte {
	if rc == nil {
		return jrecommendation(b, r, ok)
	}
	if e, hit := rc.m[r]; hit && sameRec(&e.was, r) {
		return append(b, e.json...)
	}
	start := len(b)
	b = jrecommendation(b, r, ok)
	if !*ok {
		return b
	}
	if rc.m == nil || len(rc.m) >= maxRecCache {
		rc.m = make(map[*dispatch.Recommendation]*recEntry, 256)
	}
	// what the JSON was written from, deep-copied (IncidentRecord.Clone)
	was := (&dispatch.IncidentRecord{Rec: r}).Clone().Rec
	e := &recEntry{json: append([]byte(nil), b[start:]...), was: *was}
	rc.m[r] = e
	return b
}

// sameRec reports whether r holds what was holds (nil and empty apart, as
// the encoding tells them apart).
func sameRec(was, r *dispatch.Recommendation) bool {
	if !samePicks(was.Units, r.Units) || len(was.Alternates) != len(r.Alternates) || (was.Alternates == nil) != (r.Alternates == nil) ||
		!slices.EqualFunc(was.Materials, r.Materials, func(a, b dispatch.MaterialPick) bool {
			return a.Item == b.Item && a.DepotID == b.DepotID && a.Qty == b.Qty && sameFloat(a.EtaS, b.EtaS)
		}) || (was.Materials == nil) != (r.Materials == nil) ||
		!slices.Equal(was.Shortfalls, r.Shortfalls) || (was.Shortfalls == nil) != (r.Shortfalls == nil) {
		return false
	}
	for k, v := range r.Alternates {
		w, ok := was.Alternates[k]
		if !ok || !samePicks(w, v) {
			return false
		}
	}
	return true
}

func samePicks(a, b []dispatch.UnitPick) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for i := range a {
		x, y := &a[i], &b[i]
		if x.UnitID != y.UnitID || x.Team != y.Team || x.Requirement != y.Requirement || x.Capability != y.Capability ||
			x.Substitute != y.Substitute || x.Reserve != y.Reserve || x.FirstResponder != y.FirstResponder || !sameFloat(x.EtaS, y.EtaS) || !sameFloat(x.DistanceM, y.DistanceM) ||
			!sameFloat(x.CoverageCost, y.CoverageCost) || !sameFloat(x.Cost, y.Cost) || x.Town != y.Town || x.DivertedFrom != y.DivertedFrom ||
			x.EtaSource != y.EtaSource || x.EtaTrips != y.EtaTrips ||
			!slices.Equal(x.Reasons, y.Reasons) || (x.Reasons == nil) != (y.Reasons == nil) || !slices.EqualFunc(x.Why, y.Why, sameWhy) {
			return false
		}
	}
	return true
}

// sameFloat compares bits: 0 and -0 encode differently.
func sameFloat(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }
