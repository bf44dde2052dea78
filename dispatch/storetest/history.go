package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/zs110/dispatch/dispatch"
)

// testHistory: history entries round-trip in the order written, per drill;
// a refused batch writes none; an unknown incident is ErrNotFound.
func testHistory(t *testing.T, s Store) {
	defer s.Close()
	ctx := context.Background()
	seed(t, s, "")
	seed(t, s, "typhoon")
	h := func(drill, what, by string, v int, sec int) dispatch.HistoryEntry {
		return dispatch.HistoryEntry{Incident: "H", Drill: drill, At: t0.Add(time.Duration(sec) * time.Second), By: by, What: what,
			Version: v, State: dispatch.StateDispatched}
	}
	d := decision("", "H", "U1")
	d.History = []dispatch.HistoryEntry{h("", dispatch.HistDecided, "", 1, 0),
		{Incident: "H", At: t0, By: "", What: dispatch.HistUnitStatus, Version: 1, State: dispatch.StateDispatched, Unit: "U1", From: "available", To: "dispatched"}}
	dt := decision("typhoon", "H", "U1")
	dt.History = []dispatch.HistoryEntry{h("typhoon", dispatch.HistDecided, "", 1, 0)}
	if err := s.Apply(ctx, []*dispatch.Outcome{d, dt}); err != nil {
		t.Fatal(err)
	}
	up := update("", "H", 1, 2)
	conf := h("", dispatch.ActCancel, "王伟", 2, 5)
	conf.Role, conf.Reason = dispatch.RoleDispatcher, `误报 <b>"引号"</b>`
	up.History = []dispatch.HistoryEntry{conf}
	if err := s.Apply(ctx, []*dispatch.Outcome{up}); err != nil {
		t.Fatal(err)
	}
	// Refused (decided twice): none of its history is kept.
	again := decision("", "H", "U2")
	again.History = []dispatch.HistoryEntry{h("", "ghost", "x", 1, 9)}
	if err := s.Apply(ctx, []*dispatch.Outcome{again}); !errors.Is(err, dispatch.ErrConflict) {
		t.Fatalf("second decision: %v", err)
	}
	got, err := s.History(ctx, "", "H")
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]dispatch.HistoryEntry{}, d.History...), conf)
	for i := range got {
		got[i].At = got[i].At.UTC()
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("history\n got %+v\nwant %+v", got, want)
	}
	if got, err := s.History(ctx, "typhoon", "H"); err != nil || len(got) != 1 || got[0].Drill != "typhoon" {
		t.Errorf("drill history %+v, %v", got, err)
	}
	if _, err := s.History(ctx, "", "NOPE"); !errors.Is(err, dispatch.ErrNotFound) {
		t.Errorf("unknown incident: %v", err)
	}
	if err := s.Apply(ctx, []*dispatch.Outcome{decision("", "QUIET", "U3")}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.History(ctx, "", "QUIET"); err != nil || got == nil || len(got) != 0 {
		t.Errorf("incident without history: %+v, %v (want empty, not nil)", got, err)
	}
}
