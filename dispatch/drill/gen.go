package drill

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
)

// cst is the local time of Zhongshan (Asia/Shanghai, UTC+8, no DST): the
// hour and day profiles and the incident ids use it.
var cst = time.FixedZone("CST", 8*3600)

// DefaultStart is the default first instant of a synthetic stream: 2013-01-01 00:00 in Zhongshan.
var DefaultStart = time.Date(2013, 1, 1, 0, 0, 0, 0, cst)

// Year is the default span of a synthetic stream: 365 days.
const Year = 365 * 24 * time.Hour

// GenConfig configures a Generator.
type GenConfig struct {
	// Scenario supplies the towns (centres, populations) and the incident-type
	// catalogue. Required.
	Scenario *scenario.Scenario
	// Seed makes the stream deterministic: the same config and seed give the
	// same stream, record for record.
	Seed uint64
	// Start is the first instant of the stream. Default DefaultStart
	// (2013-01-01 00:00 Asia/Shanghai).
	Start time.Time
	// Duration is the span of the stream. Default Year (365 days).
	Duration time.Duration
	// CallsPerYear is the expected number of calls in 365 days, duplicate
	// calls and the surges (taken as yearly events) included: everyday calls
	// come at (CallsPerYear - the surges' calls) / 365 days, whatever the
	// Duration, and the surges inside the span add theirs. Default
	// CallsPerYear (1.36 million). Negative: no everyday calls (surges only).
	CallsPerYear float64
	// Mix is the everyday type mix: type code -> relative weight. Types the
	// scenario does not have are dropped. Default DefaultMix().
	Mix map[string]float64
	// DuplicateShare is the share of events reported by more than one caller
	// (1 to 8 extra calls within 8 minutes and 120 m, 1.67 on average).
	// Default 0.06. Negative: none.
	DuplicateShare float64
	// HotSpotShare is the share of everyday calls made at one of the three hot
	// spots of their town (markets, stations, nightlife). Default 0.35.
	// Negative: none.
	HotSpotShare float64
	// Surges are named bursts of calls added to the everyday stream. nil:
	// DefaultSurges of the Start year; an empty, non-nil slice: none. Calls of
	// a surge outside the stream's span are dropped.
	Surges []Surge
	// Drill is written into every record ("" = none; replay sets its own drill).
	Drill string
	// IDPrefix starts every incident id: PREFIX-YYYYMMDD-NNNNNN. Default "ZS110".
	IDPrefix string
}

// Surge is a named burst of calls: a typhoon, a plant fire.
type Surge struct {
	// Name identifies the surge in reports.
	Name string
	// Start and Duration bound the burst. Duration is required.
	Start    time.Time
	Duration time.Duration
	// Calls is how many calls the burst adds, duplicates included (the
	// anchor's callers not included).
	Calls int
	// PeakAt is where the call rate peaks, as a fraction of Duration (a
	// triangular profile): 0 for a sudden event that decays, 0.5 for a storm
	// that builds and passes.
	PeakAt float64
	// Mix is the burst's type mix: type code -> relative weight. Required
	// when Calls > 0.
	Mix map[string]float64
	// Towns multiplies the population weight of the named towns (others x1).
	// Not used when RadiusM is set.
	Towns map[string]float64
	// Center and RadiusM confine the burst to a disc around Center (a plant
	// fire). RadiusM 0: the whole city.
	Center  geo.Point
	RadiusM float64
	// Anchor, when set, is the type of the event itself: one incident at
	// Start at Center, reported by AnchorCallers callers (at least 1) within
	// ten minutes.
	Anchor        string
	AnchorCallers int
}

// call is one generated record before it is numbered.
type call struct {
	t        int64 // unix seconds
	seq      uint64
	typ      int32
	lat, lng float64
	caller   uint32
}

type townGen struct {
	code   string
	center geo.Point
	spread float64 // metres, standard deviation around the centre
	hot    [3]geo.Point
}

