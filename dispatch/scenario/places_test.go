package scenario

import (
	"errors"
	"strings"
	"testing"

	"github.com/zs110/dispatch/geo"
)

// TestPlaces: the embedded gazetteer: every named place of the CSV is in the
// default scenario, lies in the area of the town it names (the engine's
// rule: the nearest centre within the radius), and the gazetteer lists the
// towns, stations, depots and places once each, with names in both languages.
func TestPlaces(t *testing.T) {
	sc := mustDefault(t)
	csv, err := ZhongshanPlaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(csv) < 15 || len(sc.Places) != len(csv) {
		t.Fatalf("%d places in the scenario, %d in the CSV", len(sc.Places), len(csv))
	}
	towns, err := geo.NewTowns(sc.Towns, geo.DefaultTownRadiusM)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, p := range sc.Places {
		kinds[p.Kind]++
		if got, ok := towns.Locate(p.Location); !ok || got != p.Town {
			t.Errorf("place %s (%s) is in town %q by the engine's rule, the CSV says %q", p.ID, p.NameEN, got, p.Town)
		}
	}
	for _, k := range []string{"bridge", "rail", "hospital", "landmark"} {
		if kinds[k] == 0 {
			t.Errorf("no place of kind %s", k)
		}
	}
	g := sc.Gazetteer()
	if want := len(sc.Towns) + len(sc.Stations) + len(sc.Depots) + len(sc.Places); len(g) != want {
		t.Fatalf("gazetteer has %d entries, want %d", len(g), want)
	}
	seen := map[string]bool{}
	byKind := map[string]int{}
	for _, e := range g {
		if seen[e.Ref] {
			t.Errorf("duplicate ref %s", e.Ref)
		}
		seen[e.Ref] = true
		byKind[strings.SplitN(e.Ref, ":", 2)[0]]++
		if e.NameZH == "" || e.NameEN == "" || e.Point.Validate() != nil {
			t.Errorf("entry %+v: a name missing or a bad position", e)
		}
	}
	if byKind["town"] != 24 || byKind["station"] != len(sc.Stations) || byKind["depot"] != len(sc.Depots) || byKind["place"] != len(sc.Places) {
		t.Errorf("entries by kind %v", byKind)
	}
	if e := g[0]; e.Ref != "town:shiqi" || e.NameZH != "石岐区" || e.Point != sc.Towns[0].Center {
		t.Errorf("first entry %+v", e)
	}
}

// TestPlacesValidate: bad named places are refused with the field's path.
func TestPlacesValidate(t *testing.T) {
	good := Place{ID: "x", Kind: "bridge", NameZH: "桥", NameEN: "Bridge", Town: "shiqi", Location: geo.Point{Lat: 22.52, Lng: 113.38}}
	for _, tc := range []struct {
		name string
		edit func(*Place)
		want string
	}{
		{"ok", func(*Place) {}, ""},
		{"no id", func(p *Place) { p.ID = "" }, "places[1].id"},
		{"town kind", func(p *Place) { p.Kind = "town" }, "places[1].kind"},
		{"no name", func(p *Place) { p.NameZH, p.NameEN = "", "" }, "places[1].name_zh"},
		{"unknown town", func(p *Place) { p.Town = "atlantis" }, "places[1].town"},
		{"bad position", func(p *Place) { p.Location.Lat = 95 }, "places[1].location"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := mustDefault(t)
			p := good
			tc.edit(&p)
			sc.Places = []Place{{ID: "y", Kind: "park", NameEN: "Park", Town: "shiqi", Location: good.Location}, p}
			err := sc.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("valid places refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error at %s", err, tc.want)
			}
		})
	}
	if _, err := parsePlaces([]byte("id,kind,name_zh,name_en,town,lat,lng\nx,bridge,桥,Bridge,shiqi,abc,113\n")); err == nil {
		t.Error("a bad number was read")
	}
	if _, err := parsePlaces([]byte("id,kind\nx,bridge\n")); err == nil {
		t.Error("a short line was read")
	}
}
