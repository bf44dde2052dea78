package geo

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"math"
	"sync"
	"time"

	"github.com/uber/h3-go/v4"
)

// Source says where an ETA came from.
type Source uint8

// The sources of an ETA.
const (
	// SourceModel: the ETA model (distance x detour / speed).
	SourceModel Source = iota
	// SourceLearned: the model times a correction learned from the units' trips.
	SourceLearned
	// SourceMatrix: the agency's travel-time table (Matrix).
	SourceMatrix
	// SourceOverride: TravelConfig.Override (a drill's engine that knows the truth).
	SourceOverride
)

// String returns "model", "learned", "matrix" or "override".
func (s Source) String() string {
	switch s {
	case SourceLearned:
		return "learned"
	case SourceMatrix:
		return "matrix"
	case SourceOverride:
		return "override"
	}
	return "model"
}

// Bands is the number of hour bands of learned corrections and matrices.
const Bands = 5

// bandOf is the hour band of each local hour: night (0-5), morning rush
// (6-9), day (10-16), evening rush (17-19), evening (20-23).
var bandOf = [24]uint8{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 4, 4, 4, 4}

// BandNames names the hour bands, in order.
var BandNames = [Bands]string{"night", "morning", "day", "evening_rush", "evening"}

// Band returns the hour band of a local hour of day (0-23).
func Band(hour int) int { return int(bandOf[hour%24]) }

// TravelKey identifies one learned correction: trips from cell From to cell
// To (both at one resolution) in an hour band.
type TravelKey struct {
	From, To Cell
	Band     uint8
}

// CompareTravelKeys orders keys by origin, destination, band.
func CompareTravelKeys(a, b TravelKey) int {
	return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To), cmp.Compare(a.Band, b.Band))
}

// TravelStat is what was learned of one key: the number of trips and the
// sum of the logs of their ratios (actual / model).
type TravelStat struct {
	N      int
	SumLog float64
}

// Add returns the statistics with one more trip of log ratio r.
func (s TravelStat) Add(r float64) TravelStat { return TravelStat{N: s.N + 1, SumLog: s.SumLog + r} }

// TravelRow is one learned key and its statistics (what a store keeps).
type TravelRow struct {
	Key  TravelKey
	Stat TravelStat
}

// TravelConfig configures Travel. Zero values take the defaults.
type TravelConfig struct {
	// ETA is the model. Required.
	ETA *ETA
	// CoarseRes and FineRes are the H3 resolutions of the cell pairs
	// corrections are learned for. Defaults 6 and 7. A fine pair's
	// correction is shrunk toward its coarse pair's, which is shrunk toward
	// the model (factor 1).
	CoarseRes, FineRes int
	// Shrink is the weight, in trips, of the prior of a correction: with n
	// trips of mean log ratio m, the log factor is n m / (n + Shrink).
	// Default 8.
	Shrink float64
	// MinFactor and MaxFactor bound every correction (learned or matrix).
	// Defaults 0.5 and 4. MinFactor is Travel.Floor.
	MinFactor, MaxFactor float64
	// MaxTripS drops trips longer than this (a unit that stopped on the
	// way). Default 2 h.
	MaxTripS float64
	// MinMoveM drops trips shorter than this (a unit that never moved).
	// Default 300 m.
	MinMoveM float64
	// MaxSpeedKmh drops trips faster than this over the great-circle
	// distance (an impossible report). Default 150.
	MaxSpeedKmh float64
	// Matrix is the agency's travel-time table, used in place of the
	// model where it has entries. Default none.
	Matrix *Matrix
	// Fixed turns corrections off: Learn and Restore do nothing and,
	// without a matrix or an override, Floor is 1 (the model's own bound).
	// Default false.
	Fixed bool
	// Override, when set, gives every travel time (clamped to the bounds of
	// the model's): a drill's engine that knows its simulator's truth.
	Override func(from, to Point, profile, hour int) float64
}

// Travel is the travel-time rule of the engine, in one place: the model
// (ETA), the agency's matrix where it has entries, else the model times a
// correction learned from the units' trips. Every travel time is between
// Floor and MaxFactor times the model's, so that Floor x the model's lower
// bound per metre is a lower bound of every ETA (the ranker's ring walk
// needs one). Learn is safe for concurrent use with the readers.
type Travel struct {
	cfg TravelConfig
	eta *ETA
	mu  sync.RWMutex
	// stats by key, coarse and fine.
	stats map[TravelKey]TravelStat
	// low[destination coarse cell, band] is the smallest log factor a key
	// toward it has had (at most 0: the model; see FloorTo).
	low map[lowKey]float64
}

