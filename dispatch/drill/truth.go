package drill

import (
	"fmt"
	"hash/fnv"
	"math"
	"time"

	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
)

// The travel truths a drill can simulate (Config.Truth).
const (
	// TruthModel: units move as the engine's ETA model says (the default).
	TruthModel = "model"
	// TruthDelta: units move by the drill's own model of the Pearl River
	// delta (Truth), which the engine does not know.
	TruthDelta = "delta"
)

// Waterway is a river or channel as an approximate polyline; a trip may cross
// it only at one of its bridges.
type Waterway struct {
	Name    string
	Line    []geo.Point
	Bridges []geo.Point
}

// DeltaWaterways are the main waterways around Zhongshan, as approximate
// polylines with approximate bridges (docs/scenario.md: like the town
// centres, good enough for a drill, not survey data).
var DeltaWaterways = []Waterway{
	{Name: "xiaolan", // Xiaolan waterway: Xiaolan, Guzhen, Henglan west of it
		Line: []geo.Point{{Lat: 22.78, Lng: 113.25}, {Lat: 22.70, Lng: 113.255}, {Lat: 22.66, Lng: 113.265}, {Lat: 22.62, Lng: 113.27},
			{Lat: 22.58, Lng: 113.275}, {Lat: 22.54, Lng: 113.29}, {Lat: 22.50, Lng: 113.285}, {Lat: 22.43, Lng: 113.27}},
		Bridges: []geo.Point{{Lat: 22.70, Lng: 113.255}, {Lat: 22.62, Lng: 113.27}, {Lat: 22.54, Lng: 113.29}, {Lat: 22.50, Lng: 113.285}}},
	{Name: "jiya", // Jiya waterway: Fusha, Huangpu, Sanjiao north-east of it
		Line: []geo.Point{{Lat: 22.80, Lng: 113.31}, {Lat: 22.72, Lng: 113.315}, {Lat: 22.67, Lng: 113.31}, {Lat: 22.63, Lng: 113.33},
			{Lat: 22.60, Lng: 113.355}, {Lat: 22.58, Lng: 113.40}, {Lat: 22.57, Lng: 113.45}, {Lat: 22.56, Lng: 113.52}},
		Bridges: []geo.Point{{Lat: 22.72, Lng: 113.315}, {Lat: 22.63, Lng: 113.33}, {Lat: 22.58, Lng: 113.40}, {Lat: 22.57, Lng: 113.45}}},
	{Name: "qijiang", // Qijiang river through the city centre: West District west of it
		Line: []geo.Point{{Lat: 22.60, Lng: 113.356}, {Lat: 22.56, Lng: 113.365}, {Lat: 22.535, Lng: 113.37}, {Lat: 22.52, Lng: 113.365},
			{Lat: 22.50, Lng: 113.345}, {Lat: 22.48, Lng: 113.32}, {Lat: 22.46, Lng: 113.29}, {Lat: 22.43, Lng: 113.26}},
		Bridges: []geo.Point{{Lat: 22.56, Lng: 113.365}, {Lat: 22.535, Lng: 113.37}, {Lat: 22.52, Lng: 113.365}, {Lat: 22.50, Lng: 113.345}, {Lat: 22.46, Lng: 113.29}}},
	{Name: "hengmen", // Hengmen waterway: Minzhong and Nanlang's north east of it
		Line:    []geo.Point{{Lat: 22.78, Lng: 113.43}, {Lat: 22.68, Lng: 113.46}, {Lat: 22.63, Lng: 113.50}, {Lat: 22.60, Lng: 113.53}, {Lat: 22.58, Lng: 113.60}},
		Bridges: []geo.Point{{Lat: 22.68, Lng: 113.46}, {Lat: 22.60, Lng: 113.53}}},
	{Name: "modaomen", // the south: Tanzhou and Shenwan south of it
		Line:    []geo.Point{{Lat: 22.44, Lng: 113.22}, {Lat: 22.36, Lng: 113.33}, {Lat: 22.30, Lng: 113.40}, {Lat: 22.24, Lng: 113.50}},
		Bridges: []geo.Point{{Lat: 22.36, Lng: 113.33}, {Lat: 22.30, Lng: 113.40}}},
}

