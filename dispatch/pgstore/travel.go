package pgstore

import (
	"cmp"
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/geo"
)

type travelKey struct {
	drill string
	key   geo.TravelKey
}

// writeTravel adds the batch's learned trips to travel_learned, one upsert
// for the batch, rows in key order (concurrent batches never deadlock).
func (s *Store) writeTravel(ctx context.Context, tx pgx.Tx, outs []*dispatch.Outcome) error {
	sum := map[travelKey]geo.TravelStat{}
	for _, o := range outs {
		for i := range o.Trips {
			t := &o.Trips[i]
			if !t.Learned {
				continue
			}
			for k := range t.Obs.Taught() {
				tk := travelKey{o.Drill, k}
				sum[tk] = sum[tk].Add(t.Obs.LogRatio)
			}
		}
	}
	if len(sum) == 0 {
		return nil
	}
	keys := make([]travelKey, 0, len(sum))
	for k := range sum {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b travelKey) int {
		return cmp.Or(cmp.Compare(a.drill, b.drill), geo.CompareTravelKeys(a.key, b.key))
	})
	n := len(keys)
	drill, from, to := make([]string, n), make([]int64, n), make([]int64, n)
	band, cnt, sl := make([]int16, n), make([]int32, n), make([]float64, n)
	for i, k := range keys {
		st := sum[k]
		drill[i], from[i], to[i], band[i], cnt[i], sl[i] = k.drill, int64(k.key.From), int64(k.key.To), int16(k.key.Band), int32(st.N), st.SumLog
	}
	_, err := tx.Exec(ctx, `INSERT INTO travel_learned (drill, from_cell, to_cell, band, n, sum_log)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::smallint[], $5::int[], $6::float8[])
		ON CONFLICT (drill, from_cell, to_cell, band) DO UPDATE
		SET n = travel_learned.n + excluded.n, sum_log = travel_learned.sum_log + excluded.sum_log`,
		drill, from, to, band, cnt, sl)
	if err != nil {
		return conflict("apply: travel", err)
	}
	return nil
}

// loadTravel reads what the drill has learned of travel times.
func loadTravel(ctx context.Context, tx pgx.Tx, drill string) ([]geo.TravelRow, error) {
	rows, err := tx.Query(ctx, `SELECT from_cell, to_cell, band, n, sum_log FROM travel_learned WHERE drill = $1`, drill)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (geo.TravelRow, error) {
		var from, to int64
		var band int16
		var row geo.TravelRow
		err := r.Scan(&from, &to, &band, &row.Stat.N, &row.Stat.SumLog)
		row.Key = geo.TravelKey{From: geo.Cell(from), To: geo.Cell(to), Band: uint8(band)}
		return row, err
	})
	// the order of the keys as unsigned cells (bigint sorts them signed)
	slices.SortFunc(out, func(a, b geo.TravelRow) int { return geo.CompareTravelKeys(a.Key, b.Key) })
	return out, err
}
