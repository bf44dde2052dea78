package memstore

import (
	"slices"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/wire"
)

// Outbox is an in-memory outbox: records in the order they were added, each
// with an id, until they are marked sent. It is not safe for concurrent use:
// its owner's lock guards it (Store's, the drill store's).
type Outbox struct {
	recs []dispatch.OutboxRecord
	seq  int64
	keep int   // 0: no bound
	copy bool  // copy values on Add
	lost int64 // records dropped by the bound
}

// NewOutbox returns an outbox that keeps at most keep unsent records,
// dropping the oldest beyond (0: no bound). With copyValues, Add keeps a
// copy of each value; without, the caller must not change it afterwards.
func NewOutbox(keep int, copyValues bool) *Outbox { return &Outbox{keep: keep, copy: copyValues} }

// Add sets r.ID and queues r.
func (o *Outbox) Add(r *dispatch.OutboxRecord) {
	o.seq++
	r.ID = o.seq
	c := *r
	if o.copy {
		c.Value = slices.Clone(r.Value)
	}
	if o.keep > 0 && len(o.recs) >= o.keep {
		o.recs = o.recs[1:]
		o.lost++
	}
	o.recs = append(o.recs, c)
}

// Pending returns up to limit unsent records, oldest first (dispatch.Store),
// their values written by enc where the engine gave only the message.
func (o *Outbox) Pending(limit int, enc *wire.Encoder) []dispatch.OutboxRecord {
	recs := o.recs[:max(0, min(limit, len(o.recs)))]
	for i := range recs {
		if recs[i].Value == nil && recs[i].Message != nil {
			recs[i].Value = enc.AssignmentValue(recs[i].Message)
		}
	}
	return slices.Clone(recs)
}

// MarkSent removes the records with these ids (dispatch.Store).
func (o *Outbox) MarkSent(ids []int64) {
	sent := make(map[int64]bool, len(ids))
	for _, id := range ids {
		sent[id] = true
	}
	o.recs = slices.DeleteFunc(o.recs, func(r dispatch.OutboxRecord) bool { return sent[r.ID] })
}

// Dropped returns how many unsent records the bound dropped.
func (o *Outbox) Dropped() int64 { return o.lost }
