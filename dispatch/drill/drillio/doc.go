// Package drillio reads and writes drill streams on Kafka topics: a Sink
// produces a synthetic stream (the incident schema of docs/protocol.md,
// keyed by incident id, timestamped with reported_at), and a Source reads a
// topic back, whole or by offset or time range, merging its partitions in
// reported_at order, as a drill.Source. For the drill commands, Open opens
// the stream a replay reads (a kafka://TOPIC address, a JSON-lines file or
// standard input) and WriteReport writes a report's JSON, SVG plots and
// text.
package drillio