type lowKey struct {
	to   Cell
	band uint8
}

// ErrBadTrip is wrapped by the reasons Learn drops a trip for.
var ErrBadTrip = errors.New("bad trip")

// NewTravel validates cfg and fills defaults.
func NewTravel(cfg TravelConfig) (*Travel, error) {
	if cfg.ETA == nil {
		return nil, errors.New("travel: no eta model")
	}
	if cfg.CoarseRes == 0 {
		cfg.CoarseRes = 6
	}
	if cfg.FineRes == 0 {
		cfg.FineRes = 7
	}
	if cfg.CoarseRes < 0 || cfg.FineRes > 15 || cfg.CoarseRes > cfg.FineRes {
		return nil, fmt.Errorf("travel: resolutions %d and %d: want 0 <= coarse <= fine <= 15", cfg.CoarseRes, cfg.FineRes)
	}
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.Shrink, 8)
	def(&cfg.MinFactor, 0.5)
	def(&cfg.MaxFactor, 4)
	def(&cfg.MaxTripS, 7200)
	def(&cfg.MinMoveM, 300)
	def(&cfg.MaxSpeedKmh, 150)
	for _, v := range []float64{cfg.Shrink, cfg.MinFactor, cfg.MaxFactor, cfg.MaxTripS, cfg.MinMoveM, cfg.MaxSpeedKmh} {
		if !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("travel: settings must be positive numbers, got %v", v)
		}
	}
	if cfg.MinFactor > 1 || cfg.MaxFactor < 1 {
		return nil, fmt.Errorf("travel: factor bounds %v-%v must contain 1", cfg.MinFactor, cfg.MaxFactor)
	}
	return &Travel{cfg: cfg, eta: cfg.ETA, stats: map[TravelKey]TravelStat{}, low: map[lowKey]float64{}}, nil
}

// ETA returns the model.
func (t *Travel) ETA() *ETA { return t.eta }

// Floor is the smallest factor any correction may reach: every travel time
// is at least Floor times the model's. It is MinFactor, or 1 when no
// correction can exist (Fixed, no matrix, no override).
func (t *Travel) Floor() float64 {
	if t.cfg.Fixed && t.cfg.Matrix == nil && t.cfg.Override == nil {
		return 1
	}
	return t.cfg.MinFactor
}

// FloorTo is a lower bound of every factor toward the place b at hour h,
// tighter than Floor: the smallest log factor any correction toward b's
// coarse cell in h's band has had (a coarse pair's shrunk log factor, a
// fine pair's mean log ratio: a fine pair's shrunk factor lies between
// that and its coarse pair's), and never above 1 (pairs never seen keep the
// model). With a matrix or an override it is Floor.
func (t *Travel) FloorTo(b Place, h int) float64 {
	if t.cfg.Matrix != nil || t.cfg.Override != nil || t.cfg.Fixed {
		return t.Floor()
	}
	t.mu.RLock()
	l := t.low[lowKey{b.Coarse, bandOf[h%24]}]
	t.mu.RUnlock()
	return max(math.Exp(l), t.cfg.MinFactor)
}

// lowered records a key's new log factor bound (under mu).
func (t *Travel) lowered(to Cell, band uint8, l float64) {
	k := lowKey{to, band}
	if l < t.low[k] {
		t.low[k] = l
	}
}

// lowerKey records the bound of key k's statistics s (under mu): its
// destination coarse cell is coarse.
func (t *Travel) lowerKey(k TravelKey, s TravelStat, coarse Cell) {
	if k.To == coarse { // a coarse pair: its shrunk log factor
		t.lowered(coarse, k.Band, s.SumLog/(float64(s.N)+t.cfg.Shrink))
	} else if s.N > 0 { // a fine pair: its mean log ratio
		t.lowered(coarse, k.Band, s.SumLog/float64(s.N))
	}
}

// Place is the cells of a point that travel times are looked up by.
type Place struct {
	// P is the point.
	P            Point
	Coarse, Fine Cell
	// Matrix is the point's cell at the matrix's resolution (0: none).
	Matrix Cell
	// Town is the point's town in the matrix's town list (-1: none).
	Town int16
}

