package scenario

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

//go:generate go run ../../cmd/dispatchd scenario -out data/zhongshan.json

// zhongshanTownsCSV: the 24 towns and districts of 2013 with approximate
// centres and populations (see data/README.md: good enough for a
// synthetic scenario, not survey data).
//
//go:embed data/zhongshan_towns.csv
var zhongshanTownsCSV []byte

//go:embed data/zhongshan.json
var zhongshanJSON []byte

var (
	defaultOnce sync.Once
	defaultSc   *Scenario
	defaultErr  error
)

// Default returns the embedded Zhongshan scenario: 24 towns, the 13
// teams of "1+10+2", about 1,000 units, a city reserve and 24 town depots,
// and the 110 incident catalogue. Each call returns a fresh copy.
func Default() (*Scenario, error) {
	defaultOnce.Do(func() {
		defaultSc, defaultErr = Parse("zhongshan.json", zhongshanJSON)
	})
	if defaultErr != nil {
		return nil, defaultErr
	}
	return cloneScenario(defaultSc)
}

func cloneScenario(sc *Scenario) (*Scenario, error) {
	b, err := json.Marshal(sc)
	if err != nil {
		return nil, fmt.Errorf("copy scenario: %w", err)
	}
	var out Scenario
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("copy scenario: %w", err)
	}
	return &out, nil
}

// ZhongshanTowns returns the 24 towns of the embedded CSV.
func ZhongshanTowns() ([]geo.Town, error) {
	rows, err := csv.NewReader(bytes.NewReader(zhongshanTownsCSV)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("zhongshan towns: %w", err)
	}
	var towns []geo.Town
	for i, r := range rows {
		if i == 0 {
			continue
		}
		if len(r) != 7 {
			return nil, fmt.Errorf("zhongshan towns: line %d: %d fields", i+1, len(r))
		}
		lat, err1 := strconv.ParseFloat(r[4], 64)
		lng, err2 := strconv.ParseFloat(r[5], 64)
		pop, err3 := strconv.Atoi(r[6])
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("zhongshan towns: line %d: bad number", i+1)
		}
		towns = append(towns, geo.Town{Code: r[0], NameZH: r[1], NameEN: r[2], Kind: r[3], Center: geo.Point{Lat: lat, Lng: lng}, Population: pop})
	}
	return towns, nil
}

// The 13 teams of "1+10+2" (see docs/scenario.md for why these ten).
var zhongshanTeams = []teams.Team{
	{ID: "command", NameZH: "市应急指挥队", NameEN: "City emergency command", Kind: teams.KindCommand, Department: "city emergency office"},
	{ID: "police", NameZH: "公安巡特警", NameEN: "Police patrol & special police", Kind: teams.KindProfessional, Department: "public security"},
	{ID: "fire", NameZH: "消防救援", NameEN: "Fire & rescue", Kind: teams.KindProfessional, Department: "fire"},
	{ID: "medical", NameZH: "医疗急救(120)", NameEN: "Medical emergency (120)", Kind: teams.KindProfessional, Department: "health"},
	{ID: "hazmat", NameZH: "安监危化救援", NameEN: "Work safety & hazmat", Kind: teams.KindProfessional, Department: "work safety"},
	{ID: "flood", NameZH: "三防水上救援", NameEN: "Flood control & water rescue", Kind: teams.KindProfessional, Department: "water affairs"},
	{ID: "power", NameZH: "电力抢修", NameEN: "Power emergency repair", Kind: teams.KindProfessional, Department: "power supply bureau"},
	{ID: "gas", NameZH: "燃气抢险", NameEN: "Gas emergency", Kind: teams.KindProfessional, Department: "gas utility"},
	{ID: "traffic", NameZH: "交警路政", NameEN: "Traffic police & road rescue", Kind: teams.KindProfessional, Department: "traffic police / highways"},
	{ID: "environment", NameZH: "环境应急监测", NameEN: "Environmental emergency monitoring", Kind: teams.KindProfessional, Department: "environmental protection"},
	{ID: "comms", NameZH: "通信保障", NameEN: "Communications support", Kind: teams.KindProfessional, Department: "telecom operators"},
	{ID: "militia", NameZH: "武警民兵预备队", NameEN: "Armed police & militia reserve", Kind: teams.KindReserve, Department: "armed police / people's armed forces", ActivationDelayS: 1800},
	{ID: "volunteer", NameZH: "志愿者救援队", NameEN: "Skilled volunteers", Kind: teams.KindReserve, Department: "volunteer federation", ActivationDelayS: 2700},
}

