// Command dispatchd is the emergency response dispatch engine of the
// Zhongshan 110 centre. Subcommands:
//
//	dispatchd serve    run the engine (the default; `make run`)
//	dispatchd gen      write a synthetic 110 incident stream
//	dispatchd replay   replay a stream into an isolated drill
//	dispatchd report   the response-time report of a replay
//	dispatchd bound    the offline lower bound on late arrivals of a window
//	dispatchd token    add, list and revoke people's console tokens
//	dispatchd scenario write a generated scenario (the embedded default, or any size)
//
// main only wires: it reads configuration, builds the parts and runs them.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// commands are the subcommands, in the order of the usage line.
var commands = []string{"serve", "gen", "replay", "report", "bound", "token", "scenario"}

// usage is the one-line usage.
func usage() string {
	return "usage: dispatchd [" + strings.Join(commands, "|") + "] [flags]; dispatchd CMD -h for the flags"
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd {
	case "serve":
		var cfg *config
		cfg, err = parseConfig("dispatchd serve", args, osEnv)
		if err == nil {
			log := newLogger(cfg.LogLevel)
			err = serve(ctx, cfg, log, os.Stdout)
		}
	case "token":
		err = tokenCmd(ctx, args, os.Stdout, osEnv)
	case "scenario":
		err = scenarioCmd(args, os.Stdout)
	case "gen", "replay", "report", "bound":
		err = drillCmd(ctx, cmd, args, os.Stdout, os.Stderr)
	case "help", "-h", "--help":
		fmt.Println(usage())
		return 0
	default:
		err = fmt.Errorf("unknown command %q (%s)", cmd, strings.Join(commands, ", "))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dispatchd:", err)
		return 1
	}
	return 0
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
