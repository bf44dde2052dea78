package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/zs110/dispatch/dispatch/pgstore"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/geo"
	"github.com/zs110/dispatch/teams"
	"github.com/zs110/dispatch/web"
)

// defaultTokenTTL is how long a token made by `dispatchd token add` or at
// first start is valid.
const defaultTokenTTL = 90 * 24 * time.Hour

// pgTokens is the database's table of tokens as a web.TokenSource.
type pgTokens struct{ pg *pgstore.Store }

func (p pgTokens) LoadTokens(ctx context.Context) ([]web.TokenEntry, error) {
	ts, err := p.pg.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]web.TokenEntry, len(ts))
	for i, t := range ts {
		out[i] = web.TokenEntry{ID: t.ID, Name: t.Name, Role: t.Role, Towns: t.Towns, Team: t.Team, Drill: t.Drill,
			SHA256: t.SHA256, Created: t.Created, Expires: t.Expires, Revoked: t.Revoked}
	}
	return out, nil
}

func toPG(e web.TokenEntry) pgstore.Token {
	return pgstore.Token{ID: web.IDOf(e), Name: e.Name, Role: e.Role, Towns: e.Towns, Team: e.Team, Drill: e.Drill,
		SHA256: e.SHA256, Created: e.Created, Expires: e.Expires, Revoked: e.Revoked}
}

// tokenSetup is where serve's tokens come from and what to print about them.
type tokenSetup struct {
	store   *web.TokenStore
	sync    *web.TokenSync
	printed []printedToken // tokens made at this start (shown once)
	where   string         // where they are kept
}

// openTokens loads the console tokens: the database's (with -database)
// and the token file's (with -tokens), or, with neither, the state
// directory's token file. Without a token file, a database or state file
// that never held a token gets one per role and team, printed once.
func openTokens(ctx context.Context, cfg *config, sc *scenario.Scenario, pg *pgstore.Store, log *slog.Logger) (*tokenSetup, error) {
	ts := &tokenSetup{}
	var (
		sources []web.TokenSource
		where   []string
	)
	if pg != nil {
		sources = append(sources, pgTokens{pg})
		where = append(where, "PostgreSQL (console_tokens)")
	}
	file := cfg.TokensFile
	if file == "" && pg == nil {
		file = filepath.Join(cfg.StateDir, "tokens.json")
	}
	if file != "" {
		sources = append(sources, web.NewTokenFile(file))
		where = append(where, file)
	}
	ts.where = strings.Join(where, " and ")
	if cfg.TokensFile == "" {
		demo, printed, err := firstTokens(sc)
		if err != nil {
			return nil, err
		}
		made := false
		if pg != nil {
			pts := make([]pgstore.Token, len(demo))
			for i, e := range demo {
				pts[i] = toPG(e)
			}
			made, err = pg.BootstrapTokens(ctx, pts)
		} else if tf := web.NewTokenFile(file); !tf.Exists() {
			err = tf.Create(demo)
			made = err == nil
			if errors.Is(err, os.ErrExist) {
				err = nil // another process made them first
			}
		}
		if err != nil {
			return nil, fmt.Errorf("first tokens: %w", err)
		}
		if made {
			ts.printed = printed
		}
	}
	store, err := web.NewTokenStore(nil)
	if err != nil {
		return nil, err
	}
	sync, err := web.NewTokenSync(web.TokenSyncConfig{Store: store, Sources: sources, Logger: log})
	if err != nil {
		return nil, err
	}
	if err := sync.Load(ctx); err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	ts.store, ts.sync = store, sync
	return ts, nil
}

// firstTokens makes one token per role and team: the first consoles of a
// new installation.
func firstTokens(sc *scenario.Scenario) ([]web.TokenEntry, []printedToken, error) {
	var (
		entries []web.TokenEntry
		printed []printedToken
	)
	now := time.Now().UTC().Truncate(time.Second)
	add := func(label string, fill func(e *web.TokenEntry)) error {
		plain, e, err := web.GenerateToken(rand.Reader)
		if err != nil {
			return err
		}
		fill(&e)
		e.Created, e.Expires = now, now.Add(defaultTokenTTL)
		entries = append(entries, e)
		printed = append(printed, printedToken{label, plain})
		return nil
	}
	errs := []error{add("dispatcher (all towns)", func(e *web.TokenEntry) { e.Name, e.Role = "dispatcher", web.RoleDispatcher })}
	for _, t := range sc.Teams {
		errs = append(errs, add("team leader "+t.ID, func(e *web.TokenEntry) { e.Name, e.Role, e.Team = "leader-"+t.ID, web.RoleTeamLeader, t.ID }))
	}
	errs = append(errs, add("drill planner (drill demo)", func(e *web.TokenEntry) { e.Name, e.Role, e.Drill = "drill-demo", web.RoleDrill, "demo" }))
	return entries, printed, errors.Join(errs...)
}

