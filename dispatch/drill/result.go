package drill

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/teams"
)

// Result is what a drill measured; Report turns it into the response-time report.
type Result struct {
	c   *collector
	cfg Config
}

func (c *collector) result() *Result { return &Result{c: c, cfg: c.d.cfg} }

// Calls returns how many records the drill decided.
func (r *Result) Calls() int { return r.c.calls }

// ReportConfig configures Result.Report.
type ReportConfig struct {
	// Targets are the response-time targets in seconds, call to first unit on
	// scene, by town kind (as in the scenario: "urban district", "town", ...)
	// then priority (index 0 = P1); the kind "default" covers the kinds not
	// listed. Default DefaultTargets(scenario).
	Targets map[string][4]float64
	// Label describes the run in reports and comparisons (policy,
	// deployment). Default: the policy.
	Label string
}

// DefaultTargets are the report's default response-time targets: the
// scenario's targets (the ranker's; Zhongshan: P1 10 min, P2 15, P3 30, P4
// 60) in urban districts and development zones, one and a half times them
// in towns and the mountain district ("default": P1 15 min, P2 22.5, P3 45,
// P4 90).
func DefaultTargets(sc *scenario.Scenario) map[string][4]float64 {
	base := sc.Targets
	for i, v := range base {
		if v <= 0 {
			base[i] = [4]float64{600, 900, 1800, 3600}[i]
		}
	}
	var far [4]float64
	for i, v := range base {
		far[i] = v * 1.5
	}
	return map[string][4]float64{"urban district": base, "development zone": base, "default": far}
}

// TargetS is the response-time target in seconds of a priority (1 to 4)
// in a kind of town ("" or "default" for a call outside every town), from
// targets as in ReportConfig.Targets: a kind not listed takes "default"'s;
// +Inf for a priority out of range.
func TargetS(targets map[string][4]float64, kind string, priority int) float64 {
	t, ok := targets[kind]
	if !ok {
		t = targets["default"]
	}
	if priority < 1 || priority > 4 {
		return math.Inf(1)
	}
	return t[priority-1]
}

// Report is the response-time report of one drill run. Times are in
// seconds; percentiles are nearest-rank (the smallest value with at least
// p of the values at or below it).
type Report struct {
	Label    string `json:"label"`
	Drill    string `json:"drill"`
	Scenario string `json:"scenario"`
	// Policy is the ranking policy (dispatch.RankConfig.Policy; "" in
	// reports made before policies).
	Policy          string    `json:"policy,omitempty"`
	CoverageWeightS float64   `json:"coverage_weight_s"`
	Seed            uint64    `json:"seed"`
	From            time.Time `json:"from"` // first call
	To              time.Time `json:"to"`   // last unit back or call
	Days            int       `json:"days"`
	Calls           int       `json:"calls"`
	// Incidents is the calls decided automatically: duplicates (linked to
	// an open incident) and manual records (no usable location) apart.
	Incidents   int `json:"incidents"`
	Duplicates  int `json:"duplicates"`
	Manual      int `json:"manual"`
	UnknownType int `json:"unknown_type"`
	// OutOfOrder counts records reported before the drill's clock (decided late).
	OutOfOrder int      `json:"out_of_order"`
	Targets    []Target `json:"targets"`
	Response   Response `json:"response"`
	// PrimaryResponse is call to the first unit on scene that brings one of
	// its plan's own capabilities (not a substitute, not a first
	// responder): when the specialised unit arrives. An incident whose
	// plan's own units never came counts as unserved here.
	PrimaryResponse Response `json:"primary_response"`
	// FirstResponders counts the first responders sent.
	FirstResponders FirstResponders `json:"first_responders"`
	// ReserveActivations is how many times a reserve unit was called (the
	// sum of the reserve teams' Activations).
	ReserveActivations int            `json:"reserve_activations"`
	Queue              Queue          `json:"queue"`
	Teams              []TeamUse      `json:"teams"`
	Stock              []ItemStock    `json:"stock"`
	Restocks           int            `json:"restocks"`
	Daily              DailyResponses `json:"daily"`
	// Hourly is the same by hour, for a drill shorter than a week
	// (HourlyBelowDays): the plots are then hourly.
	Hourly *HourlyResponses `json:"hourly,omitempty"`
	// MoveUps counts the units the engine sent to wait at another station
	// (move-up), MoveUpsPerUnitDay the same per professional unit and day.
	MoveUps           int     `json:"move_ups,omitempty"`
	MoveUpsPerUnitDay float64 `json:"move_ups_per_unit_day,omitempty"`
	// Diversions counts units taken off their way to a P3/P4 call for a P1
	// (dispatch.EngineConfig.Divert), DiversionsPerDay the same per day.
	Diversions       int     `json:"diversions,omitempty"`
	DiversionsPerDay float64 `json:"diversions_per_day,omitempty"`
	// ETA is how well the engine predicted its units' travel times (absent
	// when no unit arrived).
	ETA *ETAReport `json:"eta,omitempty"`
	// ByDay is the run by local calendar day (absent from reports written
	// before it): written last, one compact line a day.
	ByDay []DayStats `json:"by_day,omitempty"`
}

