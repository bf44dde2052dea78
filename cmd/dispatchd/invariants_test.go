package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/dispatch/wire"
)

// What must hold after any fault, checked in PostgreSQL and on Kafka.

// faultReport is what a fault test found: the figures docs/reliability.md quotes.
type faultReport struct {
	incidents     int // rows in incidents
	missing       int // produced ids without a decision
	assignRecords int // records on the assignments topic
	assignKeys    int // distinct dedup keys among them
	duplicates    int // assignments records beyond the first of their dedup key
	historyRows   int
	reports       int // unit reports the simulator produced
	deadLetters   map[string]int
	violations    []string
}

func (r *faultReport) violate(format string, args ...any) {
	r.violations = append(r.violations, fmt.Sprintf(format, args...))
}

func (r *faultReport) String() string {
	return fmt.Sprintf("%d incidents decided (%d missing), %d unit status changes, %d unit reports; assignments: %d records, %d distinct dedup keys, %d duplicates; dead letters %v; %d violations",
		r.incidents, r.missing, r.historyRows, r.reports, r.assignRecords, r.assignKeys, r.duplicates, r.deadLetters, len(r.violations))
}

// idsAndNumbers is what varies between violations of one kind.
var idsAndNumbers = regexp.MustCompile(`[A-Z]+(-[A-Z0-9]+)+|[0-9][0-9:.TZ-]*`)

// fail reports the violations as test errors: a count per kind, then the
// first ones in full.
func (r *faultReport) fail(t testing.TB) {
	t.Helper()
	kinds := map[string]int{}
	for _, v := range r.violations {
		k := idsAndNumbers.ReplaceAllString(v, "#")
		kinds[k[:min(len(k), 90)]]++
	}
	for k, n := range kinds {
		t.Errorf("%d violations: %s", n, k)
	}
	for i, v := range r.violations {
		if i == 25 {
			t.Errorf("... and %d more violations", len(r.violations)-i)
			break
		}
		t.Errorf("violation: %s", v)
	}
}

