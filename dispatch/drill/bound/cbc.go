package bound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// CBC solves packings with the cbc command line of COIN-OR (Debian's
// coinor-cbc): the problem goes to an LP file in a temporary directory,
// cbc writes its solution file there, and its standard output gives the
// proven bound when it stops on the time limit.
type CBC struct {
	// Path is the cbc command. Default "cbc" on $PATH.
	Path string
}

// Name implements Solver.
func (CBC) Name() string { return "cbc" }

// Available reports whether the cbc command is installed (ErrNoCBC when not).
func (s CBC) Available() error {
	if _, err := exec.LookPath(s.path()); err != nil {
		return fmt.Errorf("%w: %w", ErrNoCBC, err)
	}
	return nil
}

func (s CBC) path() string {
	if s.Path == "" {
		return "cbc"
	}
	return s.Path
}

// Solve implements Solver.
func (s CBC) Solve(ctx context.Context, p *Packing, limit time.Duration) (*Solution, error) {
	if err := s.Available(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "bound-cbc-")
	if err != nil {
		return nil, fmt.Errorf("cbc: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }() // a temporary directory
	model, solu := filepath.Join(dir, "model.lp"), filepath.Join(dir, "solution.txt")
	f, err := os.Create(model) // #nosec G304 -- our temporary directory
	if err != nil {
		return nil, fmt.Errorf("cbc: %w", err)
	}
	err = p.WriteLP(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("cbc: %w", err)
	}
	args := []string{model, "-timeMode", "elapsed", "-ratioGap", "0", "-allowableGap", "0"}
	run := ctx
	if limit > 0 {
		args = append(args, "-sec", strconv.FormatFloat(max(limit.Seconds(), 1), 'f', 0, 64))
		// cbc stops itself on -sec, but not inside a long root LP: past a
		// grace minute it is interrupted (it then writes its best solution),
		// and killed 30 s later
		var cancel context.CancelFunc
		run, cancel = context.WithTimeout(ctx, limit+time.Minute)
		defer cancel()
	}
	args = append(args, "-solve", "-solu", solu)
	cmd := exec.CommandContext(run, s.path(), args...) // #nosec G204 -- the solver the operator names
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	began := time.Now()
	err = cmd.Run()
	wall := time.Since(began)
	interrupted := false
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("cbc: %w", ctx.Err())
		}
		if run.Err() == nil {
			return nil, fmt.Errorf("cbc: %w: %s", err, lastLines(out.String(), 5))
		}
		interrupted = true
	}
	b, err := os.ReadFile(solu) // #nosec G304 -- our temporary file
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("cbc: %w", err)
	}
	sol, err := parseCBC(p, string(b), out.String())
	if err != nil {
		if !interrupted {
			return nil, err
		}
		// nothing usable: nothing chosen, and only the trivial bound
		sol = &Solution{Status: StatusTimeLimit, Chosen: make([]bool, p.Vars), UpperBound: p.Vars}
	}
	sol.Wall = wall
	return sol, nil
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	b := bytes.TrimSpace([]byte(s))
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			if n--; n == 0 {
				return string(b[i+1:])
			}
		}
	}
	return string(b)
}
