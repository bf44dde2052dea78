package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/wire"
)

// TestStaleUnitReports: a unit's reports for an incident it has left (an
// at-least-once terminal resending, or intake redelivering a batch after a
// crash or a broker restart) must not move or clear the unit on the
// incident it is on now. Found by TestBrokerRestart: before the fix the
// engine applied "en_route/on_scene/available for A" to the unit's new
// incident B, closing B without anyone going there.
func TestStaleUnitReports(t *testing.T) {
	brokers := startBroker(t)
	h := startEngine(t, brokers, "", func(c *config) { c.ConfirmFrom, c.LinkRadiusM = 5, -1 })
	defer h.stop()
	at := time.Now()
	produce(t, brokers, "incidents", []kafka.Message{incidentMsg("STALE-A", "medical", 22.52, 113.38, at)})
	var first wire.AssignmentMessage
	if err := json.Unmarshal(readTopic(t, brokers, "assignments", 1)[0].Value, &first); err != nil || len(first.Units) != 1 {
		t.Fatalf("assignment of A: %v %+v", err, first)
	}
	unit := first.Units[0].UnitID
	report := func(status string, at time.Time) kafka.Message {
		return kafka.Message{Key: []byte(unit), Value: fmt.Appendf(nil, `{"unit_id":%q,"at":%q,"status":%q,"incident":"STALE-A"}`,
			unit, at.Format(time.RFC3339Nano), status)}
	}
	reports := []kafka.Message{report("en_route", at.Add(time.Second)), report("on_scene", at.Add(2*time.Second)), report("available", at.Add(3*time.Second))}
	produce(t, brokers, "unit-events", reports)
	pollUntil(t, 30*time.Second, "A closed", func() bool { return h.incident(t, "STALE-A").State == dispatch.StateClosed })
	// B at the same place: the unit, on scene there a moment ago, is the closest.
	produce(t, brokers, "incidents", []kafka.Message{incidentMsg("STALE-B", "medical", 22.52, 113.38, at.Add(time.Minute))})
	pollUntil(t, 30*time.Second, "B decided", func() bool {
		req, err := http.NewRequest("GET", "http://"+h.cfg.HTTPAddr+"/api/incidents/STALE-B", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+h.tokens["dispatcher"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	b := h.incident(t, "STALE-B")
	if len(b.Assigned) != 1 || b.Assigned[0] != unit {
		t.Skipf("B got %v, not %s: the scenario changed; pick another place", b.Assigned, unit)
	}
	produce(t, brokers, "unit-events", reports) // the same three reports again
	pollUntil(t, time.Minute, "the repeated reports consumed", func() bool {
		var off map[int]int64
		err := withTimeout(5*time.Second, func(ctx context.Context) (err error) {
			off, err = committedOffsets(ctx, brokers, h.cfg.GroupID, "unit-events")
			return err
		})
		return err == nil && sumOffsets(off) >= int64(2*len(reports))
	})
	b = h.incident(t, "STALE-B")
	if b.State != dispatch.StateDispatched || len(b.Assigned) != 1 || b.Assigned[0] != unit || len(b.Declined) > 0 || !b.FirstOnSceneAt.IsZero() {
		t.Fatalf("stale reports for A changed B: state %s, assigned %v, declined %v, on scene at %v", b.State, b.Assigned, b.Declined, b.FirstOnSceneAt)
	}
}
