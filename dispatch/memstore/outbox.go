package memstore

import (
	"slices"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/wire"
)

// outbox is the in-memory outbox: records in the order they were added,
// each with an id, until they are marked sent. Its owner's lock guards it.
type outbox struct {
	recs []dispatch.OutboxRecord
	seq  int64
	keep int   // 0: no bound
	lost int64 // records dropped by the bound
}

// add sets r.ID and queues r, dropping the oldest record beyond keep. It
// keeps r.Value as it is: the caller must not change it afterwards.
func (o *outbox) add(r *dispatch.OutboxRecord) {
	o.seq++
	r.ID = o.seq
	if o.keep > 0 && len(o.recs) >= o.keep {
		o.recs = o.recs[1:]
		o.lost++
	}
	o.recs = append(o.recs, *r)
}

// pending returns up to limit unsent records, oldest first, their values
// written by enc where the engine gave only the message.
func (o *outbox) pending(limit int, enc *wire.Encoder) []dispatch.OutboxRecord {
	recs := o.recs[:max(0, min(limit, len(o.recs)))]
	for i := range recs {
		if recs[i].Value == nil && recs[i].Record != nil {
			recs[i].Value = enc.AssignmentValue(&recs[i])
		}
	}
	return slices.Clone(recs)
}

// markSent removes the records with these ids.
func (o *outbox) markSent(ids []int64) {
	sent := make(map[int64]bool, len(ids))
	for _, id := range ids {
		sent[id] = true
	}
	o.recs = slices.DeleteFunc(o.recs, func(r dispatch.OutboxRecord) bool { return sent[r.ID] })
}