// Target is the response-time target of a priority in a kind of town.
type Target struct {
	Kind     string  `json:"kind"`
	Priority int     `json:"priority"`
	TargetS  float64 `json:"target_s"`
}

// Stat summarises the response times of a group of incidents.
type Stat struct {
	Key  string `json:"key"`            // "all", "P1".."P4", a town code
	Name string `json:"name,omitempty"` // town name
	Kind string `json:"kind,omitempty"` // town kind
	// Count incidents, of which Served had a unit on scene.
	Count  int     `json:"count"`
	Served int     `json:"served"`
	P50    float64 `json:"p50_s"`
	P90    float64 `json:"p90_s"`
	P99    float64 `json:"p99_s"`
	Mean   float64 `json:"mean_s"`
	Max    float64 `json:"max_s"`
	// WithinTarget is the share of Count on scene within the target of its
	// priority and town kind (unserved incidents count as late).
	WithinTarget float64 `json:"within_target"`
	// Late is how many were not on scene within that target (unserved included).
	Late int `json:"late"`
}

// FirstResponders counts the first responders sent (Requirement.First,
// policy responders): units, incidents that had one, by priority (index 0
// = P1) and by incident-type family.
type FirstResponders struct {
	Sent       int     `json:"sent"`
	Incidents  int     `json:"incidents"`
	ByPriority [4]int  `json:"by_priority"`
	ByFamily   []Count `json:"by_family,omitempty"`
}

// Count is a number for a key.
type Count struct {
	Key string `json:"key"`
	N   int    `json:"n"`
}

// Response is call to first unit on scene.
type Response struct {
	All        Stat   `json:"all"`
	ByPriority []Stat `json:"by_priority"`
	ByTown     []Stat `json:"by_town"`
	// ByFamily is by incident-type family (fire, traffic, flood, ...), in
	// catalogue order: where a deployment change shows.
	ByFamily []Stat `json:"by_family"`
}

// Queue is how incidents waited for units.
type Queue struct {
	// Queued incidents were missing some unit of their plan at some point.
	Queued int `json:"queued"`
	// Waited incidents had no unit at all at the call; Wait is their call to
	// first unit assigned.
	Waited int  `json:"waited"`
	Wait   Stat `json:"wait"`
	// Unserved incidents never had a unit on scene.
	Unserved  int       `json:"unserved"`
	MaxLength int       `json:"max_length"`
	MaxAt     time.Time `json:"max_at"`
	// DailyMax is the longest queue of each day.
	DailyMax []int `json:"daily_max"`
}

// TeamUse is one team's work.
type TeamUse struct {
	Team  string `json:"team"`
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Units int    `json:"units"`
	// BusyHours is the time its units spent away from their stations.
	BusyHours float64 `json:"busy_hours"`
	// Utilisation is BusyHours over Units x the span of the drill.
	Utilisation float64 `json:"utilisation"`
	// Activations is, for reserve teams, how many times a unit was called,
	// by priority (index 0 = P1).
	Activations  int    `json:"activations,omitempty"`
	ByPriority   [4]int `json:"by_priority"`
	ReserveDelay int    `json:"activation_delay_s,omitempty"`
}

// ItemStock is one item's city-wide stock over the drill.
type ItemStock struct {
	Item      string `json:"item"`
	Initial   int    `json:"initial"`
	Consumed  int    `json:"consumed"`
	Restocked int    `json:"restocked"`
	End       int    `json:"end"` // on hand at the end
	// MinAvailable is the lowest on hand minus reserved, at MinAt.
	MinAvailable int       `json:"min_available"`
	MinAt        time.Time `json:"min_at,omitzero"`
	// Shortfall is how many incidents were missing some of the item, Missing the quantity.
	Shortfall int `json:"shortfall_incidents"`
	Missing   int `json:"missing"`
	// Daily is the lowest available of each day.
	Daily []int `json:"daily"`
}

// DailyResponses are daily series for plots.
type DailyResponses struct {
	// P90 is the 90th percentile response of each day by priority (index 0
	// = P1); -1 on a day without served incidents of the priority.
	P90   [4][]float64 `json:"p90_s"`
	Calls []int        `json:"calls"`
}

