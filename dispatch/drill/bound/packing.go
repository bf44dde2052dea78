package bound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Packing is a set-packing problem: choose as many of the variables
// 0..Vars-1 as possible such that each row holds at most one chosen
// variable. A component of the bound is one: a variable is a (call, unit)
// candidate; a row is a call (one unit at most) or a clique of a unit's
// overlapping busy intervals.
type Packing struct {
	Vars int
	Rows [][]int32
}

// Status is how a solver ended.
type Status string

// Solver statuses.
const (
	// StatusOptimal: the assignment is proven optimal.
	StatusOptimal Status = "optimal"
	// StatusTimeLimit: stopped on the time limit; Value is the best
	// assignment found, UpperBound what the solver proved.
	StatusTimeLimit Status = "time limit"
)

// Solution is what a solver found for a Packing.
type Solution struct {
	Status Status
	// Chosen is the assignment found; Value how many it chooses.
	Chosen []bool
	Value  int
	// UpperBound is the most any assignment can choose, as proven by the
	// solver (Value when optimal).
	UpperBound int
	// Wall is the solver's wall time.
	Wall time.Duration
}

// Solver solves set-packing problems. limit bounds its time (0: none); a
// solver that stops on it returns its best assignment and proven bound.
type Solver interface {
	Name() string
	Solve(ctx context.Context, p *Packing, limit time.Duration) (*Solution, error)
}

// Check verifies that chosen satisfies every row and returns how many
// variables it chooses.
func (p *Packing) Check(chosen []bool) (int, error) {
	if len(chosen) != p.Vars {
		return 0, fmt.Errorf("solution has %d variables, want %d", len(chosen), p.Vars)
	}
	for i, r := range p.Rows {
		n := 0
		for _, v := range r {
			if chosen[v] {
				n++
			}
		}
		if n > 1 {
			return 0, fmt.Errorf("solution chooses %d variables of row %d", n, i)
		}
	}
	n := 0
	for _, c := range chosen {
		if c {
			n++
		}
	}
	return n, nil
}

// WriteLP writes the problem in CPLEX LP format, as a minimisation of
// minus the chosen variables (x0, x1, ...; rows r0, r1, ...), for cbc.
func (p *Packing) WriteLP(w io.Writer) error {
	var bw bytes.Buffer
	terms := func(vars func(yield func(int) bool), sign string) {
		n := 0
		for v := range vars {
			if n > 0 || sign == "-" {
				bw.WriteString(" " + sign + " ")
			} else {
				bw.WriteString(" ")
			}
			bw.WriteString("x" + strconv.Itoa(v))
			if n++; n%16 == 0 {
				bw.WriteString("\n ")
			}
		}
	}
	bw.WriteString("\\ set packing: the offline bound on late arrivals\nMinimize\n obj:")
	terms(func(yield func(int) bool) {
		for v := range p.Vars {
			if !yield(v) {
				return
			}
		}
	}, "-")
	bw.WriteString("\nSubject To\n")
	for i, r := range p.Rows {
		bw.WriteString(" r" + strconv.Itoa(i) + ":")
		terms(func(yield func(int) bool) {
			for _, v := range r {
				if !yield(int(v)) {
					return
				}
			}
		}, "+")
		bw.WriteString(" <= 1\n")
	}
	bw.WriteString("Binaries\n")
	for v := range p.Vars {
		bw.WriteString(" x" + strconv.Itoa(v))
		if (v+1)%16 == 0 {
			bw.WriteString("\n")
		}
	}
	bw.WriteString("\nEnd\n")
	_, err := w.Write(bw.Bytes())
	return err
}

// parseCBC reads cbc's solution file (-solu) and its standard output for a
// problem written by WriteLP.
func parseCBC(p *Packing, solution, log string) (*Solution, error) {
	sol := &Solution{Chosen: make([]bool, p.Vars), UpperBound: p.Vars}
	lines := strings.Split(solution, "\n")
	head := strings.TrimSpace(lines[0])
	switch {
	case strings.HasPrefix(head, "Optimal"):
		sol.Status = StatusOptimal
	case strings.HasPrefix(head, "Stopped on time"), strings.HasPrefix(head, "Stopped on iterations"),
		strings.HasPrefix(head, "Stopped on ctrl-c"), strings.HasPrefix(head, "Stopped on difficulties"),
		strings.HasPrefix(head, "Stopped on nodes"), strings.HasPrefix(head, "Stopped on solutions"):
		sol.Status = StatusTimeLimit
	case head == "" && strings.Contains(log, "Stopped on time"):
		sol.Status = StatusTimeLimit // no solution found within the limit
	default:
		return nil, fmt.Errorf("cbc: unexpected status %q", head)
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		if f[0] == "**" { // cbc marks infeasible rows and columns
			f = f[1:]
		}
		name := f[1]
		v, err := strconv.ParseInt(strings.TrimPrefix(name, "x"), 10, 32)
		if !strings.HasPrefix(name, "x") || err != nil || v < 0 || int(v) >= p.Vars {
			return nil, fmt.Errorf("cbc: unknown column %q", name)
		}
		x, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			return nil, fmt.Errorf("cbc: column %s: %w", name, err)
		}
		sol.Chosen[v] = x > 0.5
	}
	n, err := p.Check(sol.Chosen)
	if err != nil {
		return nil, fmt.Errorf("cbc: %w", err)
	}
	sol.Value = n
	if sol.Status == StatusOptimal {
		sol.UpperBound = n
		return sol, nil
	}
	// The objective is minus the chosen: a lower bound L proves at most -L.
	if lb, ok := logValue(log, "Lower bound:"); ok {
		sol.UpperBound = min(sol.UpperBound, int(math.Floor(-lb+1e-6)))
	} else if lb, ok := logValue(log, "Continuous objective value is"); ok {
		sol.UpperBound = min(sol.UpperBound, int(math.Floor(-lb+1e-6)))
	}
	sol.UpperBound = max(sol.UpperBound, n)
	return sol, nil
}

// logValue finds the last line of log that starts with key and reads the
// number after it.
func logValue(log, key string) (float64, bool) {
	found, val := false, 0.0
	for l := range strings.SplitSeq(log, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(l), key)
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			found, val = true, v
		}
	}
	return val, found
}

// ErrNoCBC reports that the cbc command is not installed.
var ErrNoCBC = errors.New("bound: the cbc command is not installed (apt-get install coinor-cbc)")
