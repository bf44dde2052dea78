package dispatch_test

// TestGolden pins the engine's external protocol byte for byte: a seeded day
// of calls is replayed through the exported API (Process, Act,
// EscalateOverdue, FillShortfalls, Restock) on a virtual clock, and
// everything a user of the engine sees is recorded in order: every console
// event (store.EventsAfter), every outbox record (store.PendingOutbox), the
// returns of Act (the record's JSON or the error text) and of Process (the
// rejects), and the final units and depots. The recording is compared with
// testdata/golden/protocol.jsonl.gz; `go test ./dispatch -run TestGolden
// -update` rewrites it.
//
// The driver reacts to what the engine publishes (an assignment.new event
// schedules that unit's trip, an incident.recommended one a dispatcher's
// decision...), drawing every choice from one seeded PCG source, so the
// replay depends only on the engine's behaviour. It uses only exported API
// so that it ports easily when names move.

import (
	"bytes"
	"compress/gzip"
	"container/heap"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/drill"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/scenario"
	"github.com/zs110/dispatch/dispatch/wire"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden protocol recording of TestGolden")

const goldenFile = "testdata/golden/protocol.jsonl.gz"

// The recorded day and its knobs. Changing any of them changes the recording.
var (
	goldenZone  = time.FixedZone("CST", 8*3600)
	goldenStart = time.Date(2013, 6, 1, 0, 0, 0, 0, goldenZone) // a Saturday
)

const (
	goldenSeed         = 20130601
	goldenCallsPerYear = 145_000 // about 410 calls in the day
	goldenDupShare     = 0.12
	goldenEscalate     = 2 * time.Minute
)

// goldenRequiredKinds must each occur at least once in the recording.
var goldenRequiredKinds = []string{
	dispatch.EvIncidentLinked, dispatch.EvIncidentManual, dispatch.EvAssignmentEscalated, dispatch.EvAssignmentCancelled,
	dispatch.EvStockRestocked, dispatch.EvIncidentCancelled, dispatch.EvIncidentClosed, dispatch.EvIncidentRecommended,
	dispatch.EvIncidentDispatched, dispatch.EvIncidentUpdated, dispatch.EvAssignment, dispatch.EvUnitStatus,
}

// goldenActKinds must each succeed at least once.
var goldenActKinds = []string{
	dispatch.ActConfirm, dispatch.ActSwap, dispatch.ActAdd, dispatch.ActDecline, dispatch.ActCancel, dispatch.ActClassify,
	dispatch.ActLocate, dispatch.ActAccept, dispatch.ActEnRoute, dispatch.ActOnScene, dispatch.ActClear,
}

func TestGolden(t *testing.T) {
	began := time.Now()
	r := newGoldenRun(t)
	r.run()
	got := r.out.Bytes()

	// What the day exercised.
	kinds := make([]string, 0, len(r.kinds))
	for k := range r.kinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var sb strings.Builder
	for _, k := range kinds {
		fmt.Fprintf(&sb, "\n  %-22s %6d", k, r.kinds[k])
	}
	t.Logf("%d lines, %d bytes; %d events, %d outbox records, %d engine calls; events by kind:%s",
		r.lineCount, len(got), r.lastSeq, r.outboxN, r.step, sb.String())
	acts := make([]string, 0, len(r.actOK))
	for k := range r.actOK {
		acts = append(acts, k)
	}
	for k := range r.actErr {
		if _, ok := r.actOK[k]; !ok {
			acts = append(acts, k)
		}
	}
	sort.Strings(acts)
	sb.Reset()
	for _, k := range acts {
		fmt.Fprintf(&sb, "\n  %-10s ok %4d  refused %3d", k, r.actOK[k], r.actErr[k])
	}
	t.Logf("actions:%s\nprocess rejects %d, escalated %d, incidents filled by FillShortfalls %d, units given from the queue %d, restocks ok %d refused %d",
		sb.String(), r.rejects, r.escalated, r.filled, r.queued, r.restockOK, r.restockErr)

	for _, k := range goldenRequiredKinds {
		if r.kinds[k] == 0 {
			t.Errorf("the recording has no %s event", k)
		}
	}
	for _, k := range goldenActKinds {
		if r.actOK[k] == 0 {
			t.Errorf("no %s action succeeded", k)
		}
	}
	if len(r.actErr) == 0 || r.rejects == 0 || r.escalated == 0 || r.queued == 0 || r.restockOK == 0 || r.restockErr == 0 {
		t.Errorf("refused actions %d, rejects %d, escalated %d, units given from the queue %d, restocks %d/%d: each must be > 0",
			len(r.actErr), r.rejects, r.escalated, r.queued, r.restockOK, r.restockErr)
	}

	if *updateGolden {
		if t.Failed() {
			t.Fatal("not rewriting the golden file: the recording misses part of the protocol")
		}
		writeGolden(t, got)
		t.Logf("rewrote %s (%d bytes uncompressed) in %v", goldenFile, len(got), time.Since(began))
		return
	}
	want, err := readGolden()
	if err != nil {
		t.Fatalf("%v (record it with: go test ./dispatch -run TestGolden -update)", err)
	}
	compareGolden(t, want, got)
	t.Logf("matches %s, in %v", goldenFile, time.Since(began))
}

// ---------------------------------------------------------------------------
// The replay.

type goldenRun struct {
	t     *testing.T
	ctx   context.Context
	sc    *scenario.Scenario
	store *memstore.Store
	eng   *dispatch.Engine
	now   time.Time
	end   time.Time // end of the day's calls
	stop  time.Time // periodic tasks stop after this
	rng   *rand.Rand

	out       bytes.Buffer
	lineCount int
	step      int
	lastSeq   int64
	outboxN   int

	incs  []dispatch.Incident
	next  int // next incident of incs to feed
	tasks goldenHeap
	tseq  int
	inbox []dispatch.UnitEvent // terminal reports waiting to be delivered

	// what the driver knows, learnt from the engine's events
	token    map[string]int64 // unit -> Seq of its current assignment.new event
	gone     map[string]bool  // incidents closed or cancelled
	planned  map[string]bool  // incident -> a decision is scheduled (once per kind of plan)
	home     map[string][2]float64
	service  map[string]float64 // type code -> mean time on scene, s
	noLoc    map[string][2]float64
	invalid  map[string]bool
	unknown  map[string]string // incident -> its real type (sent with an unknown one)
	depots   []string
	items    []string
	restockN int

	// statistics for the log and the coverage checks
	kinds      map[string]int
	actOK      map[string]int
	actErr     map[string]int
	rejects    int
	escalated  int
	filled     int
	queued     int
	restockOK  int
	restockErr int
}

func newGoldenRun(t *testing.T) *goldenRun {
	t.Helper()
	sc, err := scenario.Default()
	if err != nil {
		t.Fatal(err)
	}
	r := &goldenRun{t: t, ctx: context.Background(), sc: sc, store: memstore.New(memstore.Config{}), now: goldenStart,
		end: goldenStart.Add(24 * time.Hour), rng: rand.New(rand.NewPCG(goldenSeed, 0x601d)),
		token: map[string]int64{}, gone: map[string]bool{}, planned: map[string]bool{}, home: map[string][2]float64{},
		service: map[string]float64{}, noLoc: map[string][2]float64{}, invalid: map[string]bool{}, unknown: map[string]string{},
		kinds: map[string]int{}, actOK: map[string]int{}, actErr: map[string]int{}}
	r.stop = r.end.Add(3 * time.Hour)
	r.eng, err = dispatch.NewEngine(dispatch.EngineConfig{Scenario: sc, Store: r.store, FillOnClear: true, // as dispatchd serve
		Clock: func() time.Time { return r.now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.eng.Start(r.ctx); err != nil {
		t.Fatal(err)
	}
	for _, u := range r.eng.Units("") {
		r.home[u.ID] = [2]float64{u.Lat, u.Lng}
	}
	for _, typ := range sc.Types {
		r.service[typ.Code] = typ.ServiceS
	}
	for _, d := range r.eng.Depots("") {
		r.depots = append(r.depots, d.ID)
		for item := range d.Available {
			if !slices.Contains(r.items, item) {
				r.items = append(r.items, item)
			}
		}
	}
	sort.Strings(r.depots)
	sort.Strings(r.items)
	r.incs = r.stream()
	return r
}

// stream is the day's calls: the generator's, some changed by index into
// manual, invalid, unknown-type and re-prioritised calls, plus a few built
// here (a unit shortfall, a material shortfall, a call outside the city).
func (r *goldenRun) stream() []dispatch.Incident {
	g, err := drill.NewGenerator(drill.GenConfig{Scenario: r.sc, Seed: goldenSeed, Start: goldenStart, Duration: 24 * time.Hour,
		CallsPerYear: goldenCallsPerYear, DuplicateShare: goldenDupShare, Surges: []drill.Surge{}})
	if err != nil {
		r.t.Fatal(err)
	}
	var incs []dispatch.Incident
	for i := 0; ; i++ {
		in, err := g.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.t.Fatal(err)
		}
		switch {
		case i%47 == 5: // no usable location: manual, then located by a dispatcher
			r.noLoc[in.ID] = [2]float64{in.Lat, in.Lng}
			in.Lat, in.Lng, in.HasLocation = 0, 0, false
		case i%97 == 11: // intake refused part of the record
			in.Invalid = wire.ReasonBadField
		case i%41 == 7: // a type the catalogue does not have: classified later
			r.unknown[in.ID] = in.Type
			in.Type = "x.unlisted"
		case i%53 == 3:
			in.Priority = 1
		case i%59 == 9:
			in.Priority = 4
		}
		if i%31 == 0 {
			in.Address = fmt.Sprintf("中山 %d号 <B栋> & \"东门\"", i)
			in.Description = "caller says: \u2028smoke\tand <noise> & shouting"
			in.Casualties = i % 3
		}
		incs = append(incs, in)
	}
	town := func(i int) (float64, float64) { c := r.sc.Towns[i%len(r.sc.Towns)].Center; return c.Lat, c.Lng }
	at := func(h, m, s int) time.Time {
		return goldenStart.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}
	add := func(in dispatch.Incident) { in.HasLocation = in.Lat != 0 || in.Lng != 0; incs = append(incs, in) }
	lat, lng := town(0)
	add(dispatch.Incident{ID: "GOLD-OUT-1", ReportedAt: at(3, 0, 0), Type: "theft", Lat: 21.7, Lng: 112.7, Caller: "golden"})
	add(dispatch.Incident{ID: "GOLD-FL-1", ReportedAt: at(9, 30, 0), Type: "flooding", Lat: lat + 0.01, Lng: lng,
		Materials: map[string]int{"inflatable_boat": 150, "sandbag": 50}, Description: "underpass flooded"})
	add(dispatch.Incident{ID: "GOLD-PD-1", ReportedAt: at(14, 1, 0), Type: "public.disorder", Lat: lat, Lng: lng + 0.005})
	lat, lng = town(5)
	add(dispatch.Incident{ID: "GOLD-PD-2", ReportedAt: at(14, 1, 30), Type: "public.disorder", Lat: lat, Lng: lng, Casualties: 2})
	add(dispatch.Incident{ID: "GOLD-NOLOC-1", ReportedAt: at(7, 45, 10), Type: "medical", Caller: "138****0000"})
	r.noLoc["GOLD-NOLOC-1"] = [2]float64{lat + 0.002, lng - 0.003}
	slices.SortStableFunc(incs, func(a, b dispatch.Incident) int { return a.ReportedAt.Compare(b.ReportedAt) })
	return incs
}

func (r *goldenRun) run() {
	r.header()
	r.schedulePeriodic()
	for {
		haveInc, haveTask := r.next < len(r.incs), r.tasks.Len() > 0
		if !haveInc && !haveTask {
			break
		}
		if haveTask && (!haveInc || !r.tasks[0].at.After(r.incs[r.next].ReportedAt)) {
			tk := heap.Pop(&r.tasks).(goldenTask)
			if tk.at.After(r.now) {
				r.now = tk.at
			}
			tk.fn()
			r.maybeFlush()
			continue
		}
		// A small batch of calls, with the terminal reports waiting.
		k := 1 + r.rng.IntN(4)
		var batch []dispatch.Incident
		for len(batch) < k && r.next < len(r.incs) && (r.tasks.Len() == 0 || r.incs[r.next].ReportedAt.Before(r.tasks[0].at)) {
			batch = append(batch, r.incs[r.next])
			r.next++
		}
		if last := batch[len(batch)-1].ReportedAt; last.After(r.now) {
			r.now = last
		}
		evs := r.inbox
		r.inbox = nil
		r.process(batch, evs)
	}
	r.flush()
	// End of the day: cancel what is still open, then the final state.
	for _, rec := range r.eng.Incidents("") {
		r.now = r.now.Add(time.Second)
		r.act(dispatch.Action{Kind: dispatch.ActCancel, Incident: rec.ID, Reason: "end of the recorded day"})
	}
	r.final()
	r.framesUnchanged()
}

// framesUnchanged: the records an event holds are the engine's frozen
// copies, which share their slices with the live records (cloneRecord):
// written again from its typed body at the end of the day, every event must
// say what it said when the consoles read it right after its step.
func (r *goldenRun) framesUnchanged() {
	evs, err := r.store.EventsAfter(r.ctx, 0, 1<<30)
	if err != nil {
		r.t.Fatal(err)
	}
	var enc wire.Encoder
	for i := range evs {
		ev := evs[i]
		was := ev.Data
		ev.Data = nil
		if now := enc.EventData(&ev); !bytes.Equal(now, was) {
			r.t.Fatalf("event %d (%s %s) changed after it was written:\n was %s\n now %s", ev.Seq, ev.Kind, ev.Incident, was, now)
		}
	}
}

// maybeFlush delivers the waiting terminal reports now, unless the next
// thing to happen soon is another report (they travel together) or a call
// (they go in its batch).
func (r *goldenRun) maybeFlush() {
	if len(r.inbox) == 0 {
		return
	}
	haveInc, haveTask := r.next < len(r.incs), r.tasks.Len() > 0
	if haveTask && (!haveInc || !r.tasks[0].at.After(r.incs[r.next].ReportedAt)) {
		if r.tasks[0].terminal && r.tasks[0].at.Sub(r.now) <= 5*time.Second {
			return
		}
	} else if haveInc && r.incs[r.next].ReportedAt.Sub(r.now) <= 10*time.Second {
		return
	}
	r.flush()
}

func (r *goldenRun) flush() {
	if len(r.inbox) == 0 {
		return
	}
	evs := r.inbox
	r.inbox = nil
	r.process(nil, evs)
}

// ---------------------------------------------------------------------------
// Engine calls, each recorded with everything it published.

type gInc struct {
	ID          string         `json:"id"`
	ReportedAt  string         `json:"reported_at"`
	Type        string         `json:"type"`
	Priority    int            `json:"priority,omitempty"`
	Lat         float64        `json:"lat,omitempty"`
	Lng         float64        `json:"lng,omitempty"`
	HasLocation bool           `json:"has_location"`
	Invalid     string         `json:"invalid,omitempty"`
	Materials   map[string]int `json:"materials,omitempty"`
	Extra       bool           `json:"extra,omitempty"` // address, description, casualties set
}

type gUnitEv struct {
	Unit        string  `json:"unit"`
	At          string  `json:"at"`
	Status      string  `json:"status,omitempty"`
	Incident    string  `json:"incident,omitempty"`
	HasPosition bool    `json:"has_position,omitempty"`
	Lat         float64 `json:"lat,omitempty"`
	Lng         float64 `json:"lng,omitempty"`
}

type gReject struct {
	Incident bool   `json:"incident"`
	Index    int    `json:"index"`
	Reason   string `json:"reason"`
}

func ts(t time.Time) string { return t.Format(time.RFC3339Nano) }

func (r *goldenRun) process(incs []dispatch.Incident, evs []dispatch.UnitEvent) {
	r.step++
	line := struct {
		Step      int       `json:"step"`
		Now       string    `json:"now"`
		Op        string    `json:"op"`
		Incidents []gInc    `json:"incidents,omitempty"`
		Units     []gUnitEv `json:"units,omitempty"`
		Rejects   []gReject `json:"rejects"`
		Err       string    `json:"err,omitempty"`
	}{Step: r.step, Now: ts(r.now), Op: "process", Rejects: []gReject{}}
	for _, in := range incs {
		line.Incidents = append(line.Incidents, gInc{ID: in.ID, ReportedAt: ts(in.ReportedAt), Type: in.Type, Priority: in.Priority,
			Lat: in.Lat, Lng: in.Lng, HasLocation: in.HasLocation, Invalid: in.Invalid, Materials: in.Materials,
			Extra: in.Address != "" || in.Description != "" || in.Casualties != 0})
	}
	for _, ev := range evs {
		line.Units = append(line.Units, gUnitEv{Unit: ev.UnitID, At: ts(ev.At), Status: ev.Status, Incident: ev.Incident,
			HasPosition: ev.HasPosition, Lat: ev.Lat, Lng: ev.Lng})
	}
	rej, err := r.eng.Process(r.ctx, incs, evs)
	if err != nil {
		line.Err = err.Error()
	}
	for _, rj := range rej {
		line.Rejects = append(line.Rejects, gReject{Incident: rj.Incident, Index: rj.Index, Reason: wire.ReasonOf(rj.Err)})
		r.rejects++
	}
	r.write(line)
	r.drain()
}

type gAction struct {
	Kind     string  `json:"kind"`
	Incident string  `json:"incident"`
	Unit     string  `json:"unit,omitempty"`
	NewUnit  string  `json:"new_unit,omitempty"`
	Reason   string  `json:"reason,omitempty"`
	Type     string  `json:"type,omitempty"`
	Lat      float64 `json:"lat,omitempty"`
	Lng      float64 `json:"lng,omitempty"`
	By       string  `json:"by,omitempty"`
	Team     string  `json:"team,omitempty"`
	Version  int     `json:"version,omitempty"`
}

func (r *goldenRun) act(a dispatch.Action) (*dispatch.IncidentRecord, error) {
	r.flush() // reports made before the action reach the engine first
	if a.By == "" && a.Team == "" {
		a.By = "console-7"
	}
	r.step++
	line := struct {
		Step   int     `json:"step"`
		Now    string  `json:"now"`
		Op     string  `json:"op"`
		Action gAction `json:"action"`
		RecSeq int64   `json:"rec_is_data_of,omitempty"` // the record's JSON is the Data of this event
		Err    string  `json:"err,omitempty"`
	}{Step: r.step, Now: ts(r.now), Op: "act", Action: gAction{Kind: a.Kind, Incident: a.Incident, Unit: a.Unit, NewUnit: a.NewUnit,
		Reason: a.Reason, Type: a.Type, Lat: a.Lat, Lng: a.Lng, By: a.By, Team: a.Team, Version: a.Version}}
	rec, err := r.eng.Act(r.ctx, a)
	evs := r.fetch()
	var recJSON []byte // the record's JSON when no event has it
	if err != nil {
		line.Err = err.Error()
		r.actErr[a.Kind]++
	} else {
		b, merr := json.Marshal(rec)
		if merr != nil {
			r.t.Fatalf("marshal the record of %s: %v", a.Incident, merr)
		}
		// Almost always the record is, byte for byte, the data of the last
		// event the action published on the incident: then the line names
		// that event instead of repeating the bytes.
		for i := len(evs) - 1; i >= 0; i-- {
			if evs[i].Incident == a.Incident && bytes.Equal(evs[i].Data, b) {
				line.RecSeq = evs[i].Seq
				break
			}
		}
		if line.RecSeq == 0 {
			recJSON = b
		}
		r.actOK[a.Kind]++
	}
	if recJSON != nil {
		r.writeExact(line, "", exact{"rec", recJSON})
	} else {
		r.write(line)
	}
	r.emit(evs)
	return rec, err
}

func (r *goldenRun) escalate() {
	r.flush()
	r.step++
	n, err := r.eng.EscalateOverdue(r.ctx, "", goldenEscalate)
	line := struct {
		Step   int    `json:"step"`
		Now    string `json:"now"`
		Op     string `json:"op"`
		AfterS int    `json:"after_s"`
		N      int    `json:"n"`
		Err    string `json:"err,omitempty"`
	}{r.step, ts(r.now), "escalate", int(goldenEscalate / time.Second), n, ""}
	if err != nil {
		line.Err = err.Error()
	}
	r.escalated += n
	r.write(line)
	r.drain()
}

func (r *goldenRun) fill(ids []string) {
	r.flush()
	r.step++
	filled, err := r.eng.FillShortfalls(r.ctx, "", ids)
	line := struct {
		Step   int      `json:"step"`
		Now    string   `json:"now"`
		Op     string   `json:"op"`
		IDs    []string `json:"ids"`
		Filled []string `json:"filled"`
		Err    string   `json:"err,omitempty"`
	}{r.step, ts(r.now), "fill", ids, filled, ""}
	if err != nil {
		line.Err = err.Error()
	}
	r.filled += len(filled)
	r.write(line)
	r.drain()
}

func (r *goldenRun) restock(depot, item string, qty int) {
	r.flush()
	r.step++
	err := r.eng.Restock(r.ctx, "", depot, item, qty)
	line := struct {
		Step  int    `json:"step"`
		Now   string `json:"now"`
		Op    string `json:"op"`
		Depot string `json:"depot"`
		Item  string `json:"item"`
		Qty   int    `json:"qty"`
		Err   string `json:"err,omitempty"`
	}{r.step, ts(r.now), "restock", depot, item, qty, ""}
	if err != nil {
		line.Err = err.Error()
		r.restockErr++
	} else {
		r.restockOK++
	}
	r.write(line)
	r.drain()
}

type gEvent struct {
	Seq      int64    `json:"seq"`
	At       string   `json:"at"`
	Kind     string   `json:"kind"`
	Drill    string   `json:"drill"`
	Town     string   `json:"town"`
	Teams    []string `json:"teams"`
	Incident string   `json:"incident"`
	Unit     string   `json:"unit"`
	// Data follows, exactly as stored (see writeExact)
}

type gOutbox struct {
	ID  int64  `json:"id"`
	Key string `json:"key"`
	// Value follows, exactly as stored (see writeExact)
}

// drain records what the last call published: its events and outbox records.
func (r *goldenRun) drain() { r.emit(r.fetch()) }

// fetch returns the events published since the last fetch.
func (r *goldenRun) fetch() []dispatch.Event {
	evs, err := r.store.EventsAfter(r.ctx, r.lastSeq, 1<<30)
	if err != nil {
		r.t.Fatal(err)
	}
	if len(evs) > 0 {
		r.lastSeq = evs[len(evs)-1].Seq
	}
	return evs
}

// emit records events (from fetch) and the pending outbox records, and
// lets the driver react to the events.
func (r *goldenRun) emit(evs []dispatch.Event) {
	for _, ev := range evs {
		g := gEvent{Seq: ev.Seq, At: ts(ev.At), Kind: ev.Kind, Drill: ev.Drill, Town: ev.Town, Teams: ev.Teams,
			Incident: ev.Incident, Unit: ev.Unit}
		if ev.Data != nil {
			r.writeExact(g, "ev", exact{"data", ev.Data})
		} else {
			r.writeExact(g, "ev")
		}
		r.kinds[ev.Kind]++
		if ev.Kind == dispatch.EvAssignment && bytes.Contains(ev.Data, []byte("assigned from the queue")) {
			r.queued++ // a unit that came free, given to an incident missing it (FillOnClear or FillShortfalls)
		}
	}
	recs, err := r.store.PendingOutbox(r.ctx, 1<<30)
	if err != nil {
		r.t.Fatal(err)
	}
	ids := make([]int64, 0, len(recs))
	for _, o := range recs {
		if o.Value != nil {
			r.writeExact(gOutbox{o.ID, o.Key}, "out", exact{"value", o.Value})
		} else {
			r.writeExact(gOutbox{o.ID, o.Key}, "out")
		}
		ids = append(ids, o.ID)
	}
	r.outboxN += len(recs)
	if len(ids) > 0 {
		if err := r.store.MarkSent(r.ctx, ids); err != nil {
			r.t.Fatal(err)
		}
	}
	for _, ev := range evs {
		r.onEvent(ev)
	}
}

func (r *goldenRun) write(v any) { r.writeExact(v, "") }

// exact is a field whose bytes the recording keeps exactly: inline when
// they are one line of valid JSON (json.Marshal would re-escape them),
// else as key_b64 in base64.
type exact struct {
	key string
	b   []byte
}

// writeExact writes v (a struct marshalled as an object) with the exact
// fields appended, as one line; wrap, when set, puts it under that key.
func (r *goldenRun) writeExact(v any, wrap string, fields ...exact) {
	b, err := json.Marshal(v)
	if err != nil || len(b) < 2 || b[len(b)-1] != '}' {
		r.t.Fatalf("marshal golden line: %s %v", b, err)
	}
	line := make([]byte, 0, len(b)+64)
	if wrap != "" {
		line = append(line, `{"`...)
		line = append(line, wrap...)
		line = append(line, `":`...)
	}
	line = append(line, b[:len(b)-1]...)
	for i, f := range fields {
		if i > 0 || len(b) > 2 {
			line = append(line, ',')
		}
		if json.Valid(f.b) && !bytes.ContainsAny(f.b, "\r\n") {
			line = append(line, `"`+f.key+`":`...)
			line = append(line, f.b...)
		} else {
			line = append(line, `"`+f.key+`_b64":"`...)
			line = base64.StdEncoding.AppendEncode(line, f.b)
			line = append(line, '"')
		}
	}
	line = append(line, '}')
	if wrap != "" {
		line = append(line, '}')
	}
	r.out.Write(line)
	r.out.WriteByte('\n')
	r.lineCount++
}

func (r *goldenRun) header() {
	r.write(struct {
		Golden   string  `json:"golden"`
		Scenario string  `json:"scenario"`
		Seed     uint64  `json:"seed"`
		Start    string  `json:"start"`
		Calls    int     `json:"calls"`
		PerYear  float64 `json:"calls_per_year"`
		Dup      float64 `json:"duplicate_share"`
	}{"dispatch engine protocol", r.sc.Name, goldenSeed, ts(goldenStart), len(r.incs), goldenCallsPerYear, goldenDupShare})
}

// final records what the consoles see at the end: units and depots.
func (r *goldenRun) final() {
	for _, u := range r.eng.Units("") {
		r.write(struct {
			Unit gFinalUnit `json:"unit"`
		}{gFinalUnit{u.ID, string(u.Status), u.Lat, u.Lng, u.Town, u.Cell, u.Incident, ts(u.Since)}})
	}
	for _, d := range r.eng.Depots("") {
		r.write(struct {
			Depot gFinalDepot `json:"depot"`
		}{gFinalDepot{d.ID, d.Available}})
	}
	open := []string{}
	for _, rec := range r.eng.Incidents("") {
		open = append(open, rec.ID)
	}
	r.write(struct {
		Open []string `json:"open"`
	}{open})
}

type gFinalUnit struct {
	ID       string  `json:"id"`
	Status   string  `json:"status"`
	Lat      float64 `json:"lat"`
	Lng      float64 `json:"lng"`
	Town     string  `json:"town"`
	Cell     string  `json:"cell"`
	Incident string  `json:"incident"`
	Since    string  `json:"since"`
}

type gFinalDepot struct {
	ID        string         `json:"id"`
	Available map[string]int `json:"available"`
}

// ---------------------------------------------------------------------------
// The driver: what dispatchers, team leaders and terminals do.

type goldenTask struct {
	at       time.Time
	seq      int
	terminal bool // a terminal report: delivered through Process later
	fn       func()
}

type goldenHeap []goldenTask

func (h goldenHeap) Len() int { return len(h) }
func (h goldenHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h goldenHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *goldenHeap) Push(x any)   { *h = append(*h, x.(goldenTask)) }
func (h *goldenHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (r *goldenRun) at(t time.Time, terminal bool, fn func()) {
	r.tseq++
	heap.Push(&r.tasks, goldenTask{at: t, seq: r.tseq, terminal: terminal, fn: fn})
}

func (r *goldenRun) after(d time.Duration, terminal bool, fn func()) {
	r.at(r.now.Add(d), terminal, fn)
}

// secs draws a delay of lo to hi seconds, with milliseconds.
func (r *goldenRun) secs(lo, hi int) time.Duration {
	return time.Duration(lo+r.rng.IntN(hi-lo+1))*time.Second + time.Duration(r.rng.IntN(1000))*time.Millisecond
}

func (r *goldenRun) pick(xs []string) string { return xs[r.rng.IntN(len(xs))] }

// live: the unit is still on the assignment a chain of steps was made for.
func (r *goldenRun) live(unit string, tok int64) bool { return r.token[unit] == tok }

// report queues a terminal report made now.
func (r *goldenRun) report(ev dispatch.UnitEvent) {
	if ev.At.IsZero() {
		ev.At = r.now
	}
	r.inbox = append(r.inbox, ev)
}

func (r *goldenRun) record(id string) *dispatch.IncidentRecord {
	rec, err := r.eng.Incident(r.ctx, "", id)
	if err != nil {
		return nil
	}
	return rec
}

func (r *goldenRun) schedulePeriodic() {
	var esc, fill func()
	esc = func() {
		r.escalate()
		if r.now.Before(r.stop) {
			r.after(time.Minute, false, esc)
		}
	}
	fill = func() {
		r.fill(nil)
		if r.now.Before(r.stop) {
			r.after(5*time.Minute, false, fill)
		}
	}
	r.at(goldenStart.Add(30*time.Second), false, esc)
	r.at(goldenStart.Add(150*time.Second), false, fill)
	clock := func(h, m int) time.Time {
		return goldenStart.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}

	// Deliveries every four hours, and two refused ones.
	for h := 2; h < 24; h += 4 {
		r.at(clock(h, 17), false, func() {
			d, it := r.depots[r.restockN%len(r.depots)], r.items[(r.restockN*5)%len(r.items)]
			r.restockN++
			r.restock(d, it, 10+r.rng.IntN(90))
		})
	}
	r.at(clock(4, 18), false, func() { r.restock(r.depots[0], "unobtainium", 5) }) // an item no depot had: accepted
	r.at(clock(5, 18), false, func() { r.restock("DEP-NOWHERE", r.items[0], 5) })
	r.at(clock(8, 18), false, func() { r.restock(r.depots[1], r.items[0], 0) })

	// Bad terminal reports: an unknown unit, a status with no incident, an
	// illegal change, and a plain out-of-service / back-in-service.
	r.at(clock(6, 0), true, func() {
		u := r.availableUnit("police", 0)
		r.report(dispatch.UnitEvent{UnitID: "NOPE-404", Status: "available"})
		r.report(dispatch.UnitEvent{UnitID: u, Status: "on_scene", Incident: "ZS110-NONE"})
		r.report(dispatch.UnitEvent{UnitID: u, Status: "en_route"})
		r.report(dispatch.UnitEvent{UnitID: u, Status: "flying"})
		r.report(dispatch.UnitEvent{UnitID: u, HasPosition: true, Lat: 95, Lng: 113.4})
	})
	// Units going out of service for a while, and patrols reporting positions.
	for h := 1; h < 24; h += 3 {
		r.at(clock(h, 40), true, func() {
			u := r.availableUnit("", r.rng.IntN(200))
			if u == "" {
				return
			}
			r.report(dispatch.UnitEvent{UnitID: u, Status: "out_of_service"})
			r.after(r.secs(1800, 3600), true, func() {
				p := r.home[u]
				r.report(dispatch.UnitEvent{UnitID: u, Status: "available", HasPosition: true, Lat: p[0], Lng: p[1]})
			})
		})
	}
	for m := 25; m < 24*60; m += 20 {
		r.at(goldenStart.Add(time.Duration(m)*time.Minute), true, func() {
			for k := 0; k < 3; k++ {
				u := r.availableUnit("police", r.rng.IntN(300))
				if u == "" {
					continue
				}
				p := r.home[u]
				r.report(dispatch.UnitEvent{UnitID: u, HasPosition: true,
					Lat: round6(p[0] + (r.rng.Float64()-0.5)*0.01), Lng: round6(p[1] + (r.rng.Float64()-0.5)*0.01)})
			}
		})
	}
	// A redelivered batch of calls: decided before, skipped.
	r.at(clock(12, 0), false, func() {
		r.flush()
		var again []dispatch.Incident
		for _, in := range r.incs[:3] {
			again = append(again, in, in)
		}
		r.process(again, nil)
	})
	// Every command unit goes out of service, two public-disorder calls come
	// in short of command (GOLD-PD-*), the units come back and the queue
	// fills them.
	var command []string
	for _, u := range r.sc.Units {
		if slices.Contains(u.Capabilities, "command") {
			command = append(command, u.ID)
		}
	}
	sort.Strings(command)
	r.at(clock(14, 0), true, func() {
		for _, u := range command {
			r.report(dispatch.UnitEvent{UnitID: u, Status: "out_of_service"})
		}
	})
	r.at(clock(14, 10), false, func() { r.fill([]string{"GOLD-PD-2", "GOLD-PD-1", "NO-SUCH-INCIDENT"}) })
	for i, u := range command {
		back := clock(14, 22)
		if i >= 3 {
			back = clock(15, 30)
		}
		r.at(back, true, func() {
			p := r.home[u]
			r.report(dispatch.UnitEvent{UnitID: u, Status: "available", HasPosition: true, Lat: p[0], Lng: p[1]})
		})
	}
	// Refused console actions.
	r.at(clock(10, 5), false, func() {
		r.act(dispatch.Action{Kind: dispatch.ActConfirm, Incident: "NO-SUCH-INCIDENT"})
		if open := r.eng.Incidents(""); len(open) > 0 {
			id := open[len(open)-1].ID
			r.act(dispatch.Action{Kind: "teleport", Incident: id})
			r.act(dispatch.Action{Kind: dispatch.ActCancel, Incident: id, Reason: "bad\x00reason"})
			r.act(dispatch.Action{Kind: dispatch.ActLocate, Incident: id, Lat: 22.5, Lng: 113.4})
			r.act(dispatch.Action{Kind: dispatch.ActSwap, Incident: id, Unit: "NOPE-1", NewUnit: "NOPE-2"})
			r.act(dispatch.Action{Kind: dispatch.ActCancel, Incident: id, Team: "police"})
		}
	})
}

// availableUnit returns the n-th available unit (of a team, "" any) by id,
// counting round, or "" when there is none.
func (r *goldenRun) availableUnit(team string, n int) string {
	var ids []string
	for _, u := range r.eng.Units("") {
		if u.Status == "available" && (team == "" || u.Team == team) {
			ids = append(ids, u.ID)
		}
	}
	if len(ids) == 0 {
		return ""
	}
	return ids[n%len(ids)]
}

func (r *goldenRun) onEvent(ev dispatch.Event) {
	switch ev.Kind {
	case dispatch.EvAssignment:
		r.token[ev.Unit] = ev.Seq
		r.planAssignment(ev)
	case dispatch.EvAssignmentCancelled:
		delete(r.token, ev.Unit)
	case dispatch.EvIncidentClosed, dispatch.EvIncidentCancelled:
		r.gone[ev.Incident] = true
	case dispatch.EvIncidentRecommended:
		r.planRecommended(ev.Incident)
	case dispatch.EvIncidentDispatched:
		r.planDispatched(ev.Incident)
	case dispatch.EvIncidentManual:
		r.planManual(ev.Incident)
	}
	if typ, ok := r.unknown[ev.Incident]; ok && !r.planned["classify/"+ev.Incident] &&
		(ev.Kind == dispatch.EvIncidentDispatched || ev.Kind == dispatch.EvIncidentRecommended) {
		r.planned["classify/"+ev.Incident] = true
		id := ev.Incident
		bogus := r.rng.IntN(4) == 0
		r.after(r.secs(30, 180), false, func() {
			if r.gone[id] {
				return
			}
			if bogus {
				r.act(dispatch.Action{Kind: dispatch.ActClassify, Incident: id, Type: "x.still.unlisted"})
			}
			r.act(dispatch.Action{Kind: dispatch.ActClassify, Incident: id, Type: typ})
		})
	}
}

var goldenDeclineReasons = []string{"vehicle fault", "crew on break", "已有任务", "road closed <flooded>", "wrong \"district\""}

// planAssignment schedules an assigned unit's work: through its team
// leader's console (accept, en route, on scene, clear) or its terminal
// (status and position reports through Process).
func (r *goldenRun) planAssignment(ev dispatch.Event) {
	var d struct {
		Incident struct {
			Type string  `json:"type"`
			Lat  float64 `json:"lat"`
			Lng  float64 `json:"lng"`
		} `json:"incident"`
		Unit struct {
			Team string  `json:"team"`
			EtaS float64 `json:"eta_s"`
		} `json:"unit"`
	}
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		r.t.Fatalf("assignment event %d: %v", ev.Seq, err)
	}
	a := goldenTrip{unit: ev.Unit, inc: ev.Incident, tok: ev.Seq, lat: d.Incident.Lat, lng: d.Incident.Lng}
	a.eta = time.Duration(math.Min(math.Max(d.Unit.EtaS, 60), 2400)*float64(time.Second)).Round(time.Millisecond) + r.secs(0, 30)
	svc := r.service[d.Incident.Type]
	if svc == 0 {
		svc = 1800
	}
	a.service = time.Duration(svc * (0.3 + 0.8*r.rng.Float64()) * float64(time.Second)).Round(time.Millisecond)
	if r.rng.Float64() < 0.55 {
		if r.rng.IntN(2) == 0 {
			a.team = d.Unit.Team
		}
		r.consoleTrip(a)
	} else {
		r.terminalTrip(a)
	}
}

type goldenTrip struct {
	unit, inc, team string
	tok             int64
	lat, lng        float64
	eta, service    time.Duration
}

func (r *goldenRun) consoleTrip(a goldenTrip) {
	act := func(kind string) (*dispatch.IncidentRecord, error) {
		return r.act(dispatch.Action{Kind: kind, Incident: a.inc, Unit: a.unit, Team: a.team})
	}
	onScene := func() {
		r.after(a.eta, false, func() {
			if !r.live(a.unit, a.tok) {
				return
			}
			if _, err := act(dispatch.ActOnScene); err != nil {
				return
			}
			r.after(a.service, false, func() {
				if r.live(a.unit, a.tok) {
					act(dispatch.ActClear)
				}
			})
		})
	}
	enRoute := func() {
		if !r.live(a.unit, a.tok) {
			return
		}
		if r.rng.IntN(30) == 0 {
			act(dispatch.ActClear) // refused: not on scene yet
		}
		if _, err := act(dispatch.ActEnRoute); err == nil {
			onScene()
		}
	}
	x := r.rng.Float64()
	switch {
	case x < 0.08: // the team leader declines: the engine offers the next unit
		reason := r.pick(goldenDeclineReasons)
		r.after(r.secs(15, 100), false, func() {
			if r.live(a.unit, a.tok) {
				r.act(dispatch.Action{Kind: dispatch.ActDecline, Incident: a.inc, Unit: a.unit, Reason: reason, Team: a.team})
			}
		})
	case x < 0.18: // never accepts, leaves late: escalated
		r.after(r.secs(150, 330), false, enRoute)
	default:
		twice, wrong := r.rng.IntN(20) == 0, r.rng.IntN(60) == 0
		r.after(r.secs(10, 100), false, func() {
			if !r.live(a.unit, a.tok) {
				return
			}
			if wrong {
				r.act(dispatch.Action{Kind: dispatch.ActAccept, Incident: a.inc, Unit: a.unit, Team: "volunteer-x"}) // forbidden
			}
			if _, err := act(dispatch.ActAccept); err != nil {
				return
			}
			if twice {
				act(dispatch.ActAccept) // refused: already accepted
			}
			r.after(r.secs(5, 60), false, enRoute)
		})
	}
}

func (r *goldenRun) terminalTrip(a goldenTrip) {
	report := func(status, inc string, pos bool, lat, lng float64) {
		r.report(dispatch.UnitEvent{UnitID: a.unit, Status: status, Incident: inc, HasPosition: pos, Lat: lat, Lng: lng})
	}
	home := r.home[a.unit]
	x := r.rng.Float64()
	switch {
	case x < 0.06: // the crew cannot go: the terminal says available
		r.after(r.secs(20, 200), true, func() {
			if r.live(a.unit, a.tok) {
				report("available", "", false, 0, 0)
			}
		})
		return
	case x < 0.08: // broken down: out of service for a while
		r.after(r.secs(20, 200), true, func() {
			if !r.live(a.unit, a.tok) {
				return
			}
			report("out_of_service", "", false, 0, 0)
			r.after(r.secs(1200, 2400), true, func() { report("available", "", true, home[0], home[1]) })
		})
		return
	}
	redeliver := r.rng.IntN(25) == 0
	r.after(r.secs(20, 300), true, func() {
		if !r.live(a.unit, a.tok) {
			return
		}
		enRouteAt := r.now
		report("en_route", a.inc, false, 0, 0)
		for k := 1; k <= 2; k++ {
			f := float64(k) / 3
			r.after(time.Duration(float64(a.eta)*f).Round(time.Millisecond), true, func() {
				if r.live(a.unit, a.tok) {
					report("", "", true, round6(home[0]+(a.lat-home[0])*f), round6(home[1]+(a.lng-home[1])*f))
				}
			})
		}
		r.after(a.eta, true, func() {
			if !r.live(a.unit, a.tok) {
				return
			}
			report("on_scene", a.inc, false, 0, 0)
			r.after(a.service, true, func() {
				if !r.live(a.unit, a.tok) {
					return
				}
				report("returning", "", false, 0, 0)
				r.after(r.secs(300, 1200), true, func() {
					if !r.live(a.unit, a.tok) {
						return
					}
					report("available", "", true, home[0], home[1])
					if redeliver { // the terminal sends its old en-route report again: stale
						r.report(dispatch.UnitEvent{UnitID: a.unit, Status: "en_route", Incident: a.inc, At: enRouteAt})
					}
				})
			})
		})
	})
}

// planRecommended schedules a dispatcher's decision on a P3/P4 recommendation.
func (r *goldenRun) planRecommended(id string) {
	if r.planned["rec/"+id] {
		return
	}
	r.planned["rec/"+id] = true
	// The dispatcher confirms what the console showed when the
	// recommendation arrived; told it changed since, they confirm the new one.
	saw := 0
	if rec, err := r.eng.Incident(r.ctx, "", id); err == nil {
		saw = rec.Version
	}
	confirm := func(d time.Duration) {
		r.after(d, false, func() {
			if r.gone[id] {
				return
			}
			if _, err := r.act(dispatch.Action{Kind: dispatch.ActConfirm, Incident: id, Version: saw}); errors.Is(err, dispatch.ErrChanged) {
				if rec, err := r.eng.Incident(r.ctx, "", id); err == nil {
					r.act(dispatch.Action{Kind: dispatch.ActConfirm, Incident: id, Version: rec.Version})
				}
			}
		})
	}
	x := r.rng.Float64()
	switch {
	case x < 0.60:
		confirm(r.secs(20, 150))
	case x < 0.77: // swap the first unit (to 0.70), or add one, then confirm
		kind := dispatch.ActSwap
		if x >= 0.70 {
			kind = dispatch.ActAdd
		}
		r.after(r.secs(20, 90), false, func() {
			if !r.gone[id] {
				r.changeUnits(id, kind, 0)
				confirm(r.secs(10, 60))
			}
		})
	case x < 0.85:
		reason := r.pick([]string{"caller withdrew", "duplicate of an earlier call", "resolved by phone"})
		r.after(r.secs(30, 400), false, func() {
			if !r.gone[id] {
				r.act(dispatch.Action{Kind: dispatch.ActCancel, Incident: id, Reason: reason})
			}
		})
	case x < 0.92: // confirmed late: the recommended units may have gone
		confirm(r.secs(900, 2700))
	case x < 0.96: // confirmed twice: the second is refused
		d := r.secs(20, 150)
		confirm(d)
		confirm(d + time.Second)
	default: // left waiting until the end of the day
	}
}

// planDispatched sometimes changes a dispatched incident: cancel, swap, add.
func (r *goldenRun) planDispatched(id string) {
	if r.planned["disp/"+id] {
		return
	}
	r.planned["disp/"+id] = true
	x := r.rng.Float64()
	switch {
	case x < 0.03:
		r.after(r.secs(60, 900), false, func() {
			if !r.gone[id] {
				r.act(dispatch.Action{Kind: dispatch.ActCancel, Incident: id, Reason: "false alarm"})
			}
		})
	case x < 0.07:
		n := r.rng.IntN(8)
		r.after(r.secs(15, 120), false, func() {
			if !r.gone[id] {
				r.changeUnits(id, dispatch.ActSwap, n)
			}
		})
	case x < 0.10:
		r.after(r.secs(15, 120), false, func() {
			if !r.gone[id] {
				r.changeUnits(id, dispatch.ActAdd, 0)
			}
		})
	}
}

// changeUnits swaps the n-th unit of an incident for an alternate, or adds
// one: the first alternate for its requirement that is not on the incident
// (it may have been taken since: the engine refuses it).
func (r *goldenRun) changeUnits(id, kind string, n int) {
	rec := r.record(id)
	if rec == nil || rec.Rec == nil || len(rec.Rec.Units) == 0 {
		return
	}
	p := rec.Rec.Units[n%len(rec.Rec.Units)]
	alt := ""
	for _, c := range rec.Rec.Alternates[p.Requirement] {
		if !slices.ContainsFunc(rec.Rec.Units, func(q dispatch.UnitPick) bool { return q.UnitID == c.UnitID }) {
			alt = c.UnitID
			break
		}
	}
	if alt == "" {
		return
	}
	a := dispatch.Action{Kind: kind, Incident: id, NewUnit: alt}
	if kind == dispatch.ActSwap {
		a.Unit = p.UnitID
	}
	r.act(a)
}

// planManual schedules a dispatcher's handling of a manual incident: locate
// it (once with an impossible location first, sometimes), or cancel it.
func (r *goldenRun) planManual(id string) {
	if r.planned["manual/"+id] {
		return
	}
	r.planned["manual/"+id] = true
	if p, ok := r.noLoc[id]; ok {
		bad := r.rng.IntN(4) == 0
		r.after(r.secs(60, 240), false, func() {
			if r.gone[id] {
				return
			}
			if bad {
				r.act(dispatch.Action{Kind: dispatch.ActLocate, Incident: id, Lat: 123, Lng: p[1]})
			}
			// by the id's last digit (no draw of the generator): typed, a click
			// on the map, or a place of the gazetteer
			a := dispatch.Action{Kind: dispatch.ActLocate, Incident: id, Lat: p[0], Lng: p[1]}
			switch id[len(id)-1] % 3 {
			case 1:
				a.Source = dispatch.LocatedMap
			case 2:
				a = dispatch.Action{Kind: dispatch.ActLocate, Incident: id, Source: dispatch.LocatedPlace, Place: "place:qijiang-bridge"}
			}
			r.act(a)
		})
		return
	}
	// Invalid records: the dispatcher tries the location it has, then cancels.
	r.after(r.secs(60, 300), false, func() {
		if r.gone[id] {
			return
		}
		if rec := r.record(id); rec != nil && rec.Lat != 0 {
			r.act(dispatch.Action{Kind: dispatch.ActLocate, Incident: id, Lat: rec.Lat, Lng: rec.Lng})
		}
		r.after(r.secs(300, 900), false, func() {
			if !r.gone[id] {
				r.act(dispatch.Action{Kind: dispatch.ActCancel, Incident: id, Reason: "record unusable"})
			}
		})
	})
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// ---------------------------------------------------------------------------
// The golden file.

func readGolden() ([]byte, error) {
	f, err := os.Open(goldenFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", goldenFile, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", goldenFile, err)
	}
	return b, nil
}

func writeGolden(t *testing.T, b []byte) {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(goldenFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goldenFile, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// compareGolden fails at the first line that differs, showing both lines
// around the first differing byte and the engine call the line belongs to.
func compareGolden(t *testing.T, want, got []byte) {
	t.Helper()
	if bytes.Equal(want, got) {
		return
	}
	wl := bytes.Split(bytes.TrimSuffix(want, []byte("\n")), []byte("\n"))
	gl := bytes.Split(bytes.TrimSuffix(got, []byte("\n")), []byte("\n"))
	i := 0
	for i < len(wl) && i < len(gl) && bytes.Equal(wl[i], gl[i]) {
		i++
	}
	var w, g []byte
	if i < len(wl) {
		w = wl[i]
	}
	if i < len(gl) {
		g = gl[i]
	}
	pos := 0
	for pos < len(w) && pos < len(g) && w[pos] == g[pos] {
		pos++
	}
	call := "(none)"
	for j := i; j >= 0; j-- {
		if j < len(wl) && bytes.HasPrefix(wl[j], []byte(`{"step":`)) {
			call = fmt.Sprintf("line %d: %s", j+1, clip(wl[j], 0, 240))
			break
		}
	}
	missing := func(l []byte, n int) string {
		if i >= n {
			return "<no such line: the recording ends here>"
		}
		return clip(l, pos, 300)
	}
	t.Fatalf("protocol differs from %s at line %d (golden %d lines, now %d), byte %d of the line\n"+
		"engine call: %s\n"+
		"golden: %s\n"+
		"now:    %s\n"+
		"(if the change is intended: go test ./dispatch -run TestGolden -update)",
		goldenFile, i+1, len(wl), len(gl), pos, call, missing(w, len(wl)), missing(g, len(gl)))
}

// clip returns up to n bytes of l around byte pos.
func clip(l []byte, pos, n int) string {
	from := max(0, pos-n/3)
	to := min(len(l), from+n)
	s := string(l[from:to])
	if from > 0 {
		s = "…" + s
	}
	if to < len(l) {
		s += "…"
	}
	return s
}
