package drill

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// DayStats is one local (Zhongshan) calendar day of a run: what the
// comparison resamples to put a confidence interval on every difference,
// and what the offline bound's ratio reads (late arrivals by priority and
// day). Incidents count on the day they were reported.
type DayStats struct {
	// Date is the day, 2013-03-05.
	Date string `json:"date"`
	// Priority is the response of the day's incidents by priority (index 0 = P1).
	Priority [4]DayGroup `json:"priority"`
	// Towns and Families are the response by town (scenario order, then
	// "outside") and by incident-type family, the groups with incidents only.
	Towns    []DayGroup `json:"towns,omitempty"`
	Families []DayGroup `json:"families,omitempty"`
	// Wait is call to first unit assigned of the incidents that had no unit
	// at the call (Count of them; Late unused).
	Wait DayGroup `json:"wait"`
	// Queued incidents were missing some unit of their plan at some point;
	// Unserved never had a unit on scene.
	Queued   int `json:"queued"`
	Unserved int `json:"unserved"`
	// QueueMax is the longest queue of the day.
	QueueMax int `json:"queue_max"`
	// BusyHours is the time each team's units spent away from their stations
	// that day, in Report.Teams order; ReserveCalls the reserve units called
	// by team (incidents of the day or of earlier days).
	BusyHours    []float64 `json:"busy_hours"`
	ReserveCalls []int     `json:"reserve_calls"`
	// Short is, by item, the incidents of the day short of it.
	Short map[string]int `json:"short,omitempty"`
}

// DayGroup is the response of one group of a day's incidents: the figures
// from which counts, means, percentiles and the share within target can be
// recomputed for any multiset of days.
type DayGroup struct {
	Key string `json:"key,omitempty"`
	// Count incidents, of which Served had a unit on scene and Late did not
	// within their target (those never served included).
	Count  int `json:"count"`
	Served int `json:"served"`
	Late   int `json:"late"`
	// SumS and MaxS are the sum and the largest of the served response
	// times, to a tenth of a second.
	SumS float64 `json:"sum_s"`
	MaxS float64 `json:"max_s"`
	// Hist is the served response times.
	Hist Hist `json:"hist"`
}

func (g *DayGroup) add(resp float64, late bool) {
	g.Count++
	if late {
		g.Late++
	}
	if resp < 0 {
		return
	}
	g.Served++
	g.SumS += resp
	g.MaxS = max(g.MaxS, resp)
	g.Hist.add(resp)
}

// Day returns the day of a date (2013-03-05), nil when the run has none.
func (r *Report) Day(date string) *DayStats {
	for i := range r.ByDay {
		if r.ByDay[i].Date == date {
			return &r.ByDay[i]
		}
	}
	return nil
}

// byDay fills Report.ByDay from the incidents and the collector's daily series.
func (r *Result) byDay(rep *Report, target func(town, prio int) float64) {
	c := r.c
	sc := r.cfg.Scenario
	n := c.dayOf(c.last) + 1
	days := make([]DayStats, n)
	towns := make([][]DayGroup, n)
	fams := make([][]DayGroup, n)
	for d := range days {
		days[d].Date = time.Unix(0, (c.dayBase+int64(d))*dayNs-int64(8*time.Hour)).In(cst).Format(time.DateOnly)
		towns[d] = make([]DayGroup, len(sc.Towns)+1)
		fams[d] = make([]DayGroup, len(c.d.families))
	}
	for _, s := range c.incs {
		d := c.dayOf(s.reported)
		if d >= n {
			continue
		}
		day := &days[d]
		late := s.resp < 0 || s.resp > target(int(s.town), int(s.priority))
		if s.priority >= 1 && s.priority <= 4 {
			day.Priority[s.priority-1].add(s.resp, late)
		}
		t := int(s.town)
		if t < 0 {
			t = len(sc.Towns)
		}
		towns[d][t].add(s.resp, late)
		fams[d][s.family].add(s.resp, late)
		if s.queued {
			day.Queued++
		}
		if s.resp < 0 {
			day.Unserved++
		}
		if s.wait > 0 {
			day.Wait.add(s.wait, false)
		}
	}
	level := 0
	for d := range days {
		day := &days[d]
		for p := range day.Priority {
			day.Priority[p].Key = fmt.Sprintf("P%d", p+1)
		}
		day.Wait.Key = "wait"
		for t, g := range towns[d] {
			if g.Count > 0 {
				g.Key = "outside"
				if t < len(sc.Towns) {
					g.Key = sc.Towns[t].Code
				}
				day.Towns = append(day.Towns, g)
			}
		}
		for f, g := range fams[d] {
			if g.Count > 0 {
				g.Key = c.d.families[f]
				day.Families = append(day.Families, g)
			}
		}
		if d < len(c.queueDaily) {
			level = c.queueDaily[d]
		} else if d == len(c.queueDaily) {
			level = c.queueNow
		}
		day.QueueMax = level
		day.BusyHours = make([]float64, len(sc.Teams))
		day.ReserveCalls = make([]int, len(sc.Teams))
		if d < len(c.busyDaily) && c.busyDaily[d] != nil {
			for t, ns := range c.busyDaily[d] {
				day.BusyHours[t] = round4(float64(ns) / 3.6e12)
			}
		}
		if d < len(c.reserveDaily) && c.reserveDaily[d] != nil {
			copy(day.ReserveCalls, c.reserveDaily[d])
		}
		for _, code := range sortedKeys(c.items) {
			if it := c.items[code]; d < len(it.shortDay) && it.shortDay[d] > 0 {
				if day.Short == nil {
					day.Short = map[string]int{}
				}
				day.Short[code] = it.shortDay[d]
			}
		}
	}
	for d := range days {
		for _, gs := range [][]DayGroup{days[d].Priority[:], days[d].Towns, days[d].Families} {
			for i := range gs {
				gs[i].SumS, gs[i].MaxS = round1(gs[i].SumS), round1(gs[i].MaxS)
			}
		}
		days[d].Wait.SumS, days[d].Wait.MaxS = round1(days[d].Wait.SumS), round1(days[d].Wait.MaxS)
	}
	rep.ByDay = days
}

// appendByDay writes ByDay into the indented JSON b of the rest of the
// report (whose last byte is its closing brace), one compact line a day.
func appendByDay(b []byte, days []DayStats) ([]byte, error) {
	if len(days) == 0 {
		return b, nil
	}
	end := bytes.LastIndexByte(b, '}')
	if end < 0 {
		return nil, fmt.Errorf("report: no closing brace")
	}
	out := append([]byte(nil), bytes.TrimRight(b[:end], " \n")...)
	out = append(out, ",\n \"by_day\": [\n"...)
	for i := range days {
		line, err := json.Marshal(&days[i])
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		out = append(out, "  "...)
		out = append(out, line...)
		if i < len(days)-1 {
			out = append(out, ',')
		}
		out = append(out, '\n')
	}
	return append(out, " ]\n}"...), nil
}
