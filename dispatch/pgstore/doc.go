// Package pgstore is the PostgreSQL dispatch.Store, on a pgx/v5 pool.
//
// Schema: embedded versioned migrations (migrations/*.sql) applied by New
// with golang-migrate (pgx/v5 database driver, iofs source). They are
// forward-only; golang-migrate holds a PostgreSQL advisory lock while it
// migrates, so two processes starting at once, or one starting twice, is
// safe. The DDL says which constraint enforces which invariant:
//
//   - incidents (drill, id) primary key: an incident is decided once per
//     drill (the idempotency guarantee; Outcome.NewIncident is a plain INSERT);
//     a later change is an UPDATE only where the row is still at the version
//     the engine read (Outcome.BaseVersion): two engines sharing the
//     database cannot overwrite each other's changes;
//   - units: one row per (drill, unit), a CHECK tying an active status to
//     exactly one incident, and rows locked FOR UPDATE by Apply so a
//     concurrent claim on the same unit sees the winner and fails;
//   - stock CHECK (reserved >= 0 AND reserved <= on_hand AND on_hand >= 0):
//     stock never overdrawn; reservations (drill, id) primary key: a
//     reservation id is used once;
//   - event_seq, a one-row counter updated inside Apply's transaction:
//     event seqs are assigned in commit order, so a reader tailing
//     EventsAfter never misses an event (and LastSeq tells an engine
//     whether anybody else has written);
//   - unit_status_history ordered by a write-order id (rows are inserted
//     under the unit's row lock);
//   - outbox_lease, one row: the instance holding an unexpired lease is the
//     only outbox relay (LockOutbox).
//
// Every call is bounded by Config.Timeout; a call the timeout ends drops the
// pooled connections, so a path to the database that hangs becomes errors
// the engine retries, not a stall.
//
// Apply is one transaction of a fixed number of round trips whatever the
// batch size: set-based INSERTs over unnest arrays, one pgx.Batch for the
// stock movements, COPY for unit history and events. Rows are touched in key
// order so concurrent batches do not deadlock.
package pgstore
