package scenario

import (
	"bytes"
	_ "embed" // the named places of Zhongshan
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"

	"github.com/zs110/dispatch/geo"
)

// Place is a named place of the scenario's gazetteer: a landmark, a bridge,
// a railway station, a hospital, a port or a park that callers name when
// they cannot give an address. Positions are approximate (docs/scenario.md):
// good enough to send the nearest units, not survey data.
type Place struct {
	ID       string    `json:"id" yaml:"id"`
	Kind     string    `json:"kind" yaml:"kind"` // "landmark", "bridge", "rail", "hospital", "port", "park"
	NameZH   string    `json:"name_zh" yaml:"name_zh"`
	NameEN   string    `json:"name_en" yaml:"name_en"`
	Town     string    `json:"town" yaml:"town"`
	Location geo.Point `json:"location" yaml:"location"`
}

// Gazetteer kinds besides the named places' own.
const (
	PlaceTown    = "town"    // a town's centre
	PlaceStation = "station" // a team's station
	PlaceDepot   = "depot"   // a material depot
)

// Entry is one entry of the gazetteer a dispatcher picks from to locate an
// incident: Ref is "town:<code>", "station:<id>", "depot:<id>" or
// "place:<id>", unique over the gazetteer.
type Entry struct {
	Ref    string    `json:"ref"`
	Kind   string    `json:"kind"`
	NameZH string    `json:"name_zh"`
	NameEN string    `json:"name_en"`
	Town   string    `json:"town,omitempty"`
	Point  geo.Point `json:"location"`
}

// Gazetteer lists every place a dispatcher may pick to locate an incident:
// the towns' centres, the stations, the depots and the named places, in that
// order. Stations and depots have English names only in the scenario: their
// Chinese names are made of the town's and the team's (or "depot").
func (sc *Scenario) Gazetteer() []Entry {
	towns := make(map[string]geo.Town, len(sc.Towns))
	out := make([]Entry, 0, len(sc.Towns)+len(sc.Stations)+len(sc.Depots)+len(sc.Places))
	for _, t := range sc.Towns {
		towns[t.Code] = t
		out = append(out, Entry{Ref: PlaceTown + ":" + t.Code, Kind: PlaceTown, NameZH: t.NameZH, NameEN: t.NameEN, Town: t.Code, Point: t.Center})
	}
	teamZH := make(map[string]string, len(sc.Teams))
	for _, t := range sc.Teams {
		teamZH[t.ID] = t.NameZH
	}
	for _, s := range sc.Stations {
		zh := s.Name
		if team, _, ok := strings.Cut(s.ID, "-"); ok && teamZH[strings.ToLower(team)] != "" {
			zh = towns[s.Town].NameZH + " " + teamZH[strings.ToLower(team)] + "驻点"
		}
		out = append(out, Entry{Ref: PlaceStation + ":" + s.ID, Kind: PlaceStation, NameZH: zh, NameEN: s.Name, Town: s.Town, Point: s.Location})
	}
	for _, d := range sc.Depots {
		zh := towns[d.Town].NameZH + " 应急物资仓库"
		if d.Kind == "city" {
			zh = "市应急物资储备库"
		}
		out = append(out, Entry{Ref: PlaceDepot + ":" + d.ID, Kind: PlaceDepot, NameZH: zh, NameEN: d.Name, Town: d.Town, Point: d.Location})
	}
	for _, p := range sc.Places {
		out = append(out, Entry{Ref: "place:" + p.ID, Kind: p.Kind, NameZH: p.NameZH, NameEN: p.NameEN, Town: p.Town, Point: p.Location})
	}
	return out
}

// zhongshanPlacesCSV: well-known places of Zhongshan with approximate
// positions (data/README.md).
//
//go:embed data/zhongshan_places.csv
var zhongshanPlacesCSV []byte

// ZhongshanPlaces returns the named places of the embedded CSV.
func ZhongshanPlaces() ([]Place, error) {
	return parsePlaces(zhongshanPlacesCSV)
}

// parsePlaces reads a places CSV: id,kind,name_zh,name_en,town,lat,lng
// with a header line.
func parsePlaces(b []byte) ([]Place, error) {
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("places: %w", err)
	}
	var out []Place
	for i, r := range rows {
		if i == 0 {
			continue
		}
		if len(r) != 7 {
			return nil, fmt.Errorf("places: line %d: %d fields, want 7", i+1, len(r))
		}
		lat, err1 := strconv.ParseFloat(r[5], 64)
		lng, err2 := strconv.ParseFloat(r[6], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("places: line %d: bad number", i+1)
		}
		out = append(out, Place{ID: r[0], Kind: r[1], NameZH: r[2], NameEN: r[3], Town: r[4], Location: geo.Point{Lat: lat, Lng: lng}})
	}
	return out, nil
}

// validatePlaces checks the named places: unique ids, a kind, a name, a
// known town and a valid position.
func (p *problems) places(ps []Place, towns map[string]bool) {
	seen := map[string]bool{}
	for i, pl := range ps {
		path := fmt.Sprintf("places[%d]", i)
		p.unique(path+".id", pl.ID, seen)
		if pl.Kind == "" || pl.Kind == PlaceTown || pl.Kind == PlaceStation || pl.Kind == PlaceDepot {
			p.add(path+".kind", "kind %q: a named place needs its own kind (landmark, bridge, ...)", pl.Kind)
		}
		if pl.NameZH == "" && pl.NameEN == "" {
			p.add(path+".name_zh", "a place needs a name")
		}
		if !towns[pl.Town] {
			p.add(path+".town", "unknown town %q", pl.Town)
		}
		p.point(path+".location", pl.Location)
	}
}
