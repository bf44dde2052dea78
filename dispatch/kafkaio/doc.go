// Package kafkaio is the Kafka adapter of the dispatch engine, built on
// github.com/segmentio/kafka-go:
//
//   - Consumer reads the incidents and unit-events topics in a consumer
//     group, decodes each record (wire.DecodeIncident,
//     wire.DecodeUnitEvent), hands a batch to a Handler that returns
//     once the decisions are durable, writes refused records to the
//     dead-letter topic with their reason, and only then commits the offsets
//     (FetchMessage + CommitMessages; a new group starts at the first
//     offset). A crash anywhere before the commit redelivers the batch; the
//     engine's store makes the redelivery a no-op.
//   - Relay publishes the transactional outbox (records written in the same
//     store transaction as the decision) to the assignments topic with
//     RequiredAcks=all, and deletes them only after the broker acknowledged.
//     Delivery is at least once; consumers deduplicate by the record key
//     (the incident id) and the "version" field of the value.
//   - Security (from SecurityConfig) gives every connection above, and the
//     drills' source and sink, their TLS and SASL (PLAIN, SCRAM-SHA-256,
//     SCRAM-SHA-512); Check and EnsureTopics explain a refused connection
//     (wrong password, TLS mismatch, untrusted certificate) with ErrSecurity.
//   - StartEmbedded runs an in-process Kafka-protocol broker
//     (github.com/twmb/franz-go/pkg/kfake) for `make run` and tests;
//     EnsureTopics creates missing topics on a real cluster.
//
// The package knows nothing of SQL or HTTP; it sees the engine through the
// Handler interface and the store through the Outbox interface.
package kafkaio