// HourlyResponses is a short drill by hour from its first hour: the 90th
// percentile response by priority (-1: no served incident that hour), the
// calls and the longest queue of each hour.
type HourlyResponses struct {
	P90      [4][]float64 `json:"p90_s"`
	Calls    []int        `json:"calls"`
	QueueMax []int        `json:"queue_max"`
}

// HourlyBelowDays: a report of fewer days than this has hourly series
// (Report.Hourly) and hourly plots; longer ones are plotted by day.
const HourlyBelowDays = 7

// Report builds the report.
func (r *Result) Report(cfg ReportConfig) (*Report, error) {
	c := r.c
	sc := r.cfg.Scenario
	if cfg.Targets == nil {
		cfg.Targets = DefaultTargets(sc)
	}
	if _, ok := cfg.Targets["default"]; !ok {
		return nil, errors.New("report: targets have no \"default\" kind")
	}
	if cfg.Label == "" {
		cfg.Label = PolicyLabel(r.cfg.Rank)
	}
	rep := &Report{Label: cfg.Label, Drill: r.cfg.Drill, Scenario: sc.Name, Policy: policyOf(r.cfg.Rank),
		CoverageWeightS: r.cfg.Rank.CoverageWeightS, Seed: r.cfg.Seed,
		From: time.Unix(0, c.start).In(cst), To: time.Unix(0, c.last).In(cst), Calls: c.calls, Incidents: len(c.incs),
		Duplicates: c.linked, Manual: c.manual, UnknownType: c.unknownType, OutOfOrder: c.late, Restocks: c.restocks,
		MoveUps: c.moveUps, Diversions: c.diversions}
	rep.Days = int((c.last-c.start)/dayNs) + 1
	rep.ETA = c.etaReport(r.cfg)
	if rep.Diversions > 0 {
		rep.DiversionsPerDay = float64(rep.Diversions) / float64(rep.Days)
	}
	if pro := professionalUnits(sc); c.moveUps > 0 && pro > 0 {
		rep.MoveUpsPerUnitDay = float64(c.moveUps) / float64(pro) / float64(rep.Days)
	}
	kinds := []string{}
	for _, t := range sc.Towns {
		if !slices.Contains(kinds, t.Kind) {
			kinds = append(kinds, t.Kind)
		}
	}
	slices.Sort(kinds)
	target := func(town, prio int) float64 {
		kind := "default"
		if town >= 0 {
			kind = sc.Towns[town].Kind
		}
		return TargetS(cfg.Targets, kind, prio)
	}
	for _, k := range append(kinds, "default") {
		t, ok := cfg.Targets[k]
		if !ok {
			t = cfg.Targets["default"]
		}
		for p := 1; p <= 4; p++ {
			rep.Targets = append(rep.Targets, Target{Kind: k, Priority: p, TargetS: t[p-1]})
		}
	}
	// Response times.
	all := make([]int, 0, len(c.incs))
	byPrio := [4][]int{}
	byTown := make([][]int, len(sc.Towns)+1)
	byFamily := make([][]int, len(c.d.families))
	for i, s := range c.incs {
		byFamily[s.family] = append(byFamily[s.family], i)
		all = append(all, i)
		if s.priority >= 1 && s.priority <= 4 {
			byPrio[s.priority-1] = append(byPrio[s.priority-1], i)
		}
		t := int(s.town)
		if t < 0 {
			t = len(sc.Towns)
		}
		byTown[t] = append(byTown[t], i)
	}
	for i, when := range []func(s *incStat) float64{func(s *incStat) float64 { return s.resp }, func(s *incStat) float64 { return s.prim }} {
		resp := &rep.Response
		if i == 1 {
			resp = &rep.PrimaryResponse
		}
		stat := func(key string, idx []int) Stat {
			return responseStat(key, c.incs, idx, target, when)
		}
		resp.All = stat("all", all)
		for p := range byPrio {
			resp.ByPriority = append(resp.ByPriority, stat(fmt.Sprintf("P%d", p+1), byPrio[p]))
		}
		for t, idx := range byTown {
			if t == len(sc.Towns) {
				if len(idx) > 0 {
					resp.ByTown = append(resp.ByTown, stat("outside", idx))
				}
				continue
			}
			s := stat(sc.Towns[t].Code, idx)
			s.Name, s.Kind = sc.Towns[t].NameEN, sc.Towns[t].Kind
			resp.ByTown = append(resp.ByTown, s)
		}
		for f, idx := range byFamily {
			if len(idx) > 0 {
				resp.ByFamily = append(resp.ByFamily, stat(c.d.families[f], idx))
			}
		}
	}
	// First responders.
	famFirsts := make([]int, len(c.d.families))
	for _, s := range c.incs {
		if s.firsts == 0 {
			continue
		}
		fr := &rep.FirstResponders
		fr.Sent += int(s.firsts)
		fr.Incidents++
		if s.priority >= 1 && s.priority <= 4 {
			fr.ByPriority[s.priority-1] += int(s.firsts)
		}
		famFirsts[s.family] += int(s.firsts)
	}
	for f, n := range famFirsts {
		if n > 0 {
			rep.FirstResponders.ByFamily = append(rep.FirstResponders.ByFamily, Count{Key: c.d.families[f], N: n})
		}
	}
	// Queue.
	var waited []int
	for i, s := range c.incs {
		if s.queued {
			rep.Queue.Queued++
		}
		if s.wait > 0 {
			waited = append(waited, i)
		}
		if s.resp < 0 {
			rep.Queue.Unserved++
		}
	}
	rep.Queue.Waited = len(waited)
	rep.Queue.Wait = waitStat(c.incs, waited)
	rep.Queue.MaxLength = c.queueMax
	if c.queueMax > 0 {
		rep.Queue.MaxAt = time.Unix(0, c.queueMaxAt).In(cst)
	}
	rep.Queue.DailyMax = make([]int, rep.Days)
	for h, n := range c.queueHourly {
		if d := h / 24; d < rep.Days {
			rep.Queue.DailyMax[d] = max(rep.Queue.DailyMax[d], n)
		}
	}
	r.teams(rep)
	r.stock(rep)
	r.daily(rep)
	if rep.Days < HourlyBelowDays {
		r.hourly(rep)
	}
	r.byDay(rep, target)
	return rep, nil
}

