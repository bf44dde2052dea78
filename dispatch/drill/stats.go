package drill

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/resources"
)

func errorf(format string, args ...any) error { return fmt.Errorf("drill: "+format, args...) }

const (
	dayNs  = int64(24 * time.Hour)
	hourNs = int64(time.Hour)
)

// incStat is the outcome of one automatically decided incident.
type incStat struct {
	reported int64
	resp     float64 // seconds from call to first unit on scene; -1: never
	prim     float64 // seconds from call to first primary unit on scene; -1: never
	wait     float64 // seconds from call to first unit assigned; -1: never
	firsts   int16   // first responders sent
	priority int8
	town     int16 // -1: outside every town
	family   int16
	queued   bool // some unit was missing at decision
}

type stockRow struct{ onHand, reserved int }

// itemSeries is the city-wide stock of one item over time.
type itemSeries struct {
	initial   int
	onHand    int
	reserved  int
	consumed  int
	restocked int
	minAvail  int
	minAt     int64
	daily     []int // minimum available (on hand - reserved) per day
	shortInc  int   // incidents with a shortfall of the item
	missing   int   // quantity missing over all incidents
	shortDay  []int // incidents with a shortfall of the item, by calendar day
}

// collector gathers a drill's measurements as the engine commits.
type collector struct {
	d           *Drill
	start, last int64
	calls       int
	linked      int
	manual      int
	unknownType int
	invalid     int
	late        int
	restocks    int
	moveUps     int
	diversions  int
	incs        []incStat
	queueMax    int
	queueMaxAt  int64
	queueHourly []int // maximum queue length per hour
	queueCount  int   // incidents that entered the queue
	busyNs      []int64
	reserves    [][4]int // by team, by priority
	rows        map[string]*stockRow
	items       map[string]*itemSeries
	// by local calendar day from the first call's (dayOf): for the
	// comparison's resampling of days
	dayBase      int64
	queueDaily   []int     // longest queue
	queueNow     int       // the queue's length after the last change
	busyDaily    [][]int64 // busy ns by team
	reserveDaily [][]int   // reserve calls by team
	// the units' trips to scenes (etastats.go)
	etas                   []etaObs
	tripsBad, tripsLearned int
}

func newCollector(d *Drill) *collector {
	c := &collector{d: d, busyNs: make([]int64, len(d.teams)), reserves: make([][4]int, len(d.teams)),
		rows: map[string]*stockRow{}, items: map[string]*itemSeries{}}
	for _, dep := range d.cfg.Scenario.Depots {
		for item, q := range dep.Stock {
			c.rows[dep.ID+"\x00"+item] = &stockRow{onHand: max(q, 0)}
			s := c.item(item)
			s.initial += max(q, 0)
			s.onHand += max(q, 0)
			s.minAvail = s.onHand
		}
	}
	return c
}

func (c *collector) item(code string) *itemSeries {
	s, ok := c.items[code]
	if !ok {
		s = &itemSeries{}
		c.items[code] = s
	}
	return s
}

func (c *collector) begin(at int64) { c.start, c.last, c.dayBase = at, at, calDay(at) }

// calDay is the local (Zhongshan) calendar day number of unix ns t.
func calDay(t int64) int64 {
	const off = int64(8 * time.Hour)
	d := (t + off) / dayNs
	if (t+off)%dayNs < 0 {
		d--
	}
	return d
}

// dayOf is the calendar day of t counted from the first call's (0), never negative.
func (c *collector) dayOf(t int64) int { return int(max(calDay(t)-c.dayBase, 0)) }

// grow extends a per-day slice to hold day d.
func grow[T any](s []T, d int) []T {
	for len(s) <= d {
		var zero T
		s = append(s, zero)
	}
	return s
}

func (c *collector) touch(at int64) { c.last = max(c.last, at) }

// end records the incidents still open (never served) in id order: map
// order must not leak into the result.
func (c *collector) end(int64) {
	ids := make([]string, 0, len(c.d.inflight))
	for id := range c.d.inflight {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		c.finish(c.d.inflight[id])
	}
}

func (c *collector) call(rec *dispatch.IncidentRecord) {
	c.calls++
	c.touch(rec.ReportedAt.UnixNano())
	switch rec.State {
	case dispatch.StateLinked:
		c.linked++
	case dispatch.StateManual:
		c.manual++
	}
	if !rec.TypeKnown {
		c.unknownType++
	}
	if rec.Invalid != "" {
		c.invalid++
	}
	if rec.Rec == nil {
		return
	}
	for _, s := range rec.Rec.Shortfalls {
		if s.Kind == "material" {
			it := c.item(s.What)
			it.shortInc++
			it.missing += s.Missing
			d := c.dayOf(rec.ReportedAt.UnixNano())
			it.shortDay = grow(it.shortDay, d)
			it.shortDay[d]++
		}
	}
}

