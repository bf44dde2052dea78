package pgstore_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
)

// BenchmarkRankPostGIS is the PostGIS comparison row for
// dispatch.BenchmarkRank: the same scenario (GenerateScenario, seed 3), the
// same 70 % of units busy and the same incident mix, with the nearest units
// of each requirement asked of PostGIS instead of the in-memory index.
//
// One op is one decision's unit searches, sent as one pgx.Batch (one round
// trip): per requirement of the plan, the Count+3 nearest available
// professional units with the capability, by
//
//	ORDER BY geog <-> point LIMIT k
//
// on a GiST index of the available units' geography (a partial index, the
// counterpart of the in-memory index holding available units only). It is a
// lower bound of what a decision would cost through PostGIS: no substitutes,
// reserves, ETA or coverage costs, no depots. It skips with a message where
// PostgreSQL or the PostGIS extension is missing (apt package
// postgresql-15-postgis-3).
func BenchmarkRankPostGIS(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("index=postgis/units=%d", n), func(b *testing.B) {
			ctx := context.Background()
			url := testDB(b)
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis"); err != nil {
				b.Skipf("PostGIS is not installed in this PostgreSQL (Debian: apt-get install postgresql-15-postgis-3): %v", err)
			}
			sc, err := scenario.Generate(scenario.GenConfig{Units: n, Seed: 3})
			if err != nil {
				b.Fatal(err)
			}
			loadPostGISUnits(ctx, b, conn, sc)
			reqs := postgisRequests(sc)
			checkPostGISNearest(ctx, b, conn, sc)
			batches := make([]*pgx.Batch, len(reqs))
			for i, rq := range reqs {
				batches[i] = &pgx.Batch{}
				for _, u := range rq.Plan.Units {
					batches[i].Queue(knnSQL, rq.At.Lng, rq.At.Lat, u.Capability, u.Count+3)
				}
			}
			run := func(bt *pgx.Batch) int {
				res := conn.SendBatch(ctx, bt)
				rows := 0
				for range bt.QueuedQueries {
					r, err := res.Query()
					if err != nil {
						b.Fatal(err)
					}
					for r.Next() {
						rows++
					}
					if err := r.Err(); err != nil {
						b.Fatal(err)
					}
				}
				if err := res.Close(); err != nil {
					b.Fatal(err)
				}
				return rows
			}
			for _, bt := range batches { // warm the cache and the prepared statement
				run(bt)
			}
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				run(batches[i%len(batches)])
			}
			pg := time.Since(start) / time.Duration(b.N)
			b.StopTimer()
			// The baseline in the same process: the H3 ranker's full decisions
			// on the same requests, with the same units busy.
			h3 := h3Baseline(b, sc, reqs)
			b.ReportMetric(float64(h3.Nanoseconds())/1000, "h3-us/op")
			b.ReportMetric(float64(pg)/float64(h3), "postgis/h3")
		})
	}
}

// h3Baseline times the in-memory H3 ranker on reqs, with the units made
// busy exactly as loadPostGISUnits does.
func h3Baseline(b *testing.B, sc *scenario.Scenario, reqs []dispatch.RankRequest) time.Duration {
	b.Helper()
	st, err := dispatch.NewState(sc, dispatch.RankConfig{Index: "h3"})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 9))
	now := reqs[0].Now
	for _, u := range sc.Units {
		if r.Float64() < 0.7 {
			if _, err := st.Fleet().SetStatus(u.ID, teams.StatusDispatched, "busy", now); err != nil {
				b.Fatal(err)
			}
		}
	}
	const rounds = 4096
	start := time.Now()
	for i := range rounds {
		_ = st.Rank(reqs[i%len(reqs)])
	}
	return time.Since(start) / rounds
}

// knnSQL: the k nearest available professional units with a capability.
// $1 lng, $2 lat, $3 capability, $4 k.
const knnSQL = `SELECT id, ST_Distance(geog, ST_MakePoint($1, $2)::geography, false) AS d
FROM bench_units
WHERE available AND NOT reserve AND caps @> ARRAY[$3::text]
ORDER BY geog <-> ST_MakePoint($1, $2)::geography
LIMIT $4`

