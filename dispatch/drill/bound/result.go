package bound

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/zs110/dispatch/dispatch/drill"
)

// Result is the bound of one window, as dispatchd bound writes it.
type Result struct {
	Scenario string `json:"scenario"`
	// From and To are the window: calls reported in [From, To).
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Priorities []int     `json:"priorities"`
	// Seed, TurnoutS and ServiceSigma are the replay settings the bound
	// shares (its times on scene are the replay's draws).
	Seed         uint64  `json:"seed"`
	TurnoutS     float64 `json:"turnout_s"`
	ServiceSigma float64 `json:"service_sigma"`
	// Calls are the window's calls of the priorities that the bound counts;
	// Duplicates and Manual those left out (Instance).
	Calls      int `json:"calls"`
	Duplicates int `json:"duplicates"`
	Manual     int `json:"manual"`
	// Late is the lower bound: no policy (under the bound's assumptions)
	// has fewer late arrivals among Calls. LateFound is the late arrivals of
	// the best assignment found (Late when the solver proved it optimal).
	Late      int `json:"late"`
	LateFound int `json:"late_found"`
	// NoCongestion is the no-congestion bound: calls no unit of their plan
	// can reach within target from its station, every unit free.
	NoCongestion int `json:"no_congestion"`
	// ByPriority and ByDay split the calls, the no-congestion bound and the
	// late arrivals of the best assignment found (the bound itself is for
	// the whole window).
	ByPriority []Split `json:"by_priority"`
	ByDay      []Split `json:"by_day"`
	Solver     Info    `json:"solver"`
}

// Split is a part of the window.
type Split struct {
	Priority     int    `json:"priority,omitempty"`
	Date         string `json:"date,omitempty"`
	Calls        int    `json:"calls"`
	NoCongestion int    `json:"no_congestion"`
	LateFound    int    `json:"late_found"`
}

// Info is how the bound was solved.
type Info struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Gap is (served bound - served found) / served bound: 0 when optimal.
	Gap float64 `json:"gap"`
	// WallS is the whole computation, SolverWallS the solver's part.
	WallS       float64 `json:"wall_s"`
	SolverWallS float64 `json:"solver_wall_s"`
	TimeLimitS  float64 `json:"time_limit_s,omitempty"`
	// Candidates are the (call, unit) pairs on time; Fixed the calls served
	// before the solver (Reduce); Components, Largest, Variables and Rows
	// the problems the solver got.
	Candidates int `json:"candidates"`
	Units      int `json:"units"`
	Fixed      int `json:"fixed"`
	Components int `json:"components"`
	Largest    int `json:"largest_component"`
	Variables  int `json:"variables"`
	Rows       int `json:"rows"`
}

