package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/zs110/dispatch/dispatch/drill/bound"
	"github.com/zs110/dispatch/dispatch/drill/drillio"
)

// boundCmd computes the offline lower bound on late arrivals of a window
// of a stream (docs/drills.md, "Offline lower bound").
func boundCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dispatchd bound", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "stream: a JSON-lines file (- for standard input) or kafka://TOPIC (required)")
	brokers := brokersFlag(fs)
	kafkaSec := kafkaSecurityFlags(fs)
	fromTime := fs.String("from-time", "", "start of the window (2013-03-05 is Zhongshan midnight, or RFC 3339; required)")
	toTime := fs.String("to-time", "", "end of the window, excluded (required)")
	prios := fs.String("priorities", "1,2", "priorities whose calls occupy units and count, comma separated")
	seed := fs.Uint64("seed", 1, "seed of the service times: the replay's")
	turnout := fs.Duration("turnout", time.Minute, "time from assignment to departure: the replay's")
	sigma := fs.Float64("service-sigma", 0.5, "log-normal spread of the time on scene: the replay's (0: exactly the type's mean)")
	targets := fs.String("targets", "", "JSON file of response targets by town kind, as for replay (default the report's)")
	scenario := fs.String("scenario", "", "scenario file (JSON or YAML); empty: the embedded Zhongshan scenario")
	out := fs.String("out", "", "write the bound as JSON to this file")
	limit := fs.Duration("time-limit", 10*time.Minute, "solver time limit over the window (0: none); the bound stays valid, with a gap")
	cbc := fs.String("cbc", "cbc", "the cbc command (Debian: apt-get install coinor-cbc)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bound: unexpected argument %q", fs.Arg(0))
	}
	if *from == "" || *fromTime == "" || *toTime == "" {
		return errors.New("bound: -from, -from-time and -to-time are required")
	}
	cfg := bound.Config{Seed: *seed, Turnout: *turnout, ServiceSigma: *sigma}
	if *turnout == 0 {
		cfg.Turnout = -1
	}
	if *sigma == 0 {
		cfg.ServiceSigma = -1
	}
	var err error
	if cfg.From, err = parseWhen(*fromTime); err != nil {
		return fmt.Errorf("bound: -from-time: %w", err)
	}
	if cfg.To, err = parseWhen(*toTime); err != nil {
		return fmt.Errorf("bound: -to-time: %w", err)
	}
	for _, p := range splitList(*prios) {
		n, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("bound: -priorities: %q", p)
		}
		cfg.Priorities = append(cfg.Priorities, n)
	}
	if cfg.Scenario, err = loadScenario(*scenario); err != nil {
		return err
	}
	if cfg.Targets, err = readTargets(*targets); err != nil {
		return err
	}
	solver := bound.CBC{Path: *cbc}
	if err := solver.Available(); err != nil {
		return err
	}
	began := time.Now()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The window's start goes to a Kafka source too; reading a file starts at its beginning.
	sec, err := kafkaSec()
	if err != nil {
		return err
	}
	src, _, closeSrc, err := drillio.Open(ctx, *from, drillio.SourceConfig{Brokers: splitList(*brokers), Security: sec,
		From: cfg.From.Add(-time.Hour), Logger: log})
	if err != nil {
		return err
	}
	defer closeSrc()
	inst, err := bound.Build(cfg, src)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%d calls, %d candidates of %d units; solving\n", len(inst.Calls), len(inst.Cands), len(inst.Units))
	last := time.Now()
	progress := func(done, total int) {
		if time.Since(last) > 5*time.Second || done == total {
			last = time.Now()
			fmt.Fprintf(stderr, "component %d of %d solved, %s\n", done, total, time.Since(began).Round(time.Second))
		}
	}
	res, err := bound.Solve(ctx, inst, bound.Options{Solver: solver, TimeLimit: *limit, Progress: progress})
	if err != nil {
		return err
	}
	r := bound.NewResult(cfg, inst, res, solver.Name(), *limit, time.Since(began))
	if *out != "" {
		b, err := r.JSON()
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			return err
		}
	}
	return r.WriteText(stdout)
}