type surgeGen struct {
	Surge
	mix     []int32   // type indices
	cum     []float64 // cumulative weights of mix
	townCum []float64 // cumulative town weights
	start   int64
	done    bool
}

// Generator produces a synthetic 110 stream in reported_at order. It
// implements Source. It is not safe for concurrent use.
type Generator struct {
	cfg      GenConfig
	rng      *rand.Rand
	types    []string
	towns    []townGen
	townCum  []float64
	hourMix  [24][]float64 // cumulative everyday type weights by local hour
	surges   []surgeGen
	start    int64
	end      int64
	next     int64   // start of the next hour to generate
	perW     float64 // expected events per unit of hour weight
	dupShare float64
	hotShare float64
	pending  []call
	ready    []call
	pos      int
	seq      uint64
	day      int64 // local day number of the last id
	dayN     int
	emitted  int
	expected float64
}

// maxExtraCallers bounds the duplicate calls of one event; each further
// caller comes with probability dupContinue.
const (
	maxExtraCallers = 8
	dupContinue     = 0.4
)

// NewGenerator validates cfg, fills defaults and returns a generator positioned at the stream's start.
func NewGenerator(cfg GenConfig) (*Generator, error) {
	if cfg.Scenario == nil {
		return nil, errors.New("generator: no scenario")
	}
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	if cfg.Duration == 0 {
		cfg.Duration = Year
	}
	if cfg.Duration < 0 {
		return nil, fmt.Errorf("generator: negative duration %v", cfg.Duration)
	}
	if cfg.CallsPerYear == 0 {
		cfg.CallsPerYear = CallsPerYear
	}
	if math.IsNaN(cfg.CallsPerYear) || math.IsInf(cfg.CallsPerYear, 0) {
		return nil, errors.New("generator: calls per year must be a number")
	}
	if cfg.Mix == nil {
		cfg.Mix = DefaultMix()
	}
	if cfg.DuplicateShare == 0 {
		cfg.DuplicateShare = 0.06
	}
	if cfg.HotSpotShare == 0 {
		cfg.HotSpotShare = 0.35
	}
	if cfg.DuplicateShare > 1 || cfg.HotSpotShare > 1 {
		return nil, errors.New("generator: duplicate and hot-spot shares must be at most 1")
	}
	if cfg.Surges == nil {
		cfg.Surges = DefaultSurges(cfg.Start.In(cst).Year())
	}
	if cfg.IDPrefix == "" {
		cfg.IDPrefix = "ZS110"
	}
	if len(cfg.Scenario.Towns) == 0 {
		return nil, errors.New("generator: scenario has no towns")
	}
	g := &Generator{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x110_2013)), start: cfg.Start.Unix(),
		dupShare: max(cfg.DuplicateShare, 0), hotShare: max(cfg.HotSpotShare, 0), day: -1}
	g.end = g.start + int64(cfg.Duration/time.Second)
	g.next = g.start - mod(g.start, 3600)
	typeIdx := map[string]int32{}
	for _, t := range cfg.Scenario.Types {
		typeIdx[t.Code] = int32(len(g.types))
		g.types = append(g.types, t.Code)
	}
	// Towns: weights by population, hot spots 300 m - 2.5 km from the centre.
	total := 0.0
	for _, t := range cfg.Scenario.Towns {
		pop := float64(max(t.Population, 1))
		total += pop
		g.townCum = append(g.townCum, total)
		tg := townGen{code: t.Code, center: t.Center, spread: math.Min(2500, math.Max(800, 1500*math.Sqrt(pop/150000)))}
		for i := range tg.hot {
			tg.hot[i] = offset(t.Center, g.rng.Float64()*2*math.Pi, 300+g.rng.Float64()*2200)
		}
		g.towns = append(g.towns, tg)
	}
	// Everyday mix by hour.
	var mixCodes []string
	for _, c := range sortedKeys(cfg.Mix) {
		if w := cfg.Mix[c]; w < 0 || math.IsNaN(w) {
			return nil, fmt.Errorf("generator: mix weight of %s must be non-negative", c)
		}
		if _, ok := typeIdx[c]; ok && cfg.Mix[c] > 0 {
			mixCodes = append(mixCodes, c)
		}
	}
	if len(mixCodes) == 0 && cfg.CallsPerYear > 0 {
		return nil, errors.New("generator: no type of the mix is in the scenario")
	}
	for h := 0; h < 24; h++ {
		cum := make([]float64, len(g.types))
		acc := 0.0
		for i, c := range g.types {
			if slices.Contains(mixCodes, c) {
				acc += cfg.Mix[c] * typeHourFactor(c, h)
			}
			cum[i] = acc
		}
		g.hourMix[h] = cum
	}
	// Surges.
	surgeCalls := 0.0
	for i, s := range cfg.Surges {
		sg, err := g.surge(s, typeIdx)
		if err != nil {
			return nil, fmt.Errorf("generator: surge %d (%s): %w", i, s.Name, err)
		}
		surgeCalls += float64(s.Calls + max(s.AnchorCallers, 0))
		g.surges = append(g.surges, sg)
	}
	// Everyday rate: what the year's volume leaves after the surges, per event
	// (duplicates included), spread over the hours by the profiles.
	calls := math.Max(0, cfg.CallsPerYear-surgeCalls) * cfg.Duration.Seconds() / Year.Seconds()
	meanExtra := 0.0
	for k := 0; k < maxExtraCallers; k++ {
		meanExtra += math.Pow(dupContinue, float64(k))
	}
	events := calls / (1 + g.dupShare*meanExtra)
	g.expected = calls
	for _, sg := range g.surges {
		if sg.start >= g.start && sg.start < g.end {
			g.expected += float64(sg.Calls + max(sg.AnchorCallers, 0))
		}
	}
	weight := 0.0
	for h := g.next; h < g.end; h += 3600 {
		weight += g.hourWeight(h)
	}
	if weight > 0 {
		g.perW = events / weight
	}
	return g, nil
}