// tokenRepo is where `dispatchd token` adds, lists and revokes tokens.
type tokenRepo interface {
	add(ctx context.Context, e web.TokenEntry) error
	list(ctx context.Context) ([]web.TokenEntry, error)
	revoke(ctx context.Context, key string, at time.Time) ([]web.TokenEntry, error)
}

type pgRepo struct{ pg *pgstore.Store }

func (r pgRepo) add(ctx context.Context, e web.TokenEntry) error { return r.pg.AddToken(ctx, toPG(e)) }
func (r pgRepo) list(ctx context.Context) ([]web.TokenEntry, error) {
	return pgTokens(r).LoadTokens(ctx)
}

func (r pgRepo) revoke(ctx context.Context, key string, at time.Time) ([]web.TokenEntry, error) {
	ts, err := r.pg.RevokeTokens(ctx, key, at)
	out := make([]web.TokenEntry, len(ts))
	for i, t := range ts {
		out[i] = web.TokenEntry{ID: t.ID, Name: t.Name, Role: t.Role, Expires: t.Expires, Revoked: t.Revoked}
	}
	return out, err
}

type fileRepo struct{ f *web.TokenFile }

func (r fileRepo) add(_ context.Context, e web.TokenEntry) error { return r.f.Add(e) }
func (r fileRepo) list(context.Context) ([]web.TokenEntry, error) {
	return r.f.List()
}

func (r fileRepo) revoke(_ context.Context, key string, at time.Time) ([]web.TokenEntry, error) {
	return r.f.Revoke(key, at)
}

