// Package memstore is the in-memory dispatch.Store: the same observable
// behaviour as dispatch/pgstore (checked by dispatch/storetest), with nothing
// kept across a restart of the process. It is what `make run`, the engine
// tests and the drills (dispatch/drill) use.
//
// One mutex guards everything. Apply validates the whole batch against the
// stored state and the batch's own earlier outcomes before it mutates
// anything, so a refused batch (dispatch.ErrConflict) writes nothing: the
// rules are those pgstore's constraints enforce (see
// dispatch/pgstore/migrations/0001_init.up.sql and teams.UnitChange.Check),
// the incident version check included. Stock is a resources.Ledger per
// drill, whose Check is the stock rules; its errors come wrapped with
// dispatch.ErrConflict, so both errors.Is(err, dispatch.ErrConflict) and
// errors.Is(err, resources.ErrInsufficient) (and the ledger's other
// sentinels) hold.
//
// Apply keeps the incident records, events and outbox records as the engine
// hands them over (frozen copies, typed bodies), not as JSON: the JSON of an
// event or outbox record is written (dispatch/wire) when it is first read,
// so a drill nobody watches never encodes; and Load and Incident return deep copies
// (IncidentRecord.Clone), Incident.HasLocation included. Config bounds the
// history, so that a year of drill calls fits in memory: the newest
// KeepEvents console events, KeepOutbox unsent outbox records (the older
// ones dropped and counted by DroppedOutbox) and KeepClosed closed
// incidents; the current state (units, stock, reservations, open incidents,
// every decided id) is always kept whole. New(Config{}) keeps everything.
package memstore