// Policy names a ranker's coverage setting by its weight: "closest-eta"
// for 0, else "coverage-aware (300s)". PolicyLabel names the whole ranker.
func Policy(coverageWeightS float64) string {
	if coverageWeightS == 0 {
		return "closest-eta"
	}
	return fmt.Sprintf("coverage-aware (%gs)", coverageWeightS)
}

// PolicyLabel names a ranker configuration: its policy (the default when
// it names none), and the coverage weight when it has one ("responders",
// "closest, coverage-aware (300s)").
func PolicyLabel(cfg dispatch.RankConfig) string {
	l := policyOf(cfg)
	if cfg.CoverageWeightS != 0 {
		l += ", " + Policy(cfg.CoverageWeightS)
	}
	return l
}

func policyOf(cfg dispatch.RankConfig) string {
	if cfg.Policy == "" {
		return dispatch.DefaultPolicy
	}
	return cfg.Policy
}

func (r *Result) teams(rep *Report) {
	c := r.c
	sc := r.cfg.Scenario
	span := float64(c.last-c.start) / 1e9
	count := make([]int, len(sc.Teams))
	for _, u := range c.d.units {
		count[u.team]++
	}
	for i, t := range sc.Teams {
		tu := TeamUse{Team: t.ID, Name: t.NameEN, Kind: string(t.Kind), Units: count[i], BusyHours: round1(float64(c.busyNs[i]) / 3.6e12)}
		if count[i] > 0 && span > 0 {
			tu.Utilisation = round4(float64(c.busyNs[i]) / 1e9 / (float64(count[i]) * span))
		}
		if t.Kind == teams.KindReserve {
			tu.ByPriority = c.reserves[i]
			for _, n := range c.reserves[i] {
				tu.Activations += n
			}
			rep.ReserveActivations += tu.Activations
			tu.ReserveDelay = int(t.ActivationDelayS)
		}
		rep.Teams = append(rep.Teams, tu)
	}
}

func (r *Result) stock(rep *Report) {
	c := r.c
	for _, code := range sortedKeys(c.items) {
		it := c.items[code]
		is := ItemStock{Item: code, Initial: it.initial, Consumed: it.consumed, Restocked: it.restocked, End: it.onHand,
			MinAvailable: it.minAvail, Shortfall: it.shortInc, Missing: it.missing}
		if it.minAt != 0 {
			is.MinAt = time.Unix(0, it.minAt).In(cst)
		}
		is.Daily = make([]int, rep.Days)
		level := it.initial
		for d := range is.Daily {
			if d < len(it.daily) {
				level = it.daily[d]
			} else if d == len(it.daily) {
				level = it.onHand - it.reserved
			}
			is.Daily[d] = level
		}
		rep.Stock = append(rep.Stock, is)
	}
}

