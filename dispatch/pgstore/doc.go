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
//   - units: one row per (drill, unit), a CHECK tying an active status to
//     exactly one incident, and rows locked FOR UPDATE by Apply so a
//     concurrent claim on the same unit sees the winner and fails;
//   - stock CHECK (reserved >= 0 AND reserved <= on_hand AND on_hand >= 0):
//     stock never overdrawn; reservations (drill, id) primary key: a
//     reservation id is used once;
//   - event_seq, a one-row counter updated inside Apply's transaction:
//     event seqs are assigned in commit order, so a reader tailing
//     EventsAfter never misses an event.
//
// Apply is one transaction of a fixed number of round trips whatever the
// batch size: set-based INSERTs over unnest arrays, one pgx.Batch for the
// stock movements, COPY for unit history and events. Rows are touched in key
// order so concurrent batches do not deadlock.
package pgstore
