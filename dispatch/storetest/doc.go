// Package storetest is the conformance suite every dispatch.Store passes:
// dispatch/memstore and dispatch/pgstore run it in their tests, so the
// engine sees the same behaviour from both (idempotent decisions, unit
// claims, stock reservations, event seqs in commit order, drill isolation,
// outbox, all-or-nothing batches).
package storetest