// unitKind is one kind of unit the generator places.
type unitKind struct {
	prefix  string
	team    string
	caps    []string
	profile string
	crew    int
	share   float64 // of all units
	where   string  // "all", "urban", "city" (Shiqi only), "water" (low-lying towns weighted x3)
}

var zhongshanKinds = []unitKind{
	{"PAT", "police", []string{"patrol"}, "car", 2, 0.44, "all"},
	{"SPD", "police", []string{"special_police", "patrol"}, "car", 6, 0.03, "urban"},
	{"ENG", "fire", []string{"fire_engine", "rescue"}, "truck", 6, 0.11, "all"},
	{"LAD", "fire", []string{"ladder", "fire_engine"}, "truck", 5, 0.02, "urban"},
	{"RSQ", "fire", []string{"rescue", "crane"}, "truck", 5, 0.03, "all"},
	{"AMB", "medical", []string{"ambulance"}, "ambulance", 3, 0.12, "all"},
	{"HAZ", "hazmat", []string{"hazmat"}, "truck", 5, 0.02, "all"},
	{"BOAT", "flood", []string{"boat", "rescue"}, "truck", 4, 0.03, "water"},
	{"PMP", "flood", []string{"pump"}, "truck", 3, 0.03, "water"},
	{"PWR", "power", []string{"power_repair"}, "truck", 3, 0.03, "all"},
	{"GAS", "gas", []string{"gas_repair"}, "truck", 3, 0.02, "all"},
	{"TRF", "traffic", []string{"traffic_control", "tow"}, "car", 2, 0.05, "all"},
	{"ENV", "environment", []string{"env_monitor"}, "car", 3, 0.01, "all"},
	{"COM", "comms", []string{"comms"}, "truck", 3, 0.01, "all"},
	{"CMD", "command", []string{"command"}, "car", 4, 0.005, "city"},
	{"MIL", "militia", []string{"labour", "rescue", "patrol"}, "truck", 12, 0.025, "all"},
	{"VOL", "volunteer", []string{"first_aid", "labour", "comms"}, "car", 4, 0.02, "all"},
}

// Low-lying and riverside towns where flood units are concentrated.
var waterTowns = map[string]bool{"huangpu": true, "nantou": true, "dongfeng": true, "fusha": true, "sanjiao": true,
	"minzhong": true, "gangkou": true, "tanzhou": true, "shenwan": true, "banfu": true, "xiaolan": true, "guzhen": true}

var zhongshanItems = []resources.Item{
	{Code: "sandbag", NameZH: "沙袋", NameEN: "Sandbags", Unit: "bag"},
	{Code: "pump", NameZH: "抽水泵", NameEN: "Water pumps", Unit: "set"},
	{Code: "life_jacket", NameZH: "救生衣", NameEN: "Life jackets", Unit: "piece"},
	{Code: "inflatable_boat", NameZH: "冲锋舟", NameEN: "Inflatable boats", Unit: "boat"},
	{Code: "tent", NameZH: "帐篷", NameEN: "Tents", Unit: "tent"},
	{Code: "blanket", NameZH: "棉被", NameEN: "Blankets", Unit: "piece"},
	{Code: "water", NameZH: "饮用水", NameEN: "Drinking water", Unit: "case"},
	{Code: "ration", NameZH: "干粮", NameEN: "Rations", Unit: "box"},
	{Code: "generator", NameZH: "发电机", NameEN: "Generators", Unit: "set"},
	{Code: "lighting", NameZH: "照明灯组", NameEN: "Lighting sets", Unit: "set"},
	{Code: "medical_kit", NameZH: "急救包", NameEN: "Medical kits", Unit: "kit"},
	{Code: "foam", NameZH: "泡沫灭火剂", NameEN: "Firefighting foam", Unit: "drum"},
	{Code: "hazmat_suit", NameZH: "防化服", NameEN: "Hazmat suits", Unit: "suit"},
	{Code: "chainsaw", NameZH: "油锯", NameEN: "Chainsaws", Unit: "piece"},
}