// PlaceOf returns the cells of p (H3 through cgo: callers cache it).
func (t *Travel) PlaceOf(p Point) Place {
	if t.cfg.Fixed && t.cfg.Matrix == nil {
		return Place{P: p, Town: -1} // no cell is ever looked up
	}
	fine := h3.LatLngToCell(h3.NewLatLng(p.Lat, p.Lng), t.cfg.FineRes)
	coarse := fine
	if t.cfg.CoarseRes < t.cfg.FineRes {
		coarse = fine.Parent(t.cfg.CoarseRes)
	}
	pl := Place{P: p, Coarse: Cell(coarse), Fine: Cell(fine), Town: -1}
	if m := t.cfg.Matrix; m != nil {
		if m.res >= 0 {
			pl.Matrix = CellOf(p, m.res)
		}
		pl.Town = m.town(p)
	}
	return pl
}

// Estimate is one travel time and where it came from.
type Estimate struct {
	Seconds float64
	ModelS  float64
	Source  Source
	// Trips is the number of trips the learned correction rests on.
	Trips  int
	Factor float64
}

// Seconds returns the travel time over great-circle distance d metres,
// from a to b, for profile p at local hour h: the hot path of the ranker.
func (t *Travel) Seconds(d float64, p, h int, a, b Place) float64 {
	return t.estimate(d, p, h, a, b).Seconds
}

// SourceOf returns where Seconds takes the travel time of profile p at hour
// h from a to b, and the trips a learned correction rests on.
func (t *Travel) SourceOf(p, h int, a, b Place) (Source, int) {
	e := t.estimate(1000, p, h, a, b)
	return e.Source, e.Trips
}

// Estimate is Seconds with its source, between two points at a time.
func (t *Travel) Estimate(a, b Point, p int, at time.Time) Estimate {
	return t.Between(t.PlaceOf(a), t.PlaceOf(b), p, at)
}

// Between is Estimate between places the caller has (PlaceOf).
func (t *Travel) Between(a, b Place, p int, at time.Time) Estimate {
	return t.estimate(DistanceM(a.P, b.P), p, t.eta.Hour(at), a, b)
}

func (t *Travel) clamp(s, model float64) float64 {
	return min(max(s, model*t.cfg.MinFactor), model*t.cfg.MaxFactor)
}

func (t *Travel) estimate(d float64, p, h int, a, b Place) Estimate {
	model := t.eta.Seconds(d, p, h)
	band := Band(h)
	if t.cfg.Override != nil {
		s := t.clamp(t.cfg.Override(a.P, b.P, p, h), model)
		return Estimate{Seconds: s, ModelS: model, Source: SourceOverride, Factor: s / math.Max(model, 1e-9)}
	}
	if m := t.cfg.Matrix; m != nil {
		if s, ok := m.lookup(a, b, band); ok {
			s = t.clamp(s, model)
			return Estimate{Seconds: s, ModelS: model, Source: SourceMatrix, Factor: s / math.Max(model, 1e-9)}
		}
	}
	if t.cfg.Fixed {
		return Estimate{Seconds: model, ModelS: model, Factor: 1}
	}
	f, n := t.factor(a, b, band)
	if n == 0 {
		return Estimate{Seconds: model, ModelS: model, Factor: 1}
	}
	return Estimate{Seconds: model * f, ModelS: model, Source: SourceLearned, Trips: n, Factor: f}
}

// factor returns the learned correction of a pair of places in a band and
// the trips it rests on (0: none learned, factor 1).
func (t *Travel) factor(a, b Place, band int) (float64, int) {
	t.mu.RLock()
	c, okc := t.stats[TravelKey{From: a.Coarse, To: b.Coarse, Band: uint8(band)}]
	f, okf := t.stats[TravelKey{From: a.Fine, To: b.Fine, Band: uint8(band)}]
	t.mu.RUnlock()
	if !okc {
		return 1, 0
	}
	k := t.cfg.Shrink
	lc := c.SumLog / (float64(c.N) + k)
	l, n := lc, c.N
	if okf && a.Fine != a.Coarse {
		l, n = (f.SumLog+k*lc)/(float64(f.N)+k), f.N
	}
	lo, hi := math.Log(t.cfg.MinFactor), math.Log(t.cfg.MaxFactor)
	return math.Exp(min(max(l, lo), hi)), n
}

// Trip is one unit's trip as its reports tell it: from where it was when
// dispatched to the scene, leaving (en route) at Depart and on scene at
// Arrive.
type Trip struct {
	From, To       Point
	Depart, Arrive time.Time
	Profile        int
}

// Observation is what a trip teaches: the keys it counts for (coarse and
// fine) and the log of its ratio actual / model, bounded.
type Observation struct {
	Keys     [2]TravelKey
	LogRatio float64
}

