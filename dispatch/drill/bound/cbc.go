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
	f, err := os.Create(model)
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
	if limit > 0 {
		args = append(args, "-sec", strconv.FormatFloat(max(limit.Seconds(), 1), 'f', 0, 64))
		// cbc stops itself; this only ends a hung process
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit+time.Minute)
		defer cancel()
	}
	args = append(args, "-solve", "-solu", solu)
	cmd := exec.CommandContext(ctx, s.path(), args...) // #nosec G204 -- the solver the operator names
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	began := time.Now()
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("cbc: %w", ctx.Err())
		}
		return nil, fmt.Errorf("cbc: %w: %s", err, lastLines(out.String(), 5))
	}
	wall := time.Since(began)
	b, err := os.ReadFile(solu) // #nosec G304 -- our temporary file
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("cbc: %w", err)
	}
	sol, err := parseCBC(p, string(b), out.String())
	if err != nil {
		return nil, err
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