// finish records an incident that closed (or is still open at the end).
func (c *collector) finish(st *incState) {
	s := incStat{reported: st.reported, resp: -1, prim: -1, wait: -1, priority: int8(st.priority), town: int16(st.town), family: st.typ.family,
		queued: st.everQueued, firsts: int16(min(st.firsts, math.MaxInt16))}
	if st.firstOnScene != 0 {
		s.resp = float64(st.firstOnScene-st.reported) / 1e9
	}
	if st.firstPrimary != 0 {
		s.prim = float64(st.firstPrimary-st.reported) / 1e9
	}
	if st.firstAssign != 0 {
		s.wait = float64(st.firstAssign-st.reported) / 1e9
	}
	c.incs = append(c.incs, s)
}

func (c *collector) reserve(team, priority int, at int64) {
	if priority >= 1 && priority <= 4 {
		c.reserves[team][priority-1]++
		d := c.dayOf(at)
		c.reserveDaily = grow(c.reserveDaily, d)
		if c.reserveDaily[d] == nil {
			c.reserveDaily[d] = make([]int, len(c.busyNs))
		}
		c.reserveDaily[d][team]++
	}
}

// busyTime counts a unit of team away from its station from since to at,
// in total and split over calendar days.
func (c *collector) busyTime(team int, since, at int64) {
	c.busyNs[team] += at - since
	for t := since; t < at; {
		d := c.dayOf(t)
		next := min((calDay(t)+1)*dayNs-int64(8*time.Hour), at)
		c.busyDaily = grow(c.busyDaily, d)
		if c.busyDaily[d] == nil {
			c.busyDaily[d] = make([]int64, len(c.busyNs))
		}
		c.busyDaily[d][team] += next - t
		t = next
	}
}

// moveUp counts a unit the engine moved up to another station.
func (c *collector) moveUp(at int64) {
	c.touch(at)
	c.moveUps++
}

func (c *collector) queueLen(n int, at int64) {
	h := int((at - c.start) / hourNs)
	if h < 0 {
		h = 0
	}
	for len(c.queueHourly) <= h {
		c.queueHourly = append(c.queueHourly, 0)
	}
	c.queueHourly[h] = max(c.queueHourly[h], n)
	// days without a change kept the length before it
	for d := c.dayOf(at); len(c.queueDaily) <= d; {
		c.queueDaily = append(c.queueDaily, c.queueNow)
	}
	d := c.dayOf(at)
	c.queueDaily[d] = max(c.queueDaily[d], n)
	c.queueNow = n
	if n > c.queueMax {
		c.queueMax, c.queueMaxAt = n, at
	}
}

// stock follows a stock movement.
func (c *collector) stock(s *resources.StockChange, at int64) {
	key := s.Depot + "\x00" + s.Item
	row, ok := c.rows[key]
	if !ok {
		row = &stockRow{}
		c.rows[key] = row
	}
	it := c.item(s.Item)
	day := int((at - c.start) / dayNs)
	if day < 0 {
		day = 0
	}
	// days without a movement stayed at the level before this one
	for before := it.onHand - it.reserved; len(it.daily) <= day; {
		it.daily = append(it.daily, before)
	}
	switch s.Op {
	case resources.OpReserve:
		row.reserved += s.Qty
		it.reserved += s.Qty
	case resources.OpConsume:
		row.reserved -= s.Qty
		row.onHand -= s.Qty
		it.reserved -= s.Qty
		it.onHand -= s.Qty
		it.consumed += s.Qty
	case resources.OpRelease:
		row.reserved -= s.Qty
		it.reserved -= s.Qty
	case resources.OpRestock:
		row.onHand += s.Qty
		it.onHand += s.Qty
		it.restocked += s.Qty
	}
	avail := it.onHand - it.reserved
	if avail < it.minAvail {
		it.minAvail, it.minAt = avail, at
	}
	it.daily[day] = min(it.daily[day], avail)
}

// onHand is what the collector knows is physically in a depot.
func (c *collector) onHand(depot, item string) int {
	if r, ok := c.rows[depot+"\x00"+item]; ok {
		return r.onHand
	}
	return 0
}
