package wire

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/teams"
)

// fill sets v (addressable) to a random value, reaching every field: a
// field added to the marshalled types shows up in the comparison.
func fill(r *rand.Rand, v reflect.Value, depth int) {
	strs := []string{"", "plain", "ZS110-20130531-000123", "<a&b>", "中山 石岐", "quote\"back\\slash", "\u2028line", "ctl\x01", "bad\xffutf8"}
	floats := []float64{0, math.Copysign(0, -1), 1, 22.5211, 113.39251234, 1e-7, -3.5e-9, 1e21, 1.5e300, 123456789.125, math.SmallestNonzeroFloat64}
	zones := []*time.Location{time.UTC, time.FixedZone("CST", 8*3600), time.FixedZone("", -5*3600-30*60)}
	switch v.Kind() {
	case reflect.String:
		v.SetString(strs[r.IntN(len(strs))])
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(r.IntN(5)) * int64(r.IntN(1000)-300))
	case reflect.Float64:
		v.SetFloat(floats[r.IntN(len(floats))] * float64(1-2*r.IntN(2)))
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Slice:
		if r.IntN(4) == 0 || depth > 4 {
			return // nil
		}
		n := r.IntN(4)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			fill(r, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		if r.IntN(4) == 0 || depth > 4 {
			return
		}
		m := reflect.MakeMap(v.Type())
		for i := r.IntN(4); i > 0; i-- {
			k := reflect.New(v.Type().Key()).Elem()
			fill(r, k, depth+1)
			e := reflect.New(v.Type().Elem()).Elem()
			fill(r, e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Pointer:
		if r.IntN(5) == 0 || depth > 4 {
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(r, p.Elem(), depth+1)
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			if r.IntN(5) > 0 {
				t := time.Date(1990+r.IntN(40), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(3)*r.IntN(1e9), zones[r.IntN(len(zones))])
				v.Set(reflect.ValueOf(t))
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(r, v.Field(i), depth+1)
			}
		}
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}

// assignmentEvent is the data of an assignment.new event.
type assignmentEvent struct {
	Incident *dispatch.IncidentRecord `json:"incident"`
	Unit     dispatch.UnitPick        `json:"unit"`
}

func TestFastJSONSameAsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var scratch []byte
	var rc recCache
	cases := []struct {
		name string
		fast func(v reflect.Value) ([]byte, error)
		slow func(v reflect.Value) ([]byte, error)
		typ  reflect.Type
	}{
		{"IncidentRecord", func(v reflect.Value) ([]byte, error) {
			return recordJSON(&scratch, &rc, v.Addr().Interface().(*dispatch.IncidentRecord))
		},
			func(v reflect.Value) ([]byte, error) { return json.Marshal(v.Addr().Interface()) },
			reflect.TypeOf(dispatch.IncidentRecord{})},
		{"UnitChange", func(v reflect.Value) ([]byte, error) {
			return unitChangeJSON(&scratch, v.Addr().Interface().(*teams.UnitChange))
		},
			func(v reflect.Value) ([]byte, error) { return json.Marshal(v.Addr().Interface()) },
			reflect.TypeOf(teams.UnitChange{})},
		{"AssignmentMessage", func(v reflect.Value) ([]byte, error) {
			return assignmentJSON(nil, v.Addr().Interface().(*AssignmentMessage))
		},
			func(v reflect.Value) ([]byte, error) { return json.Marshal(v.Addr().Interface()) },
			reflect.TypeOf(AssignmentMessage{})},
		{"AssignmentEvent", func(v reflect.Value) ([]byte, error) {
			e := v.Addr().Interface().(*assignmentEvent)
			return assignmentEventJSON(&scratch, &rc, e.Incident, &e.Unit)
		}, func(v reflect.Value) ([]byte, error) { return json.Marshal(v.Addr().Interface()) },
			reflect.TypeOf(assignmentEvent{})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for i := 0; i < 3000; i++ {
				v := reflect.New(c.typ).Elem()
				if i > 0 {
					fill(r, v, 0)
				}
				got, err1 := c.fast(v)
				want, err2 := c.slow(v)
				if (err1 == nil) != (err2 == nil) {
					t.Fatalf("case %d: errors differ: %v / %v", i, err1, err2)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("case %d:\n got %s\nwant %s", i, got, want)
				}
			}
		})
	}
}

// TestRecCacheSeesChangesInPlace: a recommendation changed in place after
// it was encoded is encoded again, never served stale from the cache.
func TestRecCacheSeesChangesInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var rc recCache
	changes := []func(rec *dispatch.Recommendation){
		func(rec *dispatch.Recommendation) { rec.Units[0].EtaS += 1 },
		func(rec *dispatch.Recommendation) { rec.Units[0].Reasons = append(rec.Units[0].Reasons, "more") },
		func(rec *dispatch.Recommendation) { rec.Units[0].UnitID = "SWAPPED" },
		func(rec *dispatch.Recommendation) { rec.Units[0].FirstResponder = !rec.Units[0].FirstResponder },
		func(rec *dispatch.Recommendation) {
			rec.Units[0].EtaSource, rec.Units[0].EtaTrips = "learned", rec.Units[0].EtaTrips+1
		},
		func(rec *dispatch.Recommendation) { rec.Units = rec.Units[:len(rec.Units)-1] },
		func(rec *dispatch.Recommendation) {
			rec.Shortfalls = append(rec.Shortfalls, dispatch.Shortfall{Kind: "unit", What: "x", Missing: 1})
		},
		func(rec *dispatch.Recommendation) { rec.Units[0].CoverageCost = math.Copysign(0, -1) },
		func(rec *dispatch.Recommendation) {
			for k := range rec.Alternates {
				rec.Alternates[k] = append(rec.Alternates[k], dispatch.UnitPick{UnitID: "ALT"})
			}
			if rec.Alternates != nil {
				rec.Alternates["new"] = nil
			}
		},
		func(rec *dispatch.Recommendation) {
			rec.Materials = append(rec.Materials, dispatch.MaterialPick{Item: "pump", Qty: 1})
		},
	}
	for i := 0; i < 2000; i++ {
		v := reflect.New(reflect.TypeOf(dispatch.IncidentRecord{})).Elem()
		fill(r, v, 0)
		rec := v.Addr().Interface().(*dispatch.IncidentRecord)
		if rec.Rec == nil || len(rec.Rec.Units) == 0 {
			continue
		}
		for round := 0; round < 3; round++ {
			got, err1 := recordJSON(nil, &rc, rec)
			want, err2 := json.Marshal(rec)
			if (err1 == nil) != (err2 == nil) || !bytes.Equal(got, want) {
				t.Fatalf("case %d round %d:\n got %s\nwant %s", i, round, got, want)
			}
			if round < 2 && len(rec.Rec.Units) > 0 {
				changes[r.IntN(len(changes))](rec.Rec)
			}
			if len(rec.Rec.Units) == 0 {
				break
			}
		}
	}
}

