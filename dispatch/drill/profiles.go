package drill

import (
	"time"

	"github.com/zs110/dispatch/geo"
)

// CallsPerYear is the yearly volume of the Zhongshan 110 desk in 2013
// (Zhongshan Yearbook 2014): 1.36 million calls received and handled.
const CallsPerYear = 1_360_000

// DefaultMix is the everyday 110 type mix: type code -> share of calls.
// Most 110 work is help requests, disputes, thefts and traffic; fires,
// hazards and rescues are rare.
func DefaultMix() map[string]float64 {
	return map[string]float64{
		"assistance": 0.18, "dispute": 0.16, "theft": 0.14, "traffic.accident": 0.13, "noise": 0.08,
		"suspicious": 0.06, "fraud": 0.05, "medical": 0.04, "burglary": 0.03, "assault": 0.03,
		"traffic.injury": 0.03, "robbery": 0.01, "fire.other": 0.01, "missing.person": 0.01, "unknown": 0.01,
		"fire.building": 0.005, "trapped": 0.005, "fire.vehicle": 0.003, "tree.fallen": 0.003,
		"gas.leak": 0.002, "flooding": 0.002, "power.line_down": 0.002, "drowning": 0.001,
		"public.disorder": 0.001, "water.rescue": 0.0005, "hazmat": 0.0003,
	}
}

// hourProfile is the relative call rate by local hour of day: quiet before
// dawn, rising through the day, highest in the evening.
var hourProfile = [24]float64{
	0.75, 0.55, 0.42, 0.35, 0.30, 0.32, 0.45, 0.70, 0.95, 1.05, 1.10, 1.10,
	1.05, 1.00, 1.05, 1.10, 1.15, 1.20, 1.30, 1.45, 1.55, 1.55, 1.40, 1.05,
}

// dowProfile is the relative call rate by day of week (time.Weekday order:
// Sunday first): Friday and Saturday are the busiest.
var dowProfile = [7]float64{1.03, 0.97, 0.95, 0.95, 0.97, 1.05, 1.08}

// typeHourFactor changes a type's weight by hour: night noise and
// burglaries, rush-hour traffic, evening disputes.
func typeHourFactor(code string, h int) float64 {
	switch code {
	case "noise":
		switch {
		case h >= 22 || h <= 1:
			return 3
		case h >= 8 && h <= 18:
			return 0.3
		}
	case "traffic.accident", "traffic.injury":
		switch {
		case h >= 7 && h <= 9, h >= 17 && h <= 19:
			return 1.4
		case h <= 5:
			return 0.5
		}
	case "dispute":
		if h >= 19 && h <= 23 {
			return 1.3
		}
	case "burglary":
		if h >= 1 && h <= 5 {
			return 1.5
		}
	}
	return 1
}

// lowLyingTowns are the riverside and low-lying towns of Zhongshan where
// typhoon flooding concentrates (weighted x3 in the typhoon surge).
var lowLyingTowns = []string{"huangpu", "nantou", "dongfeng", "fusha", "sanjiao", "minzhong", "gangkou",
	"tanzhou", "shenwan", "banfu", "xiaolan", "guzhen"}

// DefaultSurges are the named surges of a synthetic year:
//
//   - "typhoon": 48 hours from 22 September 06:00 (Typhoon Usagi passed the
//     Pearl River Delta on 22-23 September 2013), 6,000 calls on top of the
//     everyday ones (about two days' worth), peaking at 40 % of the span:
//     flooding, fallen trees, trapped people, power lines down, storm damage,
//     water rescues, concentrated in the low-lying towns;
//   - "chemical-fire": a chemical plant fire in Minzhong on 15 July at 14:20,
//     reported by 40 callers within ten minutes, then 150 calls over 8 hours
//     within 4 km (smoke casualties, traffic, hazmat checks), decaying.
func DefaultSurges(year int) []Surge {
	cst := time.FixedZone("CST", 8*3600)
	towns := map[string]float64{}
	for _, t := range lowLyingTowns {
		towns[t] = 3
	}
	return []Surge{
		{
			Name: "typhoon", Start: time.Date(year, 9, 22, 6, 0, 0, 0, cst), Duration: 48 * time.Hour,
			Calls: 6000, PeakAt: 0.4, Towns: towns,
			Mix: map[string]float64{"flooding": 0.34, "tree.fallen": 0.22, "power.line_down": 0.12, "typhoon.damage": 0.12,
				"trapped": 0.08, "traffic.accident": 0.06, "water.rescue": 0.04, "drowning": 0.02},
		},
		{
			Name: "chemical-fire", Start: time.Date(year, 7, 15, 14, 20, 0, 0, cst), Duration: 8 * time.Hour,
			Calls: 150, PeakAt: 0, Center: geo.Point{Lat: 22.6330, Lng: 113.5010}, RadiusM: 4000,
			Anchor: "chemical.fire", AnchorCallers: 40,
			Mix: map[string]float64{"medical": 0.35, "assistance": 0.2, "traffic.accident": 0.15, "hazmat": 0.1,
				"fire.other": 0.1, "suspicious": 0.1},
		},
	}
}