// NewResult puts an instance and its outcome together; cfg is the one the
// instance was built with, wall the time it all took.
func NewResult(cfg Config, inst *Instance, out *Outcome, solver string, limit, wall time.Duration) *Result {
	prios := cfg.Priorities
	if prios == nil {
		prios = []int{1, 2}
	}
	r := &Result{From: cfg.From, To: cfg.To, Priorities: slices.Sorted(slices.Values(prios)), Seed: cfg.Seed,
		TurnoutS: drill.TurnoutTime(cfg.Turnout).Seconds(), ServiceSigma: drill.ServiceSpread(cfg.ServiceSigma), Calls: len(inst.Calls), Duplicates: inst.Duplicates,
		Manual: inst.Manual, Late: len(inst.Calls) - out.ServedBound, LateFound: len(inst.Calls) - out.Served,
		NoCongestion: out.NoCongestion}
	if cfg.Scenario != nil {
		r.Scenario = cfg.Scenario.Name
	}
	r.Solver = Info{Name: solver, Status: out.Status, WallS: round3(wall.Seconds()), SolverWallS: round3(out.SolverWall.Seconds()),
		TimeLimitS: limit.Seconds(), Candidates: len(inst.Cands), Units: len(inst.Units), Fixed: out.Fixed, Components: out.Components,
		Largest: out.Largest, Variables: out.Vars, Rows: out.Rows}
	if out.ServedBound > 0 {
		r.Solver.Gap = round6(float64(out.ServedBound-out.Served) / float64(out.ServedBound))
	}
	has := make([]bool, len(inst.Calls))
	for _, c := range inst.Cands {
		has[c.Call] = true
	}
	byPrio := map[int]*Split{}
	for _, p := range r.Priorities {
		r.ByPriority = append(r.ByPriority, Split{Priority: p})
	}
	for i := range r.ByPriority {
		byPrio[r.ByPriority[i].Priority] = &r.ByPriority[i]
	}
	byDate := map[string]*Split{}
	loc := cfg.From.Location()
	for d := cfg.From; d.Before(cfg.To); d = d.AddDate(0, 0, 1) {
		r.ByDay = append(r.ByDay, Split{Date: d.In(loc).Format(time.DateOnly)})
	}
	for i := range r.ByDay {
		byDate[r.ByDay[i].Date] = &r.ByDay[i]
	}
	for i, c := range inst.Calls {
		for _, s := range []*Split{byPrio[c.Priority], byDate[c.At.In(loc).Format(time.DateOnly)]} {
			if s == nil {
				continue
			}
			s.Calls++
			if !has[i] {
				s.NoCongestion++
			}
			if out.Assigned[i] < 0 {
				s.LateFound++
			}
		}
	}
	return r
}

func round3(x float64) float64 { return math.Round(x*1e3) / 1e3 }
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// JSON returns the result as indented JSON.
func (r *Result) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return nil, fmt.Errorf("bound: %w", err)
	}
	return append(b, '\n'), nil
}

// DecodeResult reads what Result.JSON writes.
func DecodeResult(b []byte) (*Result, error) {
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("bound: %w", err)
	}
	if !r.To.After(r.From) || r.Calls < 0 {
		return nil, fmt.Errorf("bound: not a bound (window %s to %s)", r.From, r.To)
	}
	return &r, nil
}

// WriteText writes a short summary for a terminal.
func (r *Result) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Offline bound, %s to %s, priorities %v (%s, seed %d)\n", r.From.Format("2006-01-02 15:04"), r.To.Format("2006-01-02 15:04"),
		r.Priorities, r.Scenario, r.Seed)
	fmt.Fprintf(&b, "Calls %d (%d possible duplicates and %d manual records left out)\n", r.Calls, r.Duplicates, r.Manual)
	fmt.Fprintf(&b, "Late arrivals: at least %d (%s); the best assignment found has %d\n", r.Late, share(r.Late, r.Calls), r.LateFound)
	fmt.Fprintf(&b, "No-congestion bound: %d (%s) no unit of their plan can reach on time from its station\n", r.NoCongestion, share(r.NoCongestion, r.Calls))
	for _, p := range r.ByPriority {
		fmt.Fprintf(&b, "  P%d: %d calls, %d late in the assignment found, %d beyond reach\n", p.Priority, p.Calls, p.LateFound, p.NoCongestion)
	}
	s := r.Solver
	fmt.Fprintf(&b, "Solver %s: %s", s.Name, s.Status)
	if s.Status != StatusOptimal {
		fmt.Fprintf(&b, ", gap %.2f%%", s.Gap*100)
	}
	fmt.Fprintf(&b, "; %d candidates of %d units, %d calls served before the solver, %d components (largest %d calls, %d variables, %d rows in all); solver %.1fs, total %.1fs\n",
		s.Candidates, s.Units, s.Fixed, s.Components, s.Largest, s.Variables, s.Rows, s.SolverWallS, s.WallS)
	_, err := w.Write(b.Bytes())
	return err
}

func share(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", 100*float64(n)/float64(of))
}