func pgConnect(t testing.TB, db string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func queryInt(t testing.TB, conn *pgx.Conn, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := withTimeout(30*time.Second, func(ctx context.Context) error { return conn.QueryRow(ctx, sql, args...).Scan(&n) }); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// settleSQL counts what is still moving: units on an incident, incidents
// still holding units, outbox records not yet relayed.
const settleSQL = `SELECT
	(SELECT count(*) FROM units WHERE drill = '' AND status IN ('dispatched', 'en_route', 'on_scene')) +
	(SELECT count(*) FROM incidents WHERE drill = '' AND jsonb_array_length(coalesce(doc->'assigned', '[]')) > 0) +
	(SELECT count(*) FROM outbox)`

// waitSettled waits until every id is decided and every unit the simulator
// played has cleared: the stream is over and nothing is in flight. Without
// a simulator (units never clear) it waits for the decisions and the outbox.
func waitSettled(t testing.TB, conn *pgx.Conn, brokers []string, n int, timeout time.Duration, sim *unitSim) time.Duration {
	t.Helper()
	start := time.Now()
	diag := func() string {
		var b strings.Builder
		fmt.Fprintf(&b, "decided %d of %d; active units %d; incidents holding units %d; outbox %d\n",
			decidedCount(t, conn), n,
			queryInt(t, conn, `SELECT count(*) FROM units WHERE drill = '' AND status IN ('dispatched', 'en_route', 'on_scene')`),
			queryInt(t, conn, `SELECT count(*) FROM incidents WHERE drill = '' AND jsonb_array_length(coalesce(doc->'assigned', '[]')) > 0`),
			queryInt(t, conn, `SELECT count(*) FROM outbox`))
		rows, err := conn.Query(context.Background(), `SELECT id, state, version, doc->'assigned', doc->'cleared', doc->'declined' FROM incidents
			WHERE drill = '' AND jsonb_array_length(coalesce(doc->'assigned', '[]')) > 0 ORDER BY id LIMIT 5`)
		if err == nil {
			for rows.Next() {
				var id, state string
				var v int
				var a, c, d []byte
				if rows.Scan(&id, &state, &v, &a, &c, &d) == nil {
					fmt.Fprintf(&b, "  %s %s v%d assigned %s cleared %s declined %s\n", id, state, v, a, c, d)
				}
			}
			rows.Close()
		}
		return b.String() + diagnose(brokers, "reliability")
	}
	settle := settleSQL
	if sim == nil {
		settle = `SELECT count(*) FROM outbox`
	}
	for decidedCount(t, conn) < n || queryInt(t, conn, settle) > 0 {
		if time.Since(start) > timeout {
			// Not Fatal: checkWorld then says what is wrong.
			t.Errorf("not settled after %v: %s", timeout, diag())
			break
		}
		time.Sleep(100 * time.Millisecond) // poll PostgreSQL gently
	}
	return time.Since(start)
}

func decidedCount(t testing.TB, conn *pgx.Conn) int {
	return queryInt(t, conn, `SELECT count(*) FROM incidents WHERE drill = ''`)
}

// checkWorld checks every invariant after a faulty run of the ids.
func checkWorld(t testing.TB, conn *pgx.Conn, brokers []string, ids []string, sim *unitSim) *faultReport {
	t.Helper()
	r := &faultReport{deadLetters: map[string]int{}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	type inc struct {
		version  int
		state    string
		declined int
	}
	incs := map[string]inc{}
	rows, err := conn.Query(ctx, `SELECT id, version, state, jsonb_array_length(coalesce(doc->'declined', '[]')) FROM incidents WHERE drill = ''`)
	if err != nil {
		t.Fatal(err)
	}
	var id, state string
	var version, declined int
	if _, err := pgx.ForEachRow(rows, []any{&id, &version, &state, &declined}, func() error {
		if _, dup := incs[id]; dup {
			r.violate("incident %s decided twice", id)
		}
		incs[id] = inc{version, state, declined}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r.incidents = len(incs)
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
		if _, ok := incs[id]; !ok {
			r.missing++
			if r.missing <= 5 {
				r.violate("incident %s never decided", id)
			}
		}
	}
	for id, in := range incs {
		if !want[id] {
			r.violate("incident %s decided but never produced", id)
		}
		if in.declined > 0 {
			// The simulator never declines: a decline is a report applied to the wrong incident.
			r.violate("incident %s has %d declined units; no unit declined", id, in.declined)
		}
	}
	checkUnits(ctx, t, conn, sim, r)
	checkStock(ctx, t, conn, r)
	if n := queryInt(t, conn, `SELECT count(*) FROM outbox`); n != 0 {
		r.violate("%d outbox records never relayed", n)
	}
	count, maxSeq, seqRow := queryInt(t, conn, `SELECT count(*) FROM events`), queryInt(t, conn, `SELECT coalesce(max(seq), 0) FROM events`), queryInt(t, conn, `SELECT n FROM event_seq`)
	if count != maxSeq || seqRow != maxSeq {
		r.violate("event log: %d events, max seq %d, counter %d: a hole or a lost event", count, maxSeq, seqRow)
	}

	// Kafka: every decision on assignments (at least once), final versions included.
	keys := map[string]string{} // dedup key -> state
	for _, m := range readAll(t, brokers, "assignments") {
		var a wire.AssignmentMessage
		if err := json.Unmarshal(m.Value, &a); err != nil {
			r.violate("assignments: bad record: %v", err)
			continue
		}
		r.assignRecords++
		if _, dup := keys[a.DedupKey]; dup {
			r.duplicates++
		}
		keys[a.DedupKey] = a.State
	}
	r.assignKeys = len(keys)
	for id, in := range incs {
		if _, ok := keys["|"+id+"|1"]; !ok {
			r.violate("incident %s: first decision not on assignments", id)
		}
		if st, ok := keys[fmt.Sprintf("|%s|%d", id, in.version)]; !ok || st != in.state {
			r.violate("incident %s: final version %d (%s) not on assignments (found %q)", id, in.version, in.state, st)
		}
	}
	dead := map[string][]string{} // unit -> its dead-lettered reports
	for _, m := range readAll(t, brokers, "incidents.dlq") {
		for _, h := range m.Headers {
			if h.Key == "reason" {
				r.deadLetters[string(h.Value)]++
				dead[string(m.Key)] = append(dead[string(m.Key)], string(h.Value)+": "+string(m.Value))
			}
		}
	}
	// A unit still on an incident at the end: what happened to its reports?
	// (Without a simulator units never clear.)
	stuck := `SELECT id, status, coalesce(incident, '') FROM units WHERE drill = '' AND status IN ('dispatched', 'en_route', 'on_scene') ORDER BY id`
	if sim == nil {
		stuck = `SELECT id, status, coalesce(incident, '') FROM units WHERE false`
	}
	rows, err = conn.Query(ctx, stuck)
	if err != nil {
		t.Fatal(err)
	}
	var unit string
	if _, err := pgx.ForEachRow(rows, []any{&unit, &state, &id}, func() error {
		r.violate("unit %s still %s on %s at the end; dead letters for it: %q; reports sent: %v", unit, state, id, dead[unit], sim.reportsOf(unit))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if sim != nil {
		_, _, r.reports, _ = sim.stats()
	}
	return r
}

// checkUnits replays each unit's status history: it must chain (each change
// starts where the previous ended), a unit is never moved from one active
// assignment to another, every en_route/on_scene comes from a report for
// that very incident, and the final row matches the units table.
func checkUnits(ctx context.Context, t testing.TB, conn *pgx.Conn, sim *unitSim, r *faultReport) {
	t.Helper()
	st := defaultState(t)
	type pos struct{ status, incident string }
	cur := map[string]pos{}
	for _, u := range st.Fleet().Units() {
		cur[u.ID] = pos{string(u.Status), ""}
	}
	rows, err := conn.Query(ctx, `SELECT unit_id, old_status, new_status, coalesce(incident, ''), at FROM unit_status_history
		WHERE drill = '' ORDER BY unit_id, id`)
	if err != nil {
		t.Fatal(err)
	}
	var unit, oldS, newS, incident string
	var at time.Time
	if _, err := pgx.ForEachRow(rows, []any{&unit, &oldS, &newS, &incident, &at}, func() error {
		r.historyRows++
		c := cur[unit]
		if oldS != c.status {
			r.violate("unit %s at %s: %s -> %s (%s), but it was %s on %q", unit, at.Format(time.RFC3339Nano), oldS, newS, incident, c.status, c.incident)
		}
		if active(c.status) && active(newS) && incident != c.incident {
			r.violate("unit %s active on %s and then on %s without clearing", unit, c.incident, incident)
		}
		if sim != nil && (newS == "en_route" || newS == "on_scene") {
			rep, ok := sim.report(unit, at)
			switch {
			case !ok:
				r.violate("unit %s went %s on %s with no report at %s", unit, newS, incident, at.Format(time.RFC3339Nano))
			case rep.status != newS || rep.incident != incident:
				r.violate("unit %s went %s on %s from a report of %s on %s", unit, newS, incident, rep.status, rep.incident)
			}
		}
		cur[unit] = pos{newS, incident}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rows, err = conn.Query(ctx, `SELECT id, status, coalesce(incident, '') FROM units WHERE drill = ''`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&unit, &newS, &incident}, func() error {
		if c := cur[unit]; c.status != newS || (active(newS) && c.incident != incident) {
			r.violate("unit %s is %s on %q, its history ends %s on %q", unit, newS, incident, c.status, c.incident)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func active(status string) bool {
	return status == "dispatched" || status == "en_route" || status == "on_scene"
}

// checkStock: per depot and item, reserved is the sum of the active
// reservations and on_hand is the initial stock minus what was consumed;
// a reservation is active only on an open incident.
func checkStock(ctx context.Context, t testing.TB, conn *pgx.Conn, r *faultReport) {
	t.Helper()
	st := defaultState(t)
	initial := map[string]int{}
	for _, l := range st.Inventory().Levels() {
		initial[l.Depot+"/"+l.Item] = l.OnHand
	}
	rows, err := conn.Query(ctx, `SELECT s.depot, s.item, s.on_hand, s.reserved,
		coalesce(sum(r.qty) FILTER (WHERE r.state = 'reserved'), 0),
		coalesce(sum(r.qty) FILTER (WHERE r.state = 'consumed'), 0)
		FROM stock s LEFT JOIN reservations r ON r.drill = s.drill AND r.depot = s.depot AND r.item = s.item
		WHERE s.drill = '' GROUP BY s.depot, s.item, s.on_hand, s.reserved`)
	if err != nil {
		t.Fatal(err)
	}
	var depot, item string
	var onHand, reserved, active, consumed int
	if _, err := pgx.ForEachRow(rows, []any{&depot, &item, &onHand, &reserved, &active, &consumed}, func() error {
		k := depot + "/" + item
		switch {
		case onHand < 0 || reserved < 0 || reserved > onHand:
			r.violate("stock %s: on hand %d, reserved %d", k, onHand, reserved)
		case reserved != active:
			r.violate("stock %s: reserved %d but active reservations hold %d", k, reserved, active)
		case onHand != initial[k]-consumed:
			r.violate("stock %s: on hand %d, want %d - %d consumed", k, onHand, initial[k], consumed)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, conn, `SELECT count(*) FROM reservations r JOIN incidents i ON i.drill = r.drill AND i.id = r.incident
		WHERE r.drill = '' AND r.state = 'reserved' AND i.state IN ('closed', 'cancelled')`); n > 0 {
		r.violate("%d reservations still held by closed incidents", n)
	}
}

// committedOffsets returns the consumer group's committed offset of every
// partition of topic (-1: none).
func committedOffsets(ctx context.Context, brokers []string, group, topic string) (map[int]int64, error) {
	cl := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 5 * time.Second}
	res, err := cl.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: {0, 1, 2, 3}}})
	if err != nil {
		return nil, err
	}
	if res.Error != nil {
		return nil, res.Error
	}
	out := map[int]int64{}
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			return nil, p.Error
		}
		out[p.Partition] = p.CommittedOffset
	}
	return out, nil
}

// sumOffsets is how many records of a topic the group has committed.
func sumOffsets(m map[int]int64) int64 {
	var s int64
	for _, o := range m {
		s += max(o, 0)
	}
	return s
}

// logEvent is one row of the console event log, with what Visible needs.
type logEvent = dispatch.Event

// eventLog reads the whole console event log in seq order.
func eventLog(t testing.TB, conn *pgx.Conn) []logEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := conn.Query(ctx, `SELECT seq, kind, drill, town, teams, incident, unit FROM events ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (logEvent, error) {
		var ev logEvent
		err := r.Scan(&ev.Seq, &ev.Kind, &ev.Drill, &ev.Town, &ev.Teams, &ev.Incident, &ev.Unit)
		return ev, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// diagnose describes the consumer group, its committed offsets and the
// end of the input topics: what a failed wait needs to explain itself.
func diagnose(brokers []string, group string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 5 * time.Second}
	var b strings.Builder
	res, err := cl.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
	if err != nil {
		fmt.Fprintf(&b, "describe group: %v\n", err)
	} else {
		for _, g := range res.Groups {
			fmt.Fprintf(&b, "group %s: %s (%v), %d members\n", g.GroupID, g.GroupState, g.Error, len(g.Members))
			for _, m := range g.Members {
				fmt.Fprintf(&b, "  %s: %+v\n", m.ClientHost, m.MemberAssignments.Topics)
			}
		}
	}
	for _, topic := range []string{"incidents", "unit-events"} {
		off, err := committedOffsets(ctx, brokers, group, topic)
		ends := map[int]int64{}
		for p := 0; p < 4; p++ {
			r, lerr := cl.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(p)}}})
			if lerr == nil && len(r.Topics[topic]) == 1 {
				ends[p] = r.Topics[topic][0].LastOffset
			}
		}
		fmt.Fprintf(&b, "%s: committed %v (%v), end %v\n", topic, off, err, ends)
	}
	return b.String()
}

// waitFor is pollUntil with a diagnosis when it times out.
func waitFor(t testing.TB, timeout time.Duration, what string, diag func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s\n%s", timeout, what, diag())
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
}

// defaultState is the Zhongshan scenario's initial state (units at their
// stations, full stock), what the checks compare the end state with.
func defaultState(t testing.TB) *dispatch.State {
	t.Helper()
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	st, err := dispatch.NewState(sc, dispatch.RankConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}