func TestFastJSONNotFinite(t *testing.T) {
	rec := &dispatch.IncidentRecord{Incident: dispatch.Incident{ID: "x", Lat: math.NaN()}}
	if _, err := recordJSON(nil, nil, rec); err == nil {
		t.Fatal("NaN latitude marshalled")
	}
	ch := teams.UnitChange{UnitID: "u", At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := unitChangeJSON(nil, &ch); err == nil {
		t.Fatal("year 10000 marshalled")
	}
}

func BenchmarkMarshalRecord(b *testing.B) {
	at := time.Date(2013, 5, 31, 20, 14, 3, 0, time.FixedZone("CST", 8*3600))
	pick := func(id string) dispatch.UnitPick {
		return dispatch.UnitPick{UnitID: id, Team: "police", Requirement: "patrol", Capability: "patrol", EtaS: 212.43567, DistanceM: 1634.2123,
			Cost: 212.43567, Town: "shiqi", Reasons: []string{"ETA 3m32s over 1.6 km"}}
	}
	rec := &dispatch.IncidentRecord{Incident: dispatch.Incident{ID: "ZS110-20130531-000123", ReportedAt: at, Type: "theft", Lat: 22.521123, Lng: 113.392512,
		HasLocation: true, Caller: "138****0000", Drill: "bench"}, State: dispatch.StateDispatched, TypeKnown: true, Town: "shiqi",
		Cell: "8941aa49a27ffff", Rec: &dispatch.Recommendation{Units: []dispatch.UnitPick{pick("PAT-SHIQI-01")},
			Alternates: map[string][]dispatch.UnitPick{"patrol": {pick("PAT-SHIQI-02"), pick("PAT-SHIQI-03"), pick("PAT-SHIQI-04")}}},
		Assigned: []string{"PAT-SHIQI-01"}, DispatchedAt: at, Version: 3, DecidedAt: at, UpdatedAt: at}
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		var scratch []byte
		var rc recCache
		for i := 0; i < b.N; i++ {
			_, _ = recordJSON(&scratch, &rc, rec)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_, _ = json.Marshal(rec)
		}
	})
}