func (g *Generator) surge(s Surge, typeIdx map[string]int32) (surgeGen, error) {
	sg := surgeGen{Surge: s, start: s.Start.Unix()}
	if s.Duration <= 0 {
		return sg, errors.New("duration must be positive")
	}
	if s.Calls < 0 || s.PeakAt < 0 || s.PeakAt > 1 || s.RadiusM < 0 {
		return sg, errors.New("calls, peak and radius must be non-negative, peak at most 1")
	}
	if s.Anchor != "" {
		if _, ok := typeIdx[s.Anchor]; !ok {
			return sg, fmt.Errorf("anchor type %q not in the scenario", s.Anchor)
		}
		if err := s.Center.Validate(); err != nil {
			return sg, fmt.Errorf("center: %w", err)
		}
	}
	acc := 0.0
	for _, c := range sortedKeys(s.Mix) {
		i, ok := typeIdx[c]
		if !ok || !(s.Mix[c] > 0) {
			continue
		}
		acc += s.Mix[c]
		sg.mix = append(sg.mix, i)
		sg.cum = append(sg.cum, acc)
	}
	if s.Calls > 0 && len(sg.mix) == 0 {
		return sg, errors.New("no type of its mix is in the scenario")
	}
	acc = 0
	for _, t := range g.cfg.Scenario.Towns {
		w := float64(max(t.Population, 1))
		if m, ok := s.Towns[t.Code]; ok {
			w *= m
		}
		acc += w
		sg.townCum = append(sg.townCum, acc)
	}
	return sg, nil
}

func mod(a, b int64) int64 { return ((a % b) + b) % b }

// hourWeight is the relative everyday rate of the hour starting at unix
// second h (local hour of day x day of week), times the part of the hour
// inside the stream.
func (g *Generator) hourWeight(h int64) float64 {
	lt := time.Unix(h, 0).In(cst)
	frac := float64(min(h+3600, g.end)-max(h, g.start)) / 3600
	if frac <= 0 {
		return 0
	}
	return hourProfile[lt.Hour()] * dowProfile[lt.Weekday()] * frac
}