// deltaHourly is the truth's speed by local hour: rush hours are slower and
// shaped differently from the engine's model (its profiles' Hourly).
var deltaHourly = [24]float64{1.25, 1.3, 1.3, 1.3, 1.3, 1.2, 1.0, 0.8, 0.55, 0.65, 0.9, 0.95, 0.85, 0.95, 0.95, 0.9, 0.85,
	0.65, 0.5, 0.6, 0.85, 1.0, 1.1, 1.2}

// TruthConfig configures Truth. Zero values take the defaults.
type TruthConfig struct {
	// Scenario gives the speed profiles (each profile's speed_kmh, without
	// its hourly factors) and the town centres. Required.
	Scenario *scenario.Scenario
	// Waterways. Default DeltaWaterways.
	Waterways []Waterway
	// RoadFactor turns the path (via the bridges) into road distance.
	// Default 1.2.
	RoadFactor float64
	// UrbanRadiusM and TownRadiusM are the slow centres around urban
	// districts' and towns' centres; UrbanSpeed and TownSpeed their speed
	// factors. Defaults 2,500 m, 1,500 m, 0.55, 0.75.
	UrbanRadiusM, TownRadiusM, UrbanSpeed, TownSpeed float64
	// Spread is the standard deviation of the log of each trip's random
	// factor (seeded by Seed, the unit, the incident and the time).
	// Default 0.15; negative: none.
	Spread float64
	// Seed seeds the spread.
	Seed uint64
}

// Truth is a drill's own travel model of the delta: straight legs, but a
// leg that crosses a waterway goes by the bridge that makes the trip
// shortest; slower town centres; its own hours of the day; a random
// spread per trip. Boats ignore waterways and centres. It is immutable.
type Truth struct {
	cfg    TruthConfig
	kmh    []float64 // profile speed by the engine's profile index
	boat   []bool
	centre []slowZone
}

type slowZone struct {
	p      geo.Point
	r2     float64 // radius squared in (m)^2 of the equirectangular projection
	factor float64
}

// NewTruth validates cfg and builds the truth.
func NewTruth(cfg TruthConfig) (*Truth, error) {
	if cfg.Scenario == nil {
		return nil, fmt.Errorf("truth: no scenario")
	}
	if cfg.Waterways == nil {
		cfg.Waterways = DeltaWaterways
	}
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.RoadFactor, 1.2)
	def(&cfg.UrbanRadiusM, 2500)
	def(&cfg.TownRadiusM, 1500)
	def(&cfg.UrbanSpeed, 0.55)
	def(&cfg.TownSpeed, 0.75)
	def(&cfg.Spread, 0.15)
	cfg.Spread = max(cfg.Spread, 0)
	for _, w := range cfg.Waterways {
		if len(w.Line) < 2 || len(w.Bridges) == 0 {
			return nil, fmt.Errorf("truth: waterway %s needs a line and a bridge", w.Name)
		}
	}
	eta, err := geo.NewETA(cfg.Scenario.ETA)
	if err != nil {
		return nil, fmt.Errorf("truth: %w", err)
	}
	t := &Truth{cfg: cfg}
	for _, name := range eta.Profiles() {
		t.kmh = append(t.kmh, cfg.Scenario.ETA.Profiles[name].SpeedKmh)
		t.boat = append(t.boat, name == "boat")
	}
	for _, tw := range cfg.Scenario.Towns {
		z := slowZone{p: tw.Center, r2: cfg.TownRadiusM * cfg.TownRadiusM, factor: cfg.TownSpeed}
		if tw.Kind == "urban district" {
			z.r2, z.factor = cfg.UrbanRadiusM*cfg.UrbanRadiusM, cfg.UrbanSpeed
		}
		t.centre = append(t.centre, z)
	}
	return t, nil
}

// Spread returns the spread in force.
func (t *Truth) Spread() float64 { return t.cfg.Spread }

// Expected returns the truth's travel time in seconds from a to b for
// profile p (the engine's profile index) leaving at local hour h, without
// the per-trip spread: what an engine that knows the truth predicts.
func (t *Truth) Expected(a, b geo.Point, p, h int) float64 {
	kmh := t.kmh[p] * deltaHourly[h%24]
	if t.boat[p] {
		return geo.DistanceM(a, b) / (kmh / 3.6)
	}
	secs := 0.0
	cur := a
	for range 4 { // at most 4 bridges
		w, ok := t.firstCrossed(cur, b)
		if !ok {
			break
		}
		br := t.bridge(w, cur, b)
		secs += t.leg(cur, br, kmh)
		cur = br
	}
	return secs + t.leg(cur, b, kmh)
}