// per 100,000 residents in a town depot; the city reserve holds 10x the city's largest town.
var depotStockPer100k = map[string]int{"sandbag": 2000, "pump": 6, "life_jacket": 80, "inflatable_boat": 2, "tent": 30,
	"blanket": 300, "water": 400, "ration": 400, "generator": 4, "lighting": 8, "medical_kit": 60, "foam": 20,
	"hazmat_suit": 10, "chainsaw": 8}

// GenConfig configures Generate.
type GenConfig struct {
	// Units is how many units to place. Default 1000.
	Units int
	// Seed makes the placement deterministic. Default 1.
	Seed int64
	// Towns to spread units over by population. Default the 24 Zhongshan
	// towns, and then the scenario carries Zhongshan's named places too.
	Towns []geo.Town
}

// Generate makes a Zhongshan-like scenario of any size: the same
// teams, catalogue and depots, Units units spread over stations weighted by
// town population. The same config gives the same scenario.
func Generate(cfg GenConfig) (*Scenario, error) {
	if cfg.Units == 0 {
		cfg.Units = 1000
	}
	if cfg.Units < 0 {
		return nil, fmt.Errorf("generate scenario: %d units", cfg.Units)
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	zhongshan := cfg.Towns == nil // the named places are Zhongshan's: only with its towns
	if cfg.Towns == nil {
		t, err := ZhongshanTowns()
		if err != nil {
			return nil, err
		}
		cfg.Towns = t
	}
	if len(cfg.Towns) == 0 {
		return nil, errors.New("generate scenario: no towns")
	}
	cfg.Towns = append([]geo.Town(nil), cfg.Towns...)
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5a48))
	sc := &Scenario{
		Name:        "zhongshan",
		Description: fmt.Sprintf("Zhongshan 2013 (synthetic deployment): %d towns, the 13 teams of 1+10+2, city reserve and town depots", len(cfg.Towns)),
		Towns:       cfg.Towns,
		Teams:       append([]teams.Team(nil), zhongshanTeams...),
		Items:       append([]resources.Item(nil), zhongshanItems...),
		ETA: geo.ETAConfig{DetourFactor: 1.3, Location: "Asia/Shanghai", Profiles: map[string]geo.SpeedProfile{
			"car":       {SpeedKmh: 40, Hourly: rushHours()},
			"truck":     {SpeedKmh: 35, Hourly: rushHours()},
			"ambulance": {SpeedKmh: 45, Hourly: rushHours()},
			"boat":      {SpeedKmh: 20},
			"foot":      {SpeedKmh: 5},
		}},
		Types:    zhongshanCatalogue(),
		Fallback: "unknown",
		Targets:  [4]float64{600, 900, 1800, 3600},
	}
	totalPop := 0
	for _, t := range cfg.Towns {
		totalPop += t.Population
	}
	kindCounts := kindCounts(cfg.Units)
	stations := map[string]bool{}
	station := func(town geo.Town, team string) string {
		id := strings.ToUpper(team) + "-" + strings.ToUpper(town.Code)
		if !stations[id] {
			stations[id] = true
			// jitter up to ~3 km around the centre
			ang, rad := r.Float64()*2*math.Pi, 500+r.Float64()*2500
			p := geo.Point{Lat: town.Center.Lat + rad*math.Sin(ang)/111000,
				Lng: town.Center.Lng + rad*math.Cos(ang)/(111000*math.Cos(town.Center.Lat*math.Pi/180))}
			sc.Stations = append(sc.Stations, teams.Station{ID: id, Name: town.NameEN + " " + team, Town: town.Code, Location: round6(p)})
		}
		return id
	}
	for ki, k := range zhongshanKinds {
		n := kindCounts[ki]
		weights := make([]float64, len(cfg.Towns))
		sum := 0.0
		for i, t := range cfg.Towns {
			w := float64(t.Population)
			switch k.where {
			case "urban":
				if !strings.Contains(t.Kind, "district") && !strings.Contains(t.Kind, "zone") {
					w *= 0.3
				}
			case "city":
				if t.Code != "shiqi" {
					w = 0
				}
			case "water":
				if waterTowns[t.Code] {
					w *= 3
				}
			}
			if totalPop == 0 {
				w = 1
			}
			weights[i] = w
			sum += w
		}
		if sum == 0 {
			for i := range weights {
				weights[i] = 1
			}
		}
		counts := apportion(n, weights)
		for i, t := range cfg.Towns {
			if counts[i] == 0 {
				continue
			}
			st, town := station(t, k.team), strings.ToUpper(t.Code)
			for j := 0; j < counts[i]; j++ {
				sc.Units = append(sc.Units, teams.Unit{
					ID: fmt.Sprintf("%s-%s-%02d", k.prefix, town, j+1), Team: k.team,
					Capabilities: append([]string(nil), k.caps...), Station: st, Profile: k.profile, Crew: k.crew,
				})
			}
		}
	}
	// Depots: the city reserve and one per town.
	biggest := cfg.Towns[0]
	for _, t := range cfg.Towns {
		if t.Population > biggest.Population {
			biggest = t
		}
	}
	// The city reserve sits in the East District (Zhongshan's civic centre);
	// for other towns, beside the largest town.
	city := resources.Depot{ID: "DEP-CITY", Name: "City emergency material reserve", Town: "dongqu", Kind: "city", PrepS: 1800,
		Location: geo.Point{Lat: 22.5230, Lng: 113.4100}, Stock: map[string]int{}}
	if !slices.ContainsFunc(cfg.Towns, func(t geo.Town) bool { return t.Code == "dongqu" }) {
		city.Town = biggest.Code
		city.Location = round6(geo.Point{Lat: biggest.Center.Lat - 0.003, Lng: biggest.Center.Lng + 0.003})
	}
	for item, q := range depotStockPer100k {
		city.Stock[item] = q * max(biggest.Population, 100000) / 100000 * 10
	}
	sc.Depots = append(sc.Depots, city)
	for _, t := range cfg.Towns {
		d := resources.Depot{ID: "DEP-" + strings.ToUpper(t.Code), Name: t.NameEN + " depot", Town: t.Code, Kind: "town", PrepS: 600,
			Location: round6(geo.Point{Lat: t.Center.Lat + 0.003, Lng: t.Center.Lng - 0.003}), Stock: map[string]int{}}
		for item, q := range depotStockPer100k {
			d.Stock[item] = max(1, q*t.Population/100000)
		}
		sc.Depots = append(sc.Depots, d)
	}
	if zhongshan {
		places, err := ZhongshanPlaces()
		if err != nil {
			return nil, fmt.Errorf("generate scenario: %w", err)
		}
		sc.Places = places
	}
	if err := sc.validate("generated scenario"); err != nil {
		return nil, fmt.Errorf("generate scenario: %w", err)
	}
	return sc, nil
}