// Next returns the next call of the stream, io.EOF after the last.
func (g *Generator) Next() (dispatch.Incident, error) {
	for g.pos >= len(g.ready) {
		if g.next >= g.end && len(g.pending) == 0 {
			return dispatch.Incident{}, io.EOF
		}
		g.fillHour()
	}
	c := g.ready[g.pos]
	g.pos++
	return g.incident(c), nil
}

// Expected returns how many calls the stream is expected to hold (for a
// progress bar; the stream's own count differs by chance).
func (g *Generator) Expected() int64 { return int64(math.Round(g.expected)) }

// Emitted returns how many calls Next has returned.
func (g *Generator) Emitted() int { return g.emitted }

// fillHour generates the calls of the next hour and moves the calls due
// before its end to ready.
func (g *Generator) fillHour() {
	h := g.next
	g.next += 3600
	if h < g.end {
		for i := range g.surges {
			s := &g.surges[i]
			if !s.done && s.start < h+3600 {
				s.done = true
				g.surgeCalls(s)
			}
		}
		if w := g.hourWeight(h); w > 0 && g.perW > 0 {
			n := g.poisson(g.perW * w)
			from, to := max(h, g.start), min(h+3600, g.end)
			mix := g.hourMix[time.Unix(h, 0).In(cst).Hour()]
			for i := 0; i < n; i++ {
				t := from + g.rng.Int64N(to-from)
				typ := pick(g.rng, mix)
				town := pick(g.rng, g.townCum)
				p := g.everydayPoint(&g.towns[town])
				g.event(t, typ, p, maxExtraCallers+1)
			}
		}
	}
	slices.SortFunc(g.pending, func(a, b call) int {
		if a.t != b.t {
			return int(a.t - b.t)
		}
		return int(a.seq) - int(b.seq)
	})
	cut := len(g.pending)
	if g.next < g.end {
		cut, _ = slices.BinarySearchFunc(g.pending, g.next, func(c call, t int64) int { return int(c.t - t) })
	}
	g.ready = append(g.ready[:0], g.pending[:cut]...)
	g.pending = append(g.pending[:0], g.pending[cut:]...)
	g.pos = 0
}

// event adds one event at t and, with the duplicate share, its extra
// callers: at most limit calls. It returns how many calls it made (calls
// outside the stream's span count, though they are dropped).
func (g *Generator) event(t int64, typ int, p geo.Point, limit int) int {
	g.add(t, typ, p)
	n := 1
	if g.dupShare > 0 && g.rng.Float64() < g.dupShare {
		for k := 0; k < maxExtraCallers && n < limit; k++ {
			g.add(t+g.rng.Int64N(8*60), typ, jitter(g.rng, p, 40, 120))
			n++
			if g.rng.Float64() >= dupContinue {
				break
			}
		}
	}
	return n
}

// add queues a call; calls outside the stream's span are dropped.
func (g *Generator) add(t int64, typ int, p geo.Point) {
	if t < g.start || t >= g.end {
		return
	}
	g.seq++
	g.pending = append(g.pending, call{t: t, seq: g.seq, typ: int32(typ), lat: round6(p.Lat), lng: round6(p.Lng), caller: g.rng.Uint32()})
}

// surgeCalls generates every call of a surge.
func (g *Generator) surgeCalls(s *surgeGen) {
	if s.Anchor != "" {
		typ := slices.Index(g.types, s.Anchor)
		g.add(s.start, typ, s.Center)
		for k := 1; k < max(s.AnchorCallers, 1); k++ {
			g.add(s.start+g.rng.Int64N(10*60), typ, jitter(g.rng, s.Center, 40, 120))
		}
	}
	dur := s.Duration.Seconds()
	for n := 0; n < s.Calls; {
		t := s.start + int64(dur*triangular(g.rng.Float64(), s.PeakAt))
		typ := int(s.mix[pick(g.rng, s.cum)])
		var p geo.Point
		if s.RadiusM > 0 {
			p = jitter(g.rng, s.Center, s.RadiusM/2, s.RadiusM)
		} else {
			p = g.everydayPoint(&g.towns[pick(g.rng, s.townCum)])
		}
		n += g.event(t, typ, p, s.Calls-n)
	}
}