// Trip returns the actual travel time of one trip: Expected times the
// trip's random factor, drawn from the seed and the key (unit, incident,
// departure).
func (t *Truth) Trip(a, b geo.Point, p int, depart time.Time, unit, incident string) time.Duration {
	h := depart.In(cst).Hour()
	s := t.Expected(a, b, p, h)
	if t.cfg.Spread > 0 {
		f := fnv.New64a()
		_, _ = f.Write([]byte(unit))
		_, _ = f.Write([]byte{0})
		_, _ = f.Write([]byte(incident))
		x := f.Sum64() ^ t.cfg.Seed*0x9e3779b97f4a7c15 ^ uint64(depart.UnixNano())
		u1 := float64(splitmix(&x)>>11+1) / (1 << 53)
		u2 := float64(splitmix(&x)>>11) / (1 << 53)
		z := math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
		s *= math.Exp(t.cfg.Spread * z)
	}
	return time.Duration(s * float64(time.Second))
}

// leg is the time of a straight leg: in steps of at most 1 km, each at the
// speed of its middle (slower in a town centre).
func (t *Truth) leg(a, b geo.Point, kmh float64) float64 {
	d := geo.DistanceM(a, b) * t.cfg.RoadFactor
	n := max(1, int(math.Ceil(d/1000)))
	step := d / float64(n)
	v := kmh / 3.6
	secs := 0.0
	for i := range n {
		f := (float64(i) + 0.5) / float64(n)
		m := geo.Point{Lat: a.Lat + f*(b.Lat-a.Lat), Lng: a.Lng + f*(b.Lng-a.Lng)}
		secs += step / (v * t.slow(m))
	}
	return secs
}

// slow is the speed factor at p: the slowest centre it is in, else 1.
func (t *Truth) slow(p geo.Point) float64 {
	f := 1.0
	k := math.Cos(p.Lat * math.Pi / 180)
	for i := range t.centre {
		z := &t.centre[i]
		dy := (p.Lat - z.p.Lat) * 111195
		dx := (p.Lng - z.p.Lng) * 111195 * k
		if dx*dx+dy*dy < z.r2 {
			f = min(f, z.factor)
		}
	}
	return f
}

// firstCrossed returns the waterway the leg a-b crosses first (an odd
// number of times: a and b on its two sides), if any.
func (t *Truth) firstCrossed(a, b geo.Point) (int, bool) {
	best, bestT := -1, math.Inf(1)
	for wi := range t.cfg.Waterways {
		line := t.cfg.Waterways[wi].Line
		n, first := 0, math.Inf(1)
		for i := 0; i+1 < len(line); i++ {
			if s, ok := crossAt(a, b, line[i], line[i+1]); ok {
				n++
				first = min(first, s)
			}
		}
		if n%2 == 1 && first < bestT {
			best, bestT = wi, first
		}
	}
	return best, best >= 0
}

// bridge returns the bridge of waterway w that makes a -> bridge -> b shortest.
func (t *Truth) bridge(w int, a, b geo.Point) geo.Point {
	var best geo.Point
	bestD := math.Inf(1)
	for _, br := range t.cfg.Waterways[w].Bridges {
		if d := geo.DistanceM(a, br) + geo.DistanceM(br, b); d < bestD {
			best, bestD = br, d
		}
	}
	return best
}

// crossAt reports whether segment a-b crosses segment c-d strictly inside
// a-b (a leg starting or ending on the line, at a bridge, does not cross
// it), and where along a-b (0-1), in the plane of latitude and longitude.
func crossAt(a, b, c, d geo.Point) (float64, bool) {
	rx, ry := b.Lng-a.Lng, b.Lat-a.Lat
	sx, sy := d.Lng-c.Lng, d.Lat-c.Lat
	den := rx*sy - ry*sx
	if den == 0 {
		return 0, false
	}
	qx, qy := c.Lng-a.Lng, c.Lat-a.Lat
	tt := (qx*sy - qy*sx) / den
	u := (qx*ry - qy*rx) / den
	const eps = 1e-9
	if tt <= eps || tt >= 1-eps || u < 0 || u >= 1 {
		return 0, false
	}
	return tt, true
}