// kindCounts splits units over zhongshanKinds by share (largest remainder,
// so the counts add up to units exactly); from 100 units on, every kind has
// at least one unit, taken from the most numerous kind.
func kindCounts(units int) []int {
	shares := make([]float64, len(zhongshanKinds))
	for i, k := range zhongshanKinds {
		shares[i] = k.share
	}
	counts := apportion(units, shares)
	if units >= 100 {
		for i := range counts {
			if counts[i] == 0 {
				counts[slices.Index(counts, slices.Max(counts))]--
				counts[i] = 1
			}
		}
	}
	return counts
}

// apportion splits n over weights (non-negative, not all zero) by the
// largest-remainder method: deterministic, proportional, summing to n.
// Ties go to the earlier index.
func apportion(n int, weights []float64) []int {
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	counts := make([]int, len(weights))
	rem := make([]float64, len(weights))
	left := n
	for i, w := range weights {
		x := float64(n) * w / sum
		counts[i] = int(x)
		rem[i] = x - float64(counts[i])
		left -= counts[i]
	}
	for ; left > 0; left-- {
		best := 0
		for i := range rem {
			if rem[i] > rem[best] {
				best = i
			}
		}
		counts[best]++
		rem[best] = -1
	}
	return counts
}

func round6(p geo.Point) geo.Point {
	return geo.Point{Lat: math.Round(p.Lat*1e6) / 1e6, Lng: math.Round(p.Lng*1e6) / 1e6}
}

