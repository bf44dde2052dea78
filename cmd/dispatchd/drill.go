package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/drill"
	"github.com/zs110/dispatch/dispatch/drill/drillio"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/pgstore"
)

// drillCmd runs the drill subcommands: gen, replay, report and bound (see docs/drills.md).
func drillCmd(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) error {
	var err error
	switch cmd {
	case "gen":
		err = genCmd(ctx, args, stdout, stderr)
	case "replay":
		err = replayCmd(ctx, args, stdout, stderr)
	case "report":
		err = reportCmd(args, stdout, stderr)
	case "bound":
		err = boundCmd(ctx, args, stdout, stderr)
	default:
		err = fmt.Errorf("unknown drill command %q", cmd)
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil // the usage is printed
	}
	return err
}

func brokersFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("DISPATCH_KAFKA_BROKERS")
	if def == "" {
		def = "127.0.0.1:9092"
	}
	return fs.String("brokers", def, "Kafka brokers for kafka:// addresses, comma separated ($DISPATCH_KAFKA_BROKERS)")
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseSpan reads a duration that may be written in days ("365d").
func parseSpan(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return d, nil
}

// parseWhen reads a date (2013-01-01, Zhongshan midnight) or an RFC 3339 time.
func parseWhen(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, time.FixedZone("CST", 8*3600))
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time %q: want 2013-01-01 or RFC 3339", s)
	}
	return t, nil
}

func genCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dispatchd gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 1, "seed: the same seed and flags give the same stream")
	out := fs.String("out", "-", "output: a JSON-lines file, - for standard output, or kafka://TOPIC")
	brokers := brokersFlag(fs)
	kafkaSec := kafkaSecurityFlags(fs)
	scenario := fs.String("scenario", "", "scenario file (JSON or YAML); empty: the embedded Zhongshan scenario")
	start := fs.String("start", "2013-01-01", "first instant (2013-01-01 is Zhongshan midnight, or RFC 3339)")
	span := fs.String("duration", "365d", "span of the stream (365d, 48h, ...)")
	rate := fs.Float64("rate", drill.CallsPerYear, "calls per 365 days, duplicates and surges included")
	dups := fs.Float64("duplicates", 0.06, "share of events reported by several callers")
	surges := fs.String("surges", "typhoon,chemical-fire", "named surges, comma separated, or none")
	typhoonStart := fs.String("typhoon-start", "", "start of the 48-hour typhoon (default 22 September 06:00 of the start year)")
	typhoonCalls := fs.Int("typhoon-calls", 6000, "calls the typhoon adds")
	fireStart := fs.String("fire-start", "", "time of the chemical plant fire (default 15 July 14:20 of the start year)")
	drillID := fs.String("drill", "", "drill id written into every record (empty: none; replay sets its own)")
	quietFlag := fs.Bool("quiet", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("gen: unexpected argument %q", fs.Arg(0))
	}
	sc, err := loadScenario(*scenario)
	if err != nil {
		return err
	}
	cfg := drill.GenConfig{Scenario: sc, Seed: *seed, CallsPerYear: *rate, DuplicateShare: *dups, Drill: *drillID}
	if cfg.Start, err = parseWhen(*start); err != nil {
		return fmt.Errorf("gen: -start: %w", err)
	}
	if cfg.Duration, err = parseSpan(*span); err != nil {
		return fmt.Errorf("gen: -duration: %w", err)
	}
	if *dups == 0 {
		cfg.DuplicateShare = -1
	}
	if cfg.Surges, err = pickSurges(cfg.Start, *surges, *typhoonStart, *typhoonCalls, *fireStart); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	g, err := drill.NewGenerator(cfg)
	if err != nil {
		return err
	}
	expected := g.Expected()
	var bar *progressbar.ProgressBar
	progress := func(int) {}
	if !*quietFlag && *out != "-" {
		bar = drill.NewBar(stderr, expected, "calls")
		progress = func(n int) { _ = bar.Set64(int64(n)) }
	}
	var n int
	if topic, ok := drillio.Topic(*out); ok {
		sec, err := kafkaSec()
		if err != nil {
			return err
		}
		sink, err := drillio.NewSink(drillio.SinkConfig{Brokers: splitList(*brokers), Security: sec, Topic: topic})
		if err != nil {
			return err
		}
		n, err = sink.WriteAll(ctx, g, progress)
		if cerr := sink.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	} else {
		w := stdout
		if *out != "-" {
			f, err := os.Create(*out)
			if err != nil {
				return err
			}
			defer func() { _ = f.Close() }() // closed and checked below; this is for early returns
			w = f
		}
		if n, err = drill.WriteJSONL(w, g, progress); err != nil {
			return err
		}
		if f, ok := w.(*os.File); ok && w != stdout {
			if err := f.Close(); err != nil {
				return err
			}
		}
	}
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintf(stderr, "\n%d calls from %s to %s written to %s\n", n, cfg.Start.Format("2006-01-02 15:04"),
			cfg.Start.Add(cfg.Duration).Format("2006-01-02 15:04"), *out)
	}
	return nil
}