func (r *Result) daily(rep *Report) {
	c := r.c
	rep.Daily.Calls = make([]int, rep.Days)
	var byDay [4][][]float64
	for p := range byDay {
		byDay[p] = make([][]float64, rep.Days)
	}
	for _, s := range c.incs {
		d := int((s.reported - c.start) / dayNs)
		if d < 0 || d >= rep.Days {
			continue
		}
		rep.Daily.Calls[d]++
		if s.resp >= 0 && s.priority >= 1 && s.priority <= 4 {
			byDay[s.priority-1][d] = append(byDay[s.priority-1][d], s.resp)
		}
	}
	for p := range byDay {
		rep.Daily.P90[p] = make([]float64, rep.Days)
		for d, v := range byDay[p] {
			if len(v) == 0 {
				rep.Daily.P90[p][d] = -1
				continue
			}
			slices.Sort(v)
			rep.Daily.P90[p][d] = round1(percentile(v, 0.9))
		}
	}
}

func (r *Result) hourly(rep *Report) {
	c := r.c
	n := int((c.last-c.start)/hourNs) + 1
	h := &HourlyResponses{Calls: make([]int, n), QueueMax: make([]int, n)}
	copy(h.QueueMax, c.queueHourly)
	var by [4][][]float64
	for p := range by {
		by[p] = make([][]float64, n)
	}
	for _, s := range c.incs {
		i := int((s.reported - c.start) / hourNs)
		if i < 0 || i >= n {
			continue
		}
		h.Calls[i]++
		if s.resp >= 0 && s.priority >= 1 && s.priority <= 4 {
			by[s.priority-1][i] = append(by[s.priority-1][i], s.resp)
		}
	}
	for p := range by {
		h.P90[p] = make([]float64, n)
		for i, v := range by[p] {
			if len(v) == 0 {
				h.P90[p][i] = -1
				continue
			}
			slices.Sort(v)
			h.P90[p][i] = round1(percentile(v, 0.9))
		}
	}
	rep.Hourly = h
}

// responseStat summarises the response times (when: seconds from the
// call, negative for never) of the incidents idx.
func responseStat(key string, incs []incStat, idx []int, target func(town, prio int) float64, when func(s *incStat) float64) Stat {
	st := Stat{Key: key, Count: len(idx)}
	v := make([]float64, 0, len(idx))
	within := 0
	for _, i := range idx {
		s := &incs[i]
		x := when(s)
		if x < 0 {
			continue
		}
		v = append(v, x)
		if x <= target(int(s.town), int(s.priority)) {
			within++
		}
	}
	fill(&st, v)
	st.Late = st.Count - within
	if st.Count > 0 {
		st.WithinTarget = round4(float64(within) / float64(st.Count))
	}
	return st
}

func waitStat(incs []incStat, idx []int) Stat {
	st := Stat{Key: "wait", Count: len(idx)}
	v := make([]float64, 0, len(idx))
	for _, i := range idx {
		v = append(v, incs[i].wait)
	}
	fill(&st, v)
	return st
}

// fill sets the served count and the percentiles of v (unsorted).
func fill(st *Stat, v []float64) {
	st.Served = len(v)
	if len(v) == 0 {
		return
	}
	slices.Sort(v)
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	st.P50, st.P90, st.P99 = round1(percentile(v, 0.5)), round1(percentile(v, 0.9)), round1(percentile(v, 0.99))
	st.Mean, st.Max = round1(sum/float64(len(v))), round1(v[len(v)-1])
}

// percentile is the nearest-rank percentile of sorted v.
func percentile(v []float64, p float64) float64 {
	i := int(math.Ceil(p*float64(len(v)))) - 1
	return v[min(max(i, 0), len(v)-1)]
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }
func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// fmtDur prints seconds as 1h02m03s, 4m05s or 12.3s.
func fmtDur(s float64) string {
	if s < 0 {
		return "-"
	}
	if s < 60 {
		return fmt.Sprintf("%.1fs", s)
	}
	d := time.Duration(math.Round(s)) * time.Second
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%dh%02dm%02ds", h, m, sec)
	}
	return fmt.Sprintf("%dm%02ds", m, sec)
}

// pct prints a share as a percentage.
func pct(x float64) string { return strings.TrimSuffix(fmt.Sprintf("%.1f", x*100), ".0") + "%" }

// professionalUnits counts the units of professional and command teams.
func professionalUnits(sc *scenario.Scenario) int {
	reserve := map[string]bool{}
	for _, t := range sc.Teams {
		reserve[t.ID] = t.Kind == teams.KindReserve
	}
	n := 0
	for _, u := range sc.Units {
		if !reserve[u.Team] {
			n++
		}
	}
	return n
}
