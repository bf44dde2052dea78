package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/web"
)

// consoleToken is one console identity: its principal and plain token.
type consoleToken struct {
	p     web.Principal
	token string
}

// writeConsoleTokens writes a token file with every kind of console: a
// dispatcher of all towns, one per town, one per pair of towns, and a team
// leader per team.
func writeConsoleTokens(t testing.TB, sc *scenario.Scenario) (path string, all, towns, leaders []consoleToken) {
	t.Helper()
	var entries []web.TokenEntry
	add := func(p web.Principal) consoleToken {
		plain, e, err := web.GenerateToken(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		e.Name, e.Role, e.Team, e.Towns = p.Name, p.Role, p.Team, p.Towns
		e.Expires = time.Now().Add(24 * time.Hour)
		entries = append(entries, e)
		return consoleToken{p, plain}
	}
	all = append(all, add(web.Principal{Name: "dispatcher", Role: web.RoleDispatcher}))
	for i, tw := range sc.Towns {
		towns = append(towns, add(web.Principal{Name: "dispatcher-" + tw.Code, Role: web.RoleDispatcher, Towns: []string{tw.Code}}))
		next := sc.Towns[(i+1)%len(sc.Towns)].Code
		towns = append(towns, add(web.Principal{Name: "dispatcher-" + tw.Code + "-" + next, Role: web.RoleDispatcher, Towns: []string{tw.Code, next}}))
	}
	for _, tm := range sc.Teams {
		leaders = append(leaders, add(web.Principal{Name: "leader-" + tm.ID, Role: web.RoleTeamLeader, Team: tm.ID}))
	}
	b, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "consoles.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, all, towns, leaders
}

// TestConsolesReconnect connects 1,000 consoles (5% dispatchers of every
// town, 45% town-limited dispatchers, 50% team leaders) and drops 10% of
// them mid-stream, each reconnecting after a seeded random pause with the
// last seq it saw. Each must end with exactly the events it is entitled to
// (the full event log filtered with web.Visible), in order.
func TestConsolesReconnect(t *testing.T) {
	n, consoles := pick(1500, 6000), 1000
	rng := testSeed(t, 5)
	bin := buildDispatchd(t)
	db := testDB(t)
	brokers := startBroker(t)
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	tokens, all, towns, leaders := writeConsoleTokens(t, sc)
	eng := newEngineProc(t, "dispatchd", bin, newProcLog(t), engineEnv(brokers, db, tokens))
	eng.start()
	eng.waitReady(time.Minute)
	conn := pgConnect(t, db)
	fs := make([]*follower, consoles)
	for i := range fs {
		var c consoleToken
		switch {
		case i%20 == 0:
			c = all[0]
		case i%20 < 10:
			c = towns[i%len(towns)]
		default:
			c = leaders[i%len(leaders)]
		}
		fs[i] = follow(c.p, c.token, eng.addr)
	}
	t.Cleanup(func() {
		for _, f := range fs {
			f.close()
		}
	})
	waitFor(t, time.Minute, "every console connected", func() string { return "" }, func() bool {
		for _, f := range fs {
			if f.connections() == 0 {
				return false
			}
		}
		return true
	})
	sim := startUnitSim(t, brokers)
	msgs := nIncidents("WS", n)
	start := time.Now()
	stream := startStream(brokers, msgs, 25, 50*time.Millisecond)

	// 10% of the consoles, each dropped once at a seeded random point.
	type drop struct {
		console, at int
		pause       time.Duration
	}
	drops := make([]drop, consoles/10)
	for i, c := range rng.Perm(consoles)[:len(drops)] {
		drops[i] = drop{c, n/10 + rng.IntN(n*8/10), time.Duration(rng.IntN(3000)) * time.Millisecond}
	}
	slices.SortFunc(drops, func(a, b drop) int { return a.at - b.at })
	diag := func() string { return diagnose(brokers, "reliability") }
	for _, d := range drops {
		waitFor(t, 3*time.Minute, fmt.Sprintf("%d decided", d.at), diag, func() bool { return decidedCount(t, conn) >= d.at })
		fs[d.console].drop(d.pause)
	}
	stream.wait(t)
	settle := waitSettled(t, conn, brokers, n, 5*time.Minute, sim)
	rep := checkWorld(t, conn, brokers, idsOf(msgs), sim)
	rep.fail(t)
	log := eventLog(t, conn)
	var received, reconnects, dropped int
	for _, d := range drops {
		if fs[d.console].connections() < 2 {
			t.Errorf("console %d was dropped but never reconnected", d.console)
		}
		dropped++
	}
	missing, extra := checkConsoles(t, conn, fs)
	for _, f := range fs {
		received += len(f.seqs)
		reconnects += f.connections() - 1
	}
	t.Logf("%d consoles, %d dropped; %d events in the log, %d delivered, %d reconnections (drops and slow-consumer resumes); %d missing, %d not entitled; stream of %d in %v, settled %v later",
		consoles, dropped, len(log), received, reconnects, missing, extra, n, time.Since(start).Round(time.Millisecond), settle.Round(time.Millisecond))
	t.Logf("result: %s", rep)
}
