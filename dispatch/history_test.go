package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
)

// TestHistory: every change of an incident is kept with who, when and
// what — the engine's decision, each person's action (named by the token),
// each unit status change (by the person who caused it, or the terminal) —
// in order; a refused action leaves nothing.
func TestHistory(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	f.process(inc("H", "suspicious", shiqiLat, shiqiLng, t0))
	h0 := f.get("H")
	if h0.State != dispatch.StateAwaiting {
		t.Fatalf("P3 not awaiting: %s", h0.State)
	}
	first := h0.Rec.Units[0].UnitID
	desk := func(a dispatch.Action) {
		t.Helper()
		f.now = f.now.Add(time.Minute)
		a.Incident, a.By, a.Role = "H", "王伟", dispatch.RoleDispatcher
		if _, err := f.act(a); err != nil {
			t.Fatalf("%s: %v", a.Kind, err)
		}
	}
	desk(dispatch.Action{Kind: dispatch.ActConfirm, Version: h0.Version})
	// a free patrol unit to add
	extra := ""
	for _, u := range f.eng.Units("") {
		if u.Status == "available" && slices.Contains(u.Capabilities, "patrol") && u.ID != first {
			extra = u.ID
			break
		}
	}
	desk(dispatch.Action{Kind: dispatch.ActAdd, NewUnit: extra})
	// refused: leaves no trace
	if _, err := f.act(dispatch.Action{Kind: dispatch.ActConfirm, Incident: "H", By: "王伟", Role: dispatch.RoleDispatcher}); !errors.Is(err, dispatch.ErrBadAction) {
		t.Fatalf("second confirm: %v", err)
	}
	f.now = f.now.Add(time.Minute)
	team := ""
	for _, u := range f.eng.Units("") {
		if u.ID == extra {
			team = u.Team
		}
	}
	if _, err := f.act(dispatch.Action{Kind: dispatch.ActDecline, Incident: "H", Unit: extra, Reason: "车辆故障", By: "李队", Team: team, Role: dispatch.RoleTeamLeader}); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	report(t, f.eng, first, "en_route", "H", f.now)
	desk(dispatch.Action{Kind: dispatch.ActCancel, Reason: "误报"})

	hs, err := f.eng.History(ctx, "", "H")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, h := range hs {
		line := fmt.Sprintf("%s %s", h.What, h.By)
		if h.Unit != "" && h.What == dispatch.HistUnitStatus {
			line += fmt.Sprintf(" %s %s>%s", h.Unit, h.From, h.To)
		}
		got = append(got, line)
		if h.Incident != "H" || h.At.IsZero() || h.State == "" || h.Version < 1 {
			t.Errorf("entry %d incomplete: %+v", i, h)
		}
		if i > 0 && (h.Version < hs[i-1].Version || h.At.Before(hs[i-1].At)) {
			t.Errorf("entry %d out of order: %+v after %+v", i, h, hs[i-1])
		}
	}
	text := strings.Join(got, "\n")
	t.Logf("history of H:\n%s", text)
	for _, want := range []string{
		"decided ",
		"confirm 王伟",
		fmt.Sprintf("unit_status 王伟 %s available>dispatched", first),
		"add 王伟",
		fmt.Sprintf("unit_status 王伟 %s available>dispatched", extra),
		"decline 李队",
		fmt.Sprintf("unit_status 李队 %s dispatched>available", extra),
		fmt.Sprintf("unit_status terminal %s dispatched>en_route", first),
		"cancel 王伟",
		fmt.Sprintf("unit_status 王伟 %s en_route>available", first),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("history lacks %q:\n%s", want, text)
		}
	}
	if hs[0].What != dispatch.HistDecided || hs[0].State != dispatch.StateAwaiting || !hs[0].At.Equal(t0) {
		t.Errorf("first entry %+v", hs[0])
	}
	last := hs[len(hs)-1]
	if last.State != dispatch.StateCancelled {
		t.Errorf("last entry %+v, want the cancelled state", last)
	}
	for _, h := range hs {
		if h.What == dispatch.ActDecline && (h.Reason != "车辆故障" || h.Unit != extra || h.Role != dispatch.RoleTeamLeader) {
			t.Errorf("decline entry %+v", h)
		}
		if h.What == dispatch.ActAdd && h.NewUnit != extra {
			t.Errorf("add entry %+v", h)
		}
	}
	if n := strings.Count(text, "confirm "); n != 1 {
		t.Errorf("%d confirms in the history (one refused):\n%s", n, text)
	}
	if _, err := f.eng.History(ctx, "", "NOPE"); !errors.Is(err, dispatch.ErrNotFound) {
		t.Errorf("unknown incident: %v", err)
	}
	// The store keeps it: a restarted engine reads the same.
	f.restart()
	again, err := f.eng.History(ctx, "", "H")
	if err != nil || len(again) != len(hs) {
		t.Errorf("after restart %d entries (%v), want %d", len(again), err, len(hs))
	}
}