// rushHours: 0.7 in the morning rush (7-9h), 0.6 in the evening rush
// (17-19h), 1.2 at night (0-5h), 1 otherwise.
func rushHours() [24]float64 {
	var h [24]float64
	for i := range h {
		switch {
		case i >= 7 && i <= 9:
			h[i] = 0.7
		case i >= 17 && i <= 19:
			h[i] = 0.6
		case i <= 5:
			h[i] = 1.2
		default:
			h[i] = 1
		}
	}
	return h
}

func req(c string, n int, subs ...string) Requirement {
	return Requirement{Capability: c, Count: n, Substitutes: subs}
}

// ahead adds first responders to a requirement: the nearest unit with any
// of caps goes ahead when it is more than marginS sooner (docs/scenario.md).
func ahead(r Requirement, marginS float64, caps ...string) Requirement {
	r.First = &FirstResponse{Capabilities: caps, MarginS: marginS}
	return r
}

// zhongshanCatalogue is the 110 incident catalogue: type, family, default
// priority, mean time on scene, and response plan.
func zhongshanCatalogue() []IncidentType {
	t := func(code, family, zh, en string, prio int, serviceMin float64, units []Requirement, mats map[string]int) IncidentType {
		return IncidentType{Code: code, Family: family, NameZH: zh, NameEN: en, Priority: prio, ServiceS: serviceMin * 60,
			Plan: Plan{Units: units, Materials: mats}}
	}
	return []IncidentType{
		t("theft", "property", "盗窃", "Theft", 3, 30, []Requirement{req("patrol", 1)}, nil),
		t("burglary", "property", "入室盗窃", "Burglary", 3, 45, []Requirement{req("patrol", 1)}, nil),
		t("robbery", "violence", "抢劫", "Robbery", 1, 60, []Requirement{req("patrol", 2), req("special_police", 1, "patrol")}, nil),
		t("assault", "violence", "伤害", "Assault", 2, 45, []Requirement{req("patrol", 2), req("ambulance", 1, "first_aid")}, nil),
		t("dispute", "order", "纠纷", "Dispute", 3, 30, []Requirement{req("patrol", 1)}, nil),
		t("fraud", "property", "诈骗", "Fraud", 4, 30, []Requirement{req("patrol", 1)}, nil),
		t("traffic.accident", "traffic", "交通事故(无人伤)", "Traffic accident, no injuries", 3, 40, []Requirement{ahead(req("traffic_control", 1, "patrol"), 180, "patrol")}, nil),
		t("traffic.injury", "traffic", "交通事故(有人伤)", "Traffic accident with injuries", 1, 50,
			[]Requirement{ahead(req("traffic_control", 1, "patrol"), 120, "patrol"), ahead(req("ambulance", 1, "first_aid"), 240, "patrol"), req("rescue", 1)},
			map[string]int{"medical_kit": 2}),
		t("fire.building", "fire", "建筑火灾", "Building fire", 1, 90,
			[]Requirement{req("fire_engine", 2), req("ladder", 1, "rescue"), req("ambulance", 1, "first_aid"), req("patrol", 1)}, map[string]int{"foam": 4}),
		t("fire.vehicle", "fire", "车辆火灾", "Vehicle fire", 2, 40, []Requirement{ahead(req("fire_engine", 1), 180, "patrol"), ahead(req("traffic_control", 1, "patrol"), 180, "patrol")},
			map[string]int{"foam": 2}),
		t("fire.other", "fire", "其他火灾", "Other fire", 2, 45, []Requirement{ahead(req("fire_engine", 1), 180, "patrol")}, nil),
		t("medical", "medical", "急病", "Medical emergency", 1, 40, []Requirement{ahead(req("ambulance", 1, "first_aid"), 240, "patrol")}, nil),
		t("drowning", "water", "溺水", "Drowning", 1, 60, []Requirement{ahead(req("boat", 1, "rescue"), 120, "rescue"), req("ambulance", 1, "first_aid"), req("patrol", 1)},
			map[string]int{"life_jacket": 4}),
		t("water.rescue", "water", "水上救援", "Water rescue", 1, 90, []Requirement{ahead(req("boat", 2, "rescue"), 120, "rescue", "patrol"), req("ambulance", 1)},
			map[string]int{"life_jacket": 10, "inflatable_boat": 1}),
		t("trapped", "rescue", "人员被困", "Persons trapped", 1, 75, []Requirement{ahead(req("rescue", 2, "fire_engine"), 180, "patrol"), req("ambulance", 1, "first_aid")}, nil),
		t("gas.leak", "hazard", "燃气泄漏", "Gas leak", 1, 60, []Requirement{req("gas_repair", 1), req("fire_engine", 1), req("patrol", 1)}, nil),
		t("hazmat", "hazard", "危化品事故", "Hazardous materials", 1, 150,
			[]Requirement{req("hazmat", 2), req("fire_engine", 2), req("env_monitor", 1), req("ambulance", 1), req("patrol", 2)}, map[string]int{"hazmat_suit": 10, "foam": 10}),
		t("flooding", "flood", "内涝水浸", "Flooding", 2, 120, []Requirement{req("boat", 1, "rescue"), req("pump", 2, "fire_engine"), req("patrol", 1)},
			map[string]int{"sandbag": 200, "pump": 2, "life_jacket": 20}),
		t("typhoon.damage", "storm", "台风灾害", "Typhoon damage", 2, 120, []Requirement{req("rescue", 1, "labour"), req("patrol", 1)},
			map[string]int{"tent": 5, "blanket": 20, "water": 20, "ration": 20}),
		t("tree.fallen", "storm", "树木倒伏", "Fallen tree", 3, 60, []Requirement{req("rescue", 1, "labour"), ahead(req("traffic_control", 1, "patrol"), 180, "patrol")},
			map[string]int{"chainsaw": 2}),
		t("power.line_down", "power", "电线断落", "Power line down", 2, 90, []Requirement{req("power_repair", 1), req("patrol", 1)}, map[string]int{"lighting": 2}),
		t("missing.person", "search", "人员走失", "Missing person", 2, 120, []Requirement{req("patrol", 2), req("labour", 1, "patrol")}, nil),
		t("public.disorder", "order", "群体性事件", "Public disorder", 1, 120, []Requirement{req("special_police", 2, "patrol"), req("patrol", 4), req("command", 1)}, nil),
		t("assistance", "service", "求助", "Assistance", 4, 30, []Requirement{req("patrol", 1)}, nil),
		t("noise", "order", "噪音扰民", "Noise", 4, 20, []Requirement{req("patrol", 1)}, nil),
		t("suspicious", "order", "可疑情况", "Suspicious activity", 3, 30, []Requirement{req("patrol", 1)}, nil),
		t("chemical.fire", "hazard", "化工厂火灾", "Chemical plant fire", 1, 240,
			[]Requirement{req("fire_engine", 4), req("hazmat", 2), req("ladder", 1, "rescue"), req("env_monitor", 1), req("ambulance", 2), req("patrol", 2), req("command", 1), req("comms", 1)},
			map[string]int{"foam": 40, "hazmat_suit": 20, "medical_kit": 10}),
		t("unknown", "unknown", "未分类警情", "Unclassified call", 2, 30, []Requirement{req("patrol", 1)}, nil),
	}
}