// loadPostGISUnits writes the scenario's units at their stations, 70 % busy
// drawn exactly as dispatch.BenchmarkRank draws them.
func loadPostGISUnits(ctx context.Context, b *testing.B, conn *pgx.Conn, sc *scenario.Scenario) {
	b.Helper()
	for _, q := range []string{
		`CREATE TABLE bench_units (id int PRIMARY KEY, unit text NOT NULL, caps text[] NOT NULL,
			reserve bool NOT NULL, available bool NOT NULL, geog geography(Point, 4326) NOT NULL)`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	stations := map[string]geo.Point{}
	for _, st := range sc.Stations {
		stations[st.ID] = st.Location
	}
	reserveTeam := map[string]bool{}
	for _, t := range sc.Teams {
		reserveTeam[t.ID] = t.Kind == teams.KindReserve
	}
	r := rand.New(rand.NewPCG(9, 9))
	rows := make([][]any, 0, len(sc.Units))
	for i, u := range sc.Units {
		busy := r.Float64() < 0.7
		p := stations[u.Station]
		rows = append(rows, []any{i, u.ID, u.Capabilities, reserveTeam[u.Team], !busy,
			fmt.Sprintf("SRID=4326;POINT(%v %v)", p.Lng, p.Lat)})
	}
	if _, err := conn.Exec(ctx, "CREATE TEMP TABLE bench_load (id int, unit text, caps text[], reserve bool, available bool, geog text)"); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"bench_load"}, []string{"id", "unit", "caps", "reserve", "available", "geog"}, pgx.CopyFromRows(rows)); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		"INSERT INTO bench_units SELECT id, unit, caps, reserve, available, geog::geography FROM bench_load",
		"CREATE INDEX bench_units_geog ON bench_units USING gist (geog) WHERE available",
		"ANALYZE bench_units",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}

// postgisRequests is dispatch's benchRequests: the same seed and mix.
func postgisRequests(sc *scenario.Scenario) []dispatch.RankRequest {
	mix := []string{"theft", "theft", "dispute", "theft", "traffic.injury", "medical", "medical", "fire.building", "flooding", "robbery"}
	types := map[string]scenario.IncidentType{}
	for _, t := range sc.Types {
		types[t.Code] = t
	}
	now := time.Date(2013, 5, 31, 20, 14, 0, 0, time.FixedZone("CST", 8*3600))
	r := rand.New(rand.NewPCG(5, 5))
	reqs := make([]dispatch.RankRequest, 1024)
	for i := range reqs {
		t := types[mix[r.IntN(len(mix))]]
		reqs[i] = dispatch.RankRequest{At: geo.Point{Lat: 22.28 + r.Float64()*0.43, Lng: 113.20 + r.Float64()*0.33},
			Plan: t.Plan, Priority: t.Priority, Now: now.Add(time.Duration(r.IntN(24)) * time.Hour)}
	}
	return reqs
}

// checkPostGISNearest: the row measures the right query. For a few points,
// the nearest available patrol unit's distance from PostGIS (on the sphere)
// is the in-memory ranker's DistanceM within rounding.
func checkPostGISNearest(ctx context.Context, b *testing.B, conn *pgx.Conn, sc *scenario.Scenario) {
	b.Helper()
	var avail []geo.Point
	r := rand.New(rand.NewPCG(9, 9))
	stations := map[string]geo.Point{}
	for _, s := range sc.Stations {
		stations[s.ID] = s.Location
	}
	reserveTeam := map[string]bool{}
	for _, t := range sc.Teams {
		reserveTeam[t.ID] = t.Kind == teams.KindReserve
	}
	for _, u := range sc.Units {
		if r.Float64() >= 0.7 && !reserveTeam[u.Team] && slices.Contains(u.Capabilities, "patrol") {
			avail = append(avail, stations[u.Station])
		}
	}
	for _, q := range postgisRequests(sc)[:20] {
		want := math.Inf(1)
		for _, p := range avail {
			want = math.Min(want, geo.DistanceM(q.At, p))
		}
		var id int
		var got float64
		err := conn.QueryRow(ctx, knnSQL, q.At.Lng, q.At.Lat, "patrol", 1).Scan(&id, &got)
		if err != nil {
			b.Fatal(err)
		}
		if math.Abs(got-want) > 1e-3*want+1 {
			b.Fatalf("PostGIS nearest patrol from %v at %.1f m, the in-memory search says %.1f m", q.At, got, want)
		}
	}
}