// everydayPoint is a call location in a town: at a hot spot (200 m spread)
// or around the centre (the town's spread), never farther than 6 km.
func (g *Generator) everydayPoint(t *townGen) geo.Point {
	if g.hotShare > 0 && g.rng.Float64() < g.hotShare {
		return jitter(g.rng, t.hot[g.rng.IntN(len(t.hot))], 200, 800)
	}
	return jitter(g.rng, t.center, t.spread, 6000)
}

// incident numbers a call and turns it into an incident record.
func (g *Generator) incident(c call) dispatch.Incident {
	at := time.Unix(c.t, 0).In(cst)
	day := (c.t + 8*3600) / 86400
	if day != g.day {
		g.day, g.dayN = day, 0
	}
	g.dayN++
	g.emitted++
	id := make([]byte, 0, len(g.cfg.IDPrefix)+17)
	id = append(id, g.cfg.IDPrefix...)
	id = append(id, '-')
	id = at.AppendFormat(id, "20060102")
	id = append(id, '-')
	id = appendPadded(id, g.dayN, 6)
	caller := make([]byte, 0, 11)
	caller = append(caller, '1', byte('3'+c.caller%7))
	caller = appendPadded(caller, int(c.caller/7%10), 1)
	caller = append(caller, "****"...)
	caller = appendPadded(caller, int(c.caller/70%10000), 4)
	return dispatch.Incident{ID: string(id), ReportedAt: at, Type: g.types[c.typ], Lat: c.lat, Lng: c.lng,
		HasLocation: true, Caller: string(caller), Drill: g.cfg.Drill}
}

func appendPadded(b []byte, n, width int) []byte {
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// poisson draws a Poisson count of the given mean: exact below 30, the
// normal approximation above.
func (g *Generator) poisson(mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean < 30 {
		l, k, p := math.Exp(-mean), 0, 1.0
		for {
			p *= g.rng.Float64()
			if p <= l {
				return k
			}
			k++
		}
	}
	return max(0, int(math.Floor(mean+math.Sqrt(mean)*g.rng.NormFloat64()+0.5)))
}

// pick returns the index drawn from cumulative weights.
func pick(r *rand.Rand, cum []float64) int {
	x := r.Float64() * cum[len(cum)-1]
	i, _ := slices.BinarySearch(cum, x)
	for i < len(cum)-1 && cum[i] <= x {
		i++
	}
	return min(i, len(cum)-1)
}

// triangular maps a uniform u to the triangular distribution on [0, 1) with mode c.
func triangular(u, c float64) float64 {
	var x float64
	if u < c {
		x = math.Sqrt(u * c)
	} else {
		x = 1 - math.Sqrt((1-u)*(1-c))
	}
	return math.Min(x, math.Nextafter(1, 0))
}

// jitter returns a point around p: a normal offset of standard deviation sd
// metres, resampled beyond limit metres.
func jitter(r *rand.Rand, p geo.Point, sd, limit float64) geo.Point {
	for {
		dx, dy := r.NormFloat64()*sd, r.NormFloat64()*sd
		if dx*dx+dy*dy <= limit*limit {
			return offset(p, math.Atan2(dy, dx), math.Hypot(dx, dy))
		}
	}
}

// offset moves p by d metres in direction ang (radians from east).
func offset(p geo.Point, ang, d float64) geo.Point {
	return geo.Point{Lat: p.Lat + d*math.Sin(ang)/111320, Lng: p.Lng + d*math.Cos(ang)/(111320*math.Cos(p.Lat*math.Pi/180))}
}

// round6 rounds to 6 decimals (about 0.1 m), so that a record written to
// JSON and read back is the same float.
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
