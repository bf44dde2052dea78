package dispatch

import (
	"fmt"

	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
)

// placesByRef indexes the scenario's gazetteer by ref.
func placesByRef(sc *scenario.Scenario) map[string]scenario.Entry {
	g := sc.Gazetteer()
	m := make(map[string]scenario.Entry, len(g))
	for _, e := range g {
		m[e.Ref] = e
	}
	return m
}

// Places returns the scenario's gazetteer: the towns' centres, the
// stations, the depots and the named places a dispatcher may pick to locate
// an incident (read only).
func (e *Engine) Places() []scenario.Entry { return e.sc.Gazetteer() }

// locateAt is where a locate action puts its incident and how: a gazetteer
// entry's position (approximate), a click on the map (approximate) or typed
// coordinates.
func (e *Engine) locateAt(a *Action) (geo.Point, *Located, error) {
	loc := &Located{Source: a.Source, By: a.By}
	var p geo.Point
	switch a.Source {
	case LocatedPlace:
		ent, ok := e.places[a.Place]
		if !ok {
			return p, nil, fmt.Errorf("locate: unknown place %q: %w", a.Place, ErrBadAction)
		}
		p, loc.Place, loc.Approximate = ent.Point, ent.Ref, true
	case LocatedMap, LocatedCoords, "":
		if a.Place != "" {
			return p, nil, fmt.Errorf("locate: a place with source %q: %w", a.Source, ErrBadAction)
		}
		p = pointOf(a.Lat, a.Lng)
		loc.Approximate = a.Source == LocatedMap
		if a.Source == "" {
			loc.Source = LocatedCoords
		}
	default:
		return p, nil, fmt.Errorf("locate: unknown source %q (place, map, coords): %w", a.Source, ErrBadAction)
	}
	if err := p.Validate(); err != nil {
		return p, nil, fmt.Errorf("locate: %w: %w", err, ErrBadAction)
	}
	return p, loc, nil
}
