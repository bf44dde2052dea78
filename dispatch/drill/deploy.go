package drill

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

// Move is a deployment change: Count units with Capability move from the
// stations of town From to a station of their team in town To.
type Move struct {
	Capability string
	Count      int
	From, To   string
}

// ParseMove reads a move written "CAPABILITY:COUNT:FROM:TO", for example
// "fire_engine:2:shiqi:xiaolan".
func ParseMove(s string) (Move, error) {
	p := strings.Split(s, ":")
	if len(p) != 4 {
		return Move{}, fmt.Errorf("move %q: want capability:count:from:to", s)
	}
	n, err := strconv.Atoi(p[1])
	if err != nil || n <= 0 {
		return Move{}, fmt.Errorf("move %q: count must be a positive integer", s)
	}
	return Move{Capability: p[0], Count: n, From: p[2], To: p[3]}, nil
}

// String writes the move as ParseMove reads it.
func (m Move) String() string { return fmt.Sprintf("%s:%d:%s:%s", m.Capability, m.Count, m.From, m.To) }

// ApplyMoves changes the scenario's deployment in place: for each move, the
// last Count units (by id) with the capability stationed in From are
// rehoused at their team's station in To (made at the town's centre when
// the team has none there). It fails when a town is unknown or too few
// units can move.
func ApplyMoves(sc *scenario.Scenario, moves []Move) error {
	towns := map[string]bool{}
	for _, t := range sc.Towns {
		towns[t.Code] = true
	}
	stationTown := map[string]string{}
	for _, st := range sc.Stations {
		stationTown[st.ID] = st.Town
	}
	for _, m := range moves {
		if !towns[m.From] || !towns[m.To] {
			return fmt.Errorf("move %s: unknown town", m)
		}
		if m.From == m.To {
			return fmt.Errorf("move %s: from and to are the same town", m)
		}
		var idx []int
		for i, u := range sc.Units {
			if stationTown[u.Station] == m.From && slices.Contains(u.Capabilities, m.Capability) {
				idx = append(idx, i)
			}
		}
		slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(sc.Units[b].ID, sc.Units[a].ID) })
		if len(idx) < m.Count {
			return fmt.Errorf("move %s: only %d such units in %s", m, len(idx), m.From)
		}
		for _, i := range idx[:m.Count] {
			u := &sc.Units[i]
			st, err := stationFor(sc, u.Team, m.To, stationTown)
			if err != nil {
				return fmt.Errorf("move %s: %w", m, err)
			}
			u.Station = st
		}
	}
	return nil
}

// stationFor returns a station of team in town, adding one at the town's
// centre when there is none.
func stationFor(sc *scenario.Scenario, team, town string, stationTown map[string]string) (string, error) {
	for _, u := range sc.Units {
		if u.Team == team && stationTown[u.Station] == town {
			return u.Station, nil
		}
	}
	i := slices.IndexFunc(sc.Towns, func(t geo.Town) bool { return t.Code == town })
	if i < 0 {
		return "", errors.New("unknown town " + town)
	}
	id := strings.ToUpper(team) + "-" + strings.ToUpper(town) + "-MOVED"
	if !slices.ContainsFunc(sc.Stations, func(s teams.Station) bool { return s.ID == id }) {
		sc.Stations = append(sc.Stations, teams.Station{ID: id, Name: sc.Towns[i].NameEN + " " + team + " (moved)", Town: town, Location: sc.Towns[i].Center})
		stationTown[id] = town
	}
	return id, nil
}
