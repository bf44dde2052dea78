package drill

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"slices"
	"time"
)

// series is one line of a line chart; values below 0 are gaps.
type series struct {
	name   string
	values []float64
	color  string
	dash   bool
}

// barGroup is one colour of a bar chart: a value per category.
type barGroup struct {
	name   string
	values []float64
	color  string
}

var prioColors = [4]string{"#d62728", "#ff7f0e", "#2ca02c", "#1f77b4"}

const (
	colorA = "#1f77b4"
	colorB = "#d62728"
)

// plot geometry
const (
	plotW, plotH        = 1000, 360
	padL, padR          = 70, 270
	padT, padB          = 40, 50
	innerW, innerH      = plotW - padL - padR, plotH - padT - padB
	legendX, legendLine = plotW - padR + 15, 18
)

// niceMax returns a round axis maximum at or above m and its tick step.
func niceMax(m float64) (float64, float64) {
	if !(m > 0) {
		return 1, 0.2
	}
	mag := math.Pow(10, math.Floor(math.Log10(m/5)))
	for _, f := range []float64{1, 2, 2.5, 5, 10} {
		step := f * mag
		if top := math.Ceil(m/step) * step; top/step <= 6 {
			return top, step
		}
	}
	return m, m / 5
}

func svgHead(b *bytes.Buffer, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", plotW, plotH, plotW, plotH)
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="white"/>`+"\n", plotW, plotH)
	fmt.Fprintf(b, `<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>`+"\n", padL, html.EscapeString(title))
}

// yAxis draws the grid and labels for values 0..top.
func yAxis(b *bytes.Buffer, top, step float64, label string) {
	for v := 0.0; v <= top+step/2; v += step {
		y := padT + innerH - v/top*innerH
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", padL, y, padL+innerW, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", padL-6, y+4, trimFloat(v))
	}
	fmt.Fprintf(b, `<text x="16" y="%d" transform="rotate(-90 16 %d)" text-anchor="middle">%s</text>`+"\n", padT+innerH/2, padT+innerH/2, html.EscapeString(label))
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>`+"\n", padL, padT, innerW, innerH)
}

func trimFloat(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%g", math.Round(v*100)/100)
}

