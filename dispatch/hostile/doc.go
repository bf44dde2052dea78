// Package hostile is the corpus of hostile input that the tests replay:
// incident and unit-event records with invalid UTF-8, NaN and infinite
// coordinates, a 10 MB record, deeply nested JSON, duplicate keys, NUL
// characters, and SQL and script text in every free-text field.
//
// Each case says what must happen to it: refused with a dead-letter reason
// (and, when the record still names an incident, shown to dispatchers as a
// call for manual handling), or accepted with its text kept byte for byte.
// dispatch's decoder tests replay it against the decoders, cmd/dispatchd's
// end-to-end test through Kafka, the engine and PostgreSQL to the consoles.
// It is test support: nothing in the engine imports it.
package hostile