// pickSurges returns the named default surges, with their overrides.
func pickSurges(start time.Time, names, typhoonStart string, typhoonCalls int, fireStart string) ([]drill.Surge, error) {
	all := drill.DefaultSurges(start.In(time.FixedZone("CST", 8*3600)).Year())
	if names == "none" || names == "" {
		return []drill.Surge{}, nil
	}
	out := []drill.Surge{}
	for _, name := range splitList(names) {
		i := -1
		for j := range all {
			if all[j].Name == name {
				i = j
			}
		}
		if i < 0 {
			return nil, fmt.Errorf("unknown surge %q (typhoon, chemical-fire, none)", name)
		}
		s := all[i]
		var err error
		switch name {
		case "typhoon":
			s.Calls = typhoonCalls
			if typhoonStart != "" {
				s.Start, err = parseWhen(typhoonStart)
			}
		case "chemical-fire":
			if fireStart != "" {
				s.Start, err = parseWhen(fireStart)
			}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// moveFlags collects repeated -move flags.
type moveFlags []drill.Move

func (m *moveFlags) String() string {
	var s []string
	for _, x := range *m {
		s = append(s, x.String())
	}
	return strings.Join(s, ",")
}

func (m *moveFlags) Set(v string) error {
	mv, err := drill.ParseMove(v)
	if err != nil {
		return err
	}
	*m = append(*m, mv)
	return nil
}

func replayCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dispatchd replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "stream to replay: a JSON-lines file (- for standard input) or kafka://TOPIC (required)")
	brokers := brokersFlag(fs)
	kafkaSec := kafkaSecurityFlags(fs)
	partitions := fs.String("partitions", "", "kafka: partitions to read, comma separated (default all)")
	startOffset := fs.Int64("start-offset", 0, "kafka: first offset of each partition (default its first record)")
	endOffset := fs.Int64("end-offset", 0, "kafka: offset to stop before in each partition (default its end)")
	fromTime := fs.String("from-time", "", "kafka: first record timestamp (2013-09-22 or RFC 3339)")
	toTime := fs.String("to-time", "", "kafka: stop at records stamped at or after this time")
	speed := fs.String("speed", "max", "1 for real time, N for N times faster, max for as fast as possible")
	drillID := fs.String("drill", "replay", "drill id: the drill's isolated world (never live state); must be new in the store")
	reportPath := fs.String("report", "", "write the report as JSON to this file")
	svgDir := fs.String("svg", "", "write the report's SVG plots into this directory")
	text := fs.Bool("text", true, "print the report on standard output")
	label := fs.String("label", "", "label of the run in reports (default: the policy)")
	scenario := fs.String("scenario", "", "scenario file (JSON or YAML); empty: the embedded Zhongshan scenario")
	var moves moveFlags
	fs.Var(&moves, "move", "deployment change CAPABILITY:COUNT:FROM:TO, e.g. fire_engine:2:shiqi:xiaolan (repeatable)")
	coverage := fs.Float64("coverage-weight", 0, "ranker coverage weight in seconds (0 = closest ETA)")
	policy := fs.String("policy", dispatch.DefaultPolicy, "ranking policy: "+strings.Join(dispatch.Policies(), " or "))
	alternates := fs.Int("alternates", 0, "alternates the ranker keeps per requirement for consoles (0: the engine default, 3; -1: none)")
	moveUp := fs.Bool("move-up", false, "move units up to keep the city covered (DMEXCLP): a unit on its way back goes to the station where it covers most, an idle one fills what a dispatch left uncovered")
	divert := fs.Bool("divert", true, "a P1 no unit reaches within its target may take a unit on its way to a P3/P4 call (default on, off with -policy closest unless given)")
	seed := fs.Uint64("seed", 1, "seed of the service times")
	turnout := fs.Duration("turnout", time.Minute, "time from assignment to departure")
	sigma := fs.Float64("service-sigma", 0.5, "log-normal spread of the time on scene (0: exactly the type's mean)")
	restock := fs.String("restock-every", "7d", "depots topped up to scenario stock this often (0: never)")
	targets := fs.String("targets", "", "JSON file of response targets in seconds by town kind: {\"default\":[900,1350,2700,5400],...}")
	database := fs.String("database", "", "PostgreSQL URL: the drill's state and events go there (drill consoles watch them); empty: in memory")
	keep := fs.Int("keep-events", 0, "in memory: console events kept (default 32768)")
	group := fs.Int("group-commit", 1000, "PostgreSQL at -speed max: outcomes written per transaction (1: every step durable)")
	truth := fs.String("truth", drill.TruthModel, "how units really move: model (the engine's ETA model) or delta (the drill's delta model: waterways crossed at bridges, slow centres, its own hours, a spread per trip; docs/drills.md)")
	truthSpread := fs.Float64("truth-spread", 0.15, "delta truth: log spread of each trip's random factor (0: none)")
	learn := fs.Bool("learn", true, "the engine learns travel-time corrections from its units' trips")
	knowTruth := fs.Bool("know-truth", false, "delta truth: the engine knows the truth's expected travel times (the ceiling)")
	quietFlag := fs.Bool("quiet", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("replay: unexpected argument %q", fs.Arg(0))
	}
	if *from == "" {
		return errors.New("replay: -from is required")
	}
	divertSet := false
	fs.Visit(func(f *flag.Flag) { divertSet = divertSet || f.Name == "divert" })
	if *policy == dispatch.PolicyClosest && !divertSet {
		*divert = false // the baseline is today's rule: no diversion
	}
	sp, err := parseSpeed(*speed)
	if err != nil {
		return err
	}
	sc, err := loadScenario(*scenario)
	if err != nil {
		return err
	}
	if err := drill.ApplyMoves(sc, moves); err != nil {
		return err
	}
	rcfg := drill.ReportConfig{Label: *label}
	if rcfg.Targets, err = readTargets(*targets); err != nil {
		return err
	}
	if rcfg.Label == "" {
		rcfg.Label = drill.PolicyLabel(dispatch.RankConfig{Policy: *policy, CoverageWeightS: *coverage})
		if *moveUp {
			rcfg.Label += ", move-up"
		}
		if *divert {
			rcfg.Label += ", diversion"
		}
		if len(moves) > 0 {
			rcfg.Label += ", moved " + moves.String()
		}
	}
	every := time.Duration(-1)
	if *restock != "0" {
		if every, err = parseSpan(*restock); err != nil {
			return fmt.Errorf("replay: -restock-every: %w", err)
		}
	}
	if *sigma == 0 {
		*sigma = -1
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sec, err := kafkaSec()
	if err != nil {
		return err
	}
	kcfg := drillio.SourceConfig{Brokers: splitList(*brokers), Security: sec, StartOffset: *startOffset, EndOffset: *endOffset, Logger: log}
	if _, ok := drillio.Topic(*from); ok { // the kafka flags: ignored for a file
		for _, p := range splitList(*partitions) {
			n, err := strconv.Atoi(p)
			if err != nil {
				return fmt.Errorf("replay: -partitions: %q", p)
			}
			kcfg.Partitions = append(kcfg.Partitions, n)
		}
		if *fromTime != "" {
			if kcfg.From, err = parseWhen(*fromTime); err != nil {
				return err
			}
		}
		if *toTime != "" {
			if kcfg.To, err = parseWhen(*toTime); err != nil {
				return err
			}
		}
	}
	src, total, closeSrc, err := drillio.Open(ctx, *from, kcfg)
	if err != nil {
		return err
	}
	defer closeSrc()
	if *truthSpread == 0 {
		*truthSpread = -1
	}
	cfg := drill.ReplayConfig{Config: drill.Config{Scenario: sc, Drill: *drillID,
		Rank:   dispatch.RankConfig{CoverageWeightS: *coverage, Alternates: *alternates, Policy: *policy, NoLearn: !*learn},
		MoveUp: *moveUp, Divert: *divert, Truth: *truth, TruthSpread: *truthSpread, KnowTruth: *knowTruth,
		Seed: *seed, Turnout: *turnout, ServiceSigma: *sigma, RestockEvery: every, Speed: sp, Logger: log},
		Source: src, Total: total, Report: rcfg, Status: stderr, Bar: !*quietFlag}
	if *turnout == 0 {
		cfg.Turnout = -1
	}
	if *database != "" {
		pg, err := pgstore.New(ctx, pgstore.Config{URL: *database, Logger: log})
		if err != nil {
			return err
		}
		defer pg.Close()
		cfg.Store, cfg.GroupCommit = pg, *group
	} else {
		mem := drill.Retention()
		if *keep > 0 {
			mem.KeepEvents = *keep
		}
		cfg.Store = memstore.New(mem)
	}
	rep, err := drill.Replay(ctx, cfg)
	if err != nil {
		return err
	}
	out := drillio.ReportOutput{JSON: *reportPath, SVGDir: *svgDir}
	if *text {
		out.Text = stdout
	}
	return drillio.WriteReport(rep, out)
}

func parseSpeed(s string) (float64, error) {
	if s == "max" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(strings.TrimPrefix(s, "x"), 64)
	if err != nil || !(v > 0) {
		return 0, fmt.Errorf("replay: -speed %q: want 1, N or max", s)
	}
	return v, nil
}

func readTargets(path string) (map[string][4]float64, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var t map[string][4]float64
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("targets %s: %w", path, err)
	}
	return t, nil
}
