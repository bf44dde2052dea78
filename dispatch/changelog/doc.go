// Package changelog is what a store's Changes (dispatch.Store) gathers from
// its event log for an engine that follows it: the units, incidents and stock
// the events of other writers name, beside those dispatch.Want asks for, with
// the caller's own writes (Want.Skip) left out. memstore and pgstore share it so
// that both read the log by the same rules.
package changelog