// tokenCmd is `dispatchd token add|list|revoke` (and, with flags only, the
// older "print a token and its file entry").
func tokenCmd(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return printTokenCmd(args, out)
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("dispatchd token "+sub, flag.ContinueOnError)
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	database := fs.String("database", env("DISPATCH_DATABASE_URL", ""), "PostgreSQL URL: tokens go in its console_tokens table ($DISPATCH_DATABASE_URL)")
	tokensFile := fs.String("tokens", env("DISPATCH_TOKENS_FILE", ""), "token file, without a database ($DISPATCH_TOKENS_FILE)")
	stateDir := fs.String("state-dir", env("DISPATCH_STATE_DIR", ".dispatchd"), "state directory: its tokens.json without a database or -tokens ($DISPATCH_STATE_DIR)")
	var (
		name, role, towns, team, drill, scen, consoleURL *string
		ttl                                              *time.Duration
	)
	if sub == "add" {
		name = fs.String("name", "", "the person, e.g. 'Li Wei' (required): named in the audit trail of their actions")
		role = fs.String("role", web.RoleDispatcher, "dispatcher, team_leader or drill")
		towns = fs.String("towns", "", "dispatcher: comma-separated town codes (empty: all towns)")
		team = fs.String("team", "", "team leader: the team id")
		drill = fs.String("drill", "", "drill planner: the drill id")
		ttl = fs.Duration("expires", defaultTokenTTL, "validity from now")
		scen = fs.String("scenario", env("DISPATCH_SCENARIO", ""), "scenario whose towns and teams are checked ($DISPATCH_SCENARIO)")
		scheme := "http://"
		if getenv("DISPATCH_TLS_CERT") != "" {
			scheme = "https://"
		}
		consoleURL = fs.String("console-url", scheme+env("DISPATCH_HTTP_ADDR", "127.0.0.1:8080"), "base of the printed sign-in link")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	var key string
	if sub == "revoke" && fs.NArg() > 0 { // flags may follow the name
		key = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return err
		}
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("token %s: unexpected argument %q", sub, fs.Arg(0))
	}
	var (
		repo  tokenRepo
		where string
	)
	switch {
	case *database != "":
		pg, err := pgstore.New(ctx, pgstore.Config{URL: *database, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			return fmt.Errorf("database: %w", err)
		}
		defer pg.Close()
		repo, where = pgRepo{pg}, "PostgreSQL (console_tokens)"
	case *tokensFile != "":
		repo, where = fileRepo{web.NewTokenFile(*tokensFile)}, *tokensFile
	default:
		p := filepath.Join(*stateDir, "tokens.json")
		repo, where = fileRepo{web.NewTokenFile(p)}, p
	}
	switch sub {
	case "add":
		sc, err := loadScenario(*scen)
		if err != nil {
			return err
		}
		return addToken(ctx, repo, where, sc, out, *name, *role, *towns, *team, *drill, *ttl, *consoleURL)
	case "list":
		return listTokens(ctx, repo, where, out)
	case "revoke":
		if key == "" {
			return errors.New("token revoke: name the person or the token id")
		}
		done, err := repo.revoke(ctx, key, time.Now())
		if err != nil {
			return err
		}
		if len(done) == 0 {
			return fmt.Errorf("token revoke: no token in use has the id or name %q (dispatchd token list)", key)
		}
		ids := make([]string, len(done))
		for i, e := range done {
			ids[i] = web.IDOf(e)
		}
		_, err = fmt.Fprintf(out, "revoked %d token(s) of %s: %s (in %s; open consoles are closed within seconds)\n", len(done), done[0].Name, strings.Join(ids, ", "), where)
		return err
	}
	return fmt.Errorf("unknown token command %q (add, list, revoke)", sub)
}

func addToken(ctx context.Context, repo tokenRepo, where string, sc *scenario.Scenario, out io.Writer, name, role, towns, team, drill string, ttl time.Duration, consoleURL string) error {
	if ttl <= 0 {
		return errors.New("token add: -expires must be positive")
	}
	plain, e, err := web.GenerateToken(rand.Reader)
	if err != nil {
		return err
	}
	e.Name, e.Role, e.Team, e.Drill = strings.TrimSpace(name), role, team, drill
	e.Towns = splitList(towns)
	now := time.Now().UTC().Truncate(time.Second)
	e.Created, e.Expires = now, now.Add(ttl)
	for _, t := range e.Towns {
		if !slices.ContainsFunc(sc.Towns, func(tw geo.Town) bool { return tw.Code == t }) {
			return fmt.Errorf("token add: no town %q in scenario %s", t, sc.Name)
		}
	}
	if team != "" && !slices.ContainsFunc(sc.Teams, func(tm teams.Team) bool { return tm.ID == team }) {
		return fmt.Errorf("token add: no team %q in scenario %s", team, sc.Name)
	}
	if _, err := web.NewTokenStore([]web.TokenEntry{e}); err != nil { // validates name and role
		return fmt.Errorf("token add: %w", err)
	}
	if err := repo.add(ctx, e); err != nil {
		return fmt.Errorf("token add: %w", err)
	}
	_, err = fmt.Fprintf(out, "token %s for %s (%s), valid until %s, stored in %s.\nThe token is shown once: give it to %s.\n  %s\nsign-in link: %s/?token=%s\n",
		web.IDOf(e), e.Name, scope(e), e.Expires.Format(time.RFC3339), where, e.Name, plain, strings.TrimSuffix(consoleURL, "/"), url.QueryEscape(plain))
	return err
}

// scope describes what a token may see.
func scope(e web.TokenEntry) string {
	switch {
	case e.Role == web.RoleDispatcher && len(e.Towns) > 0:
		return "dispatcher, towns " + strings.Join(e.Towns, ",")
	case e.Role == web.RoleDispatcher:
		return "dispatcher, all towns"
	case e.Role == web.RoleTeamLeader:
		return "team leader, team " + e.Team
	case e.Role == web.RoleDrill:
		return "drill planner, drill " + e.Drill
	}
	return e.Role
}

func listTokens(ctx context.Context, repo tokenRepo, where string, out io.Writer) error {
	ents, err := repo.list(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d token(s) in %s\n", len(ents), where)
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSCOPE\tCREATED\tEXPIRES\tSTATE")
	now := time.Now()
	day := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Local().Format("2006-01-02 15:04")
	}
	for _, e := range ents {
		state := "active"
		switch {
		case !e.Revoked.IsZero():
			state = "revoked " + day(e.Revoked)
		case !e.Expires.IsZero() && !now.Before(e.Expires):
			state = "expired"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", web.IDOf(e), e.Name, scope(e), day(e.Created), day(e.Expires), state)
	}
	return tw.Flush()
}

// printTokenCmd makes one token and prints it with its hashed file entry,
// for a token file kept by hand (`dispatchd token -name ... -role ...`).
func printTokenCmd(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("dispatchd token", flag.ContinueOnError)
	name := fs.String("name", "", "the person (logged instead of the token)")
	role := fs.String("role", web.RoleDispatcher, "dispatcher, team_leader or drill")
	team := fs.String("team", "", "team id (team_leader)")
	drill := fs.String("drill", "", "drill id (drill)")
	towns := fs.String("towns", "", "comma-separated town codes (dispatcher; empty = all)")
	ttl := fs.Duration("ttl", defaultTokenTTL, "validity")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return web.PrintToken(out, web.TokenRequest{Name: *name, Role: *role, Team: *team, Drill: *drill, Towns: *towns, TTL: *ttl})
}