// Taught yields the keys the observation teaches, each once (the coarse
// pair, then the fine one unless it is the same): the one rule the engine
// and the stores count a trip by.
func (o Observation) Taught() iter.Seq[TravelKey] {
	return func(yield func(TravelKey) bool) {
		for i, k := range o.Keys {
			if i > 0 && k == o.Keys[0] {
				continue
			}
			if !yield(k) {
				return
			}
		}
	}
}

// Observe checks a trip and returns what it teaches, or an error wrapping
// ErrBadTrip: a unit that never moved, a trip too long (a stop on the
// way) or impossibly fast, or with no positive time.
func (t *Travel) Observe(tr Trip) (Observation, error) {
	return t.ObserveAt(tr, t.PlaceOf(tr.From), t.PlaceOf(tr.To))
}

// ObserveAt is Observe with the places of the trip's ends (PlaceOf).
func (t *Travel) ObserveAt(tr Trip, a, b Place) (Observation, error) {
	d := DistanceM(tr.From, tr.To)
	secs := tr.Arrive.Sub(tr.Depart).Seconds()
	switch {
	case d < t.cfg.MinMoveM:
		return Observation{}, fmt.Errorf("%w: moved %.0f m", ErrBadTrip, d)
	case !(secs > 0):
		return Observation{}, fmt.Errorf("%w: took %.0f s", ErrBadTrip, secs)
	case secs > t.cfg.MaxTripS:
		return Observation{}, fmt.Errorf("%w: took %.0f s, more than %.0f", ErrBadTrip, secs, t.cfg.MaxTripS)
	case d/secs*3.6 > t.cfg.MaxSpeedKmh:
		return Observation{}, fmt.Errorf("%w: %.0f km/h", ErrBadTrip, d/secs*3.6)
	}
	h := t.eta.Hour(tr.Depart)
	model := t.eta.Seconds(d, tr.Profile, h)
	r := math.Log(secs / model)
	r = min(max(r, math.Log(t.cfg.MinFactor)), math.Log(t.cfg.MaxFactor))
	if t.cfg.Fixed && t.cfg.Matrix == nil { // no cells kept: nothing to learn into
		a, b = Place{}, Place{}
	}
	band := uint8(Band(h))
	o := Observation{LogRatio: r}
	o.Keys[0] = TravelKey{From: a.Coarse, To: b.Coarse, Band: band}
	o.Keys[1] = TravelKey{From: a.Fine, To: b.Fine, Band: band}
	return o, nil
}

// Learn adds an observation.
func (t *Travel) Learn(o Observation) {
	if t.cfg.Fixed {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range o.Taught() {
		st := t.stats[k].Add(o.LogRatio)
		t.stats[k] = st
		t.lowerKey(k, st, o.Keys[0].To)
	}
}

// LearnBatch adds the observations of one committed batch: summed per key
// over the batch first, in order, then added, as the stores add them, so
// that memory and a store reloaded agree bit for bit.
func (t *Travel) LearnBatch(obs []Observation) {
	if t.cfg.Fixed || len(obs) == 0 {
		return
	}
	type entry struct {
		key    TravelKey
		coarse Cell
	}
	sum := map[TravelKey]TravelStat{}
	var order []entry
	for _, o := range obs {
		for k := range o.Taught() {
			if _, ok := sum[k]; !ok {
				order = append(order, entry{k, o.Keys[0].To})
			}
			sum[k] = sum[k].Add(o.LogRatio)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range order {
		b, st := sum[e.key], t.stats[e.key]
		st = TravelStat{N: st.N + b.N, SumLog: st.SumLog + b.SumLog}
		t.stats[e.key] = st
		t.lowerKey(e.key, st, e.coarse)
	}
}

// Restore replaces what was learned with rows (a store's).
func (t *Travel) Restore(rows []TravelRow) {
	if t.cfg.Fixed {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.stats)
	clear(t.low)
	for _, r := range rows {
		t.stats[r.Key] = r.Stat
		coarse := r.Key.To
		if res := coarse.Resolution(); res > t.cfg.CoarseRes {
			coarse = Cell(h3.Cell(coarse).Parent(t.cfg.CoarseRes))
		}
		t.lowerKey(r.Key, r.Stat, coarse)
	}
}

// Rows returns what was learned (unordered).
func (t *Travel) Rows() []TravelRow {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]TravelRow, 0, len(t.stats))
	for k, s := range t.stats {
		out = append(out, TravelRow{Key: k, Stat: s})
	}
	return out
}

// Learned returns the number of keys learned.
func (t *Travel) Learned() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.stats)
}
