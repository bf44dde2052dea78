// Package wire owns the engine's formats on the outside: the strict
// decoders of incident and unit-event records (DecodeIncident,
// DecodeUnitEvent) with their dead-letter reasons (Reason*, ReasonOf,
// DecodeError), and the JSON the engine's typed values are written as: the
// data of console events (dispatch.Event.Body) and the value of assignment
// records (AssignmentMessage, from the record an outbox entry holds). Encoder writes exactly the bytes
// encoding/json writes for them, faster (encode_test.go pins every field).
//
// The engine never encodes: a store that persists events encodes them in
// Apply (dispatch/pgstore), an in-memory one when a console or the relay
// reads them (dispatch/memstore), and a drill nobody watches never does.
package wire
