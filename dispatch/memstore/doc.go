// Package memstore is the in-memory dispatch.Store: the same observable
// behaviour as dispatch/pgstore (checked by dispatch/storetest), with nothing
// kept across a restart of the process. It is what `make run` and the engine
// tests use.
//
// One mutex guards everything. Apply validates the whole batch against the
// stored state and the batch's own earlier outcomes before it mutates
// anything, so a refused batch (dispatch.ErrConflict) writes nothing: the
// rules are those pgstore's constraints enforce (see
// dispatch/pgstore/migrations/0001_init.up.sql and teams.UnitChange.Check),
// the incident version check included. Outbox, its in-memory outbox queue,
// also serves the drill store.
package memstore