func legend(b *bytes.Buffer, i int, name, color string, dash bool) {
	y := padT + 10 + i*legendLine
	d := ""
	if dash {
		d = ` stroke-dasharray="6 3"`
	}
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"%s/>`+"\n", legendX, y, legendX+22, y, color, d)
	if r := []rune(name); len(r) > 36 {
		name = string(r[:35]) + "…"
	}
	fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`+"\n", legendX+28, y+4, html.EscapeString(name))
}

// lineChart plots daily series from the day of from.
func lineChart(title, yLabel string, from time.Time, days int, ss []series) []byte {
	return stepChart(title, yLabel, from, days, 24*time.Hour, ss)
}

// stepChart plots series of points every unit (a day, an hour) from from;
// days points on the axis.
func stepChart(title, yLabel string, from time.Time, days int, unit time.Duration, ss []series) []byte {
	var b bytes.Buffer
	svgHead(&b, title)
	// A spike (the typhoon) would flatten the rest of the year: the axis
	// stops at 1.5 times the 95th percentile when the maximum is beyond 4
	// times it, and the spike is drawn clipped.
	var all []float64
	for _, s := range ss {
		for _, v := range s.values {
			if v >= 0 {
				all = append(all, v)
			}
		}
	}
	m := 0.0
	clipped := false
	if len(all) > 0 {
		slices.Sort(all)
		m = all[len(all)-1]
		if p95 := percentile(all, 0.95); p95 > 0 && m > 4*p95 {
			m, clipped = 1.5*p95, true
		}
	}
	top, step := niceMax(m)
	yAxis(&b, top, step, yLabel)
	if clipped {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="#888">clipped above %s (max %s)</text>`+"\n", padL+innerW, padT-6,
			trimFloat(top), trimFloat(math.Round(all[len(all)-1])))
	}
	n := max(days, 2)
	x := func(d int) float64 { return padL + float64(d)/float64(n-1)*innerW }
	// ticks: months by day, every 6 hours (the date at midnight) by hour
	hourly := unit < 24*time.Hour
	every := max(1, days/(4*7)) // at most 4 ticks a day, ~28 in all
	for d := 0; d < days; d++ {
		t := from.Add(time.Duration(d) * unit)
		if !hourly {
			t = from.AddDate(0, 0, d)
		}
		label := ""
		switch {
		case !hourly && (t.Day() == 1 || d == 0):
			label = t.Format("Jan 2")
		case hourly && (d == 0 || t.Hour() == 0):
			label = t.Format("Jan 2 15h")
		case hourly && t.Hour()%6 == 0 && d%every == 0:
			label = t.Format("15h")
		}
		if label != "" {
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#888"/>`+"\n", x(d), padT+innerH, x(d), padT+innerH+5)
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(d), padT+innerH+18, label)
		}
	}
	for i, s := range ss {
		var path bytes.Buffer
		pen := false
		for d, v := range s.values {
			if v < 0 || d >= days {
				pen = false
				continue
			}
			cmd := 'L'
			if !pen {
				cmd = 'M'
			}
			fmt.Fprintf(&path, "%c%.1f %.1f ", cmd, x(d), padT+innerH-math.Min(v, top)/top*innerH)
			pen = true
		}
		dash := ""
		if s.dash {
			dash = ` stroke-dasharray="6 3"`
		}
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="1.5"%s/>`+"\n", bytes.TrimSpace(path.Bytes()), s.color, dash)
		legend(&b, i, s.name, s.color, s.dash)
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// barChart draws grouped bars, one group per category.
func barChart(title, yLabel string, cats []string, gs []barGroup) []byte {
	var b bytes.Buffer
	svgHead(&b, title)
	m := 0.0
	for _, g := range gs {
		for _, v := range g.values {
			m = math.Max(m, v)
		}
	}
	top, step := niceMax(m)
	yAxis(&b, top, step, yLabel)
	slot := float64(innerW) / float64(max(len(cats), 1))
	bw := slot * 0.8 / float64(max(len(gs), 1))
	for ci, c := range cats {
		x0 := padL + float64(ci)*slot + slot*0.1
		for gi, g := range gs {
			v := 0.0
			if ci < len(g.values) {
				v = math.Max(g.values[ci], 0)
			}
			h := v / top * innerH
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`+"\n",
				x0+float64(gi)*bw, padT+innerH-h, bw, h, g.color, html.EscapeString(g.name), html.EscapeString(c), trimFloat(math.Round(v*100)/100))
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="end" transform="rotate(-30 %.1f %d)">%s</text>`+"\n",
			x0+slot*0.4, padT+innerH+14, x0+slot*0.4, padT+innerH+14, html.EscapeString(c))
	}
	for i, g := range gs {
		legend(&b, i, g.name, g.color, false)
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func minutes(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x
		if x >= 0 {
			out[i] = x / 60
		}
	}
	return out
}

func ints(v []int) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// Plots returns the report's SVG plots by file name: daily p90 response by
// priority, the daily longest queue, stock of the items that moved, and
// utilisation by team.
func (r *Report) Plots() map[string][]byte {
	out := map[string][]byte{}
	var ss []series
	if h := r.Hourly; h != nil {
		// a short drill: by hour
		for p := 0; p < 4; p++ {
			ss = append(ss, series{name: fmt.Sprintf("P%d p90", p+1), values: minutes(h.P90[p]), color: prioColors[p]})
		}
		start := r.From
		out["response.svg"] = stepChart("Response time p90 by hour (call to first unit on scene)", "minutes", start, len(h.Calls), time.Hour, ss)
		out["queue.svg"] = stepChart("Longest queue of each hour (incidents waiting for units)", "incidents", start, len(h.Calls), time.Hour,
			[]series{{name: "queue", values: ints(h.QueueMax), color: colorB}})
	} else {
		for p := 0; p < 4; p++ {
			ss = append(ss, series{name: fmt.Sprintf("P%d p90", p+1), values: minutes(r.Daily.P90[p]), color: prioColors[p]})
		}
		out["response.svg"] = lineChart("Response time p90 by day (call to first unit on scene)", "minutes", r.From, r.Days, ss)
		out["queue.svg"] = lineChart("Longest queue of each day (incidents waiting for units)", "incidents", r.From, r.Days,
			[]series{{name: "queue", values: ints(r.Queue.DailyMax), color: colorB}})
	}
	ss = nil
	palette := []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}
	for _, s := range r.Stock {
		if s.Consumed == 0 && s.Shortfall == 0 || s.Initial == 0 || len(ss) == len(palette) {
			continue
		}
		v := make([]float64, len(s.Daily))
		for i, x := range s.Daily {
			v[i] = math.Max(0, float64(x)/float64(s.Initial)*100)
		}
		ss = append(ss, series{name: s.Item, values: v, color: palette[len(ss)]})
	}
	out["stock.svg"] = lineChart("Lowest available stock of each day, all depots", "% of initial stock", r.From, r.Days, ss)
	var cats []string
	var util []float64
	for _, t := range r.Teams {
		cats = append(cats, t.Team)
		util = append(util, t.Utilisation*100)
	}
	out["teams.svg"] = barChart("Unit utilisation by team", "% of unit time away from station", cats, []barGroup{{name: r.Label, values: util, color: colorA}})
	return out
}

// Plots returns SVG plots of both runs side by side, by file name.
func (c *Comparison) Plots(a, b *Report) map[string][]byte {
	out := map[string][]byte{}
	cats := []string{"all", "P1", "P2", "P3", "P4"}
	stats := func(r *Report, f func(Stat) float64) []float64 {
		v := []float64{f(r.Response.All)}
		for _, s := range r.Response.ByPriority {
			v = append(v, f(s))
		}
		return v
	}
	p90 := func(s Stat) float64 { return s.P90 / 60 }
	within := func(s Stat) float64 { return s.WithinTarget * 100 }
	out["compare-p90.svg"] = barChart("Response time p90: A against B", "minutes", cats,
		[]barGroup{{name: "A " + a.Label, values: stats(a, p90), color: colorA}, {name: "B " + b.Label, values: stats(b, p90), color: colorB}})
	out["compare-within-target.svg"] = barChart("Share on scene within target: A against B", "%", cats,
		[]barGroup{{name: "A " + a.Label, values: stats(a, within), color: colorA}, {name: "B " + b.Label, values: stats(b, within), color: colorB}})
	var towns []string
	var ta, tb []float64
	for _, x := range a.Response.ByTown {
		i := slices.IndexFunc(b.Response.ByTown, func(s Stat) bool { return s.Key == x.Key })
		if i < 0 {
			continue
		}
		towns = append(towns, x.Key)
		ta, tb = append(ta, x.P90/60), append(tb, b.Response.ByTown[i].P90/60)
	}
	out["compare-towns.svg"] = barChart("Response time p90 by town: A against B", "minutes", towns,
		[]barGroup{{name: "A " + a.Label, values: ta, color: colorA}, {name: "B " + b.Label, values: tb, color: colorB}})
	var ss []series
	if a.Hourly != nil && b.Hourly != nil {
		for p := 0; p < 2; p++ {
			ss = append(ss, series{name: fmt.Sprintf("A P%d p90", p+1), values: minutes(a.Hourly.P90[p]), color: prioColors[p]},
				series{name: fmt.Sprintf("B P%d p90", p+1), values: minutes(b.Hourly.P90[p]), color: prioColors[p], dash: true})
		}
		out["compare-daily.svg"] = stepChart("P1 and P2 response p90 by hour: A solid, B dashed", "minutes", a.From,
			max(len(a.Hourly.Calls), len(b.Hourly.Calls)), time.Hour, ss)
		return out
	}
	for p := 0; p < 2; p++ {
		ss = append(ss, series{name: fmt.Sprintf("A P%d p90", p+1), values: minutes(a.Daily.P90[p]), color: prioColors[p]},
			series{name: fmt.Sprintf("B P%d p90", p+1), values: minutes(b.Daily.P90[p]), color: prioColors[p], dash: true})
	}
	out["compare-daily.svg"] = lineChart("P1 and P2 response p90 by day: A solid, B dashed", "minutes", a.From, max(a.Days, b.Days), ss)
	return out
}
