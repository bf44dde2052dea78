package wire_test

import (
	"testing"

	"github.com/zs110/dispatch/dispatch/hostile"
	"github.com/zs110/dispatch/dispatch/wire"
)

// engineReasons are given by the engine, not the decoder: the decoder must
// accept these records.
var engineReasons = map[string]bool{wire.ReasonUnknownUnit: true, wire.ReasonIllegal: true}

// TestHostileCorpusDecoders replays the hostile corpus against the decoders.
func TestHostileCorpusDecoders(t *testing.T) {
	for _, c := range hostile.Incidents() {
		t.Run(c.Name, func(t *testing.T) {
			inc, err := wire.DecodeIncident(c.Record)
			want := c.Reason
			if c.DecodeReason != "" {
				want = c.DecodeReason
			}
			if got := reasonOf(err); got != want {
				t.Fatalf("reason %q (%v), want %q", got, err, want)
			}
			if inc.ID != c.ID {
				t.Fatalf("id %q, want %q", inc.ID, c.ID)
			}
			if err != nil && inc.ID != "" && inc.Invalid == "" {
				t.Fatal("a refused record that names an incident must be marked invalid (manual)")
			}
			got := map[string]string{"address": inc.Address, "description": inc.Description, "caller": inc.Caller}
			for f, v := range c.Text {
				if got[f] != v {
					t.Errorf("%s %q, want %q verbatim", f, got[f], v)
				}
			}
		})
	}
	for _, c := range hostile.UnitEvents("ENG-SHIQI-01") {
		t.Run(c.Name, func(t *testing.T) {
			_, err := wire.DecodeUnitEvent(c.Record)
			want := c.Reason
			if c.DecodeReason != "" {
				want = c.DecodeReason
			}
			if engineReasons[want] {
				want = ""
			}
			if got := reasonOf(err); got != want {
				t.Fatalf("reason %q (%v), want %q", got, err, want)
			}
		})
	}
}

func reasonOf(err error) string {
	if err == nil {
		return ""
	}
	return wire.ReasonOf(err)
}
