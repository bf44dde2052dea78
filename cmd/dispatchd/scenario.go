package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/zs110/dispatch/dispatch/scenario"
)

// scenarioCmd writes a generated scenario as JSON: with no flags, the
// embedded Zhongshan default (go generate ./dispatch/ runs it).
func scenarioCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("dispatchd scenario", flag.ContinueOnError)
	units := fs.Int("units", 1000, "number of units")
	seed := fs.Int64("seed", 1, "placement seed")
	out := fs.String("out", "", "output file (default standard output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sc, err := scenario.Generate(scenario.GenConfig{Units: *units, Seed: *seed})
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(sc, "", " ")
	if err != nil {
		return fmt.Errorf("scenario: %w", err)
	}
	b = append(b, '\n')
	if *out == "" {
		_, err = stdout.Write(b)
		return err
	}
	return os.WriteFile(*out, b, 0o644)
}
