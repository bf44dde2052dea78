package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/zs110/dispatch/dispatch/drill"
	"github.com/zs110/dispatch/dispatch/drill/bound"
	"github.com/zs110/dispatch/dispatch/drill/drillio"
)

// reportCmd prints one report, compares two, and with -bound puts the runs'
// late arrivals against the offline bound; flags may come before or after
// the file names.
func reportCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dispatchd report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	svgDir := fs.String("svg", "", "write SVG plots into this directory")
	jsonOut := fs.String("json", "", "write the comparison (two reports) as JSON to this file")
	boundPath := fs.String("bound", "", "a bound written by dispatchd bound: each run's late arrivals in its window and their ratio to it")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) < 1 || (len(files) > 2 && *boundPath == "") {
		return errors.New("report: usage: dispatchd report REPORT.json [OTHER.json] [-svg DIR] [-json FILE] [-bound BOUND.json]; more runs with -bound")
	}
	var reps []*drill.Report
	for _, path := range files {
		b, err := os.ReadFile(path) // #nosec G304 -- the operator's file
		if err != nil {
			return err
		}
		r, err := drill.DecodeReport(b)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		reps = append(reps, r)
	}
	switch len(reps) {
	case 1:
		if err := drillio.WriteReport(reps[0], drillio.ReportOutput{SVGDir: *svgDir, Text: stdout}); err != nil {
			return err
		}
	case 2:
		cmp := drill.Compare(reps[0], reps[1])
		if *jsonOut != "" {
			b, err := json.MarshalIndent(cmp, "", " ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
				return err
			}
		}
		if err := drillio.WritePlots(*svgDir, cmp.Plots(reps[0], reps[1])); err != nil {
			return err
		}
		if err := cmp.WriteText(stdout); err != nil {
			return err
		}
	}
	if *boundPath == "" {
		return nil
	}
	b, err := os.ReadFile(*boundPath) // #nosec G304 -- the operator's file
	if err != nil {
		return err
	}
	bd, err := bound.DecodeResult(b)
	if err != nil {
		return fmt.Errorf("%s: %w", *boundPath, err)
	}
	rs, err := bound.Ratios(bd, reps)
	if err != nil {
		return err
	}
	if len(reps) <= 2 {
		fmt.Fprintln(stdout)
	}
	return bound.WriteRatios(stdout, bd, rs)
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments, and returns those (everything after "--" is
// positional).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
