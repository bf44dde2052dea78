// Package dispatch is the core of the 110 emergency dispatch engine: the
// ranker and the Engine around one write step. It knows nothing of Kafka,
// SQL, HTTP or JSON on the wire; the adapters live in sub-packages.
//
// What it owns:
//
//   - State and Rank, the ranker: the world of one engine (a teams.Fleet of
//     units with their exact spatial indices per capability, the
//     inventory, the travel-time rule geo.Travel, the targets) and Rank, which turns a plan
//     and a point into recommended units, alternates, depots to draw
//     materials from and shortfalls. The brute-force search is the oracle
//     the indexed one is tested against; BenchmarkRank is the figure in
//     docs/benchmarks.md.
//   - Engine: every change is one function given to one write step
//     (step.go: lock, change, commit through the Store, retry on conflict or
//     stale memory, publish the read views, notify): deciding incidents
//     (idempotently: an incident id is decided once per world), linking
//     duplicate calls, unit reports through the team state machine, console
//     actions (confirm, swap, add, cancel, accept, decline, clear,
//     escalate, returning, available, relocate...) checked against the one
//     role -> action table (Role), escalation of assignments nobody accepted
//     (Escalator), the live queue (queue.go: re-ranking waiting
//     recommendations whose unit was taken, giving freed units to the
//     incidents still missing units), move-up (moveup.go, DMEXCLP) and
//     diversion (divert.go), restocking. Reads (Incidents, Incident, Units,
//     Depots) answer from views published after each commit (view.go) and
//     never wait on the store. Drills run in isolated worlds beside the
//     live one.
//   - Travel times (travel.go): the units' trips to scenes, from their
//     reports (Trip, in Outcome.Trips), which the State learns corrections
//     from and the stores keep (Snapshot.Travel); Engine.ETA answers GET
//     /api/eta from the read view.
//   - The records the engine takes and gives (Incident, UnitEvent, Action,
//     IncidentRecord, Event with its typed EventBody, OutboxRecord, Outcome) and the Store interface.
//
// Beside it:
//
//   - dispatch/scenario: the city as data (the embedded Zhongshan default,
//     loader, validation, generator);
//   - dispatch/wire: the decoders of outside records, dead-letter reasons,
//     and the JSON of events and assignment records;
//   - dispatch/kafkaio: the Kafka consumer of incidents and unit events, the
//     relay of the transactional outbox, the embedded broker;
//   - dispatch/pgstore: the PostgreSQL Store (embedded migrations), and the
//     PostGIS comparison row of the ranker benchmark;
//   - dispatch/memstore: the in-memory Store (make run, tests, drills);
//   - dispatch/storetest: the conformance suite both stores pass;
//   - dispatch/drill: synthetic call streams, drill replays under a simulated
//     clock, and response-time reports.
package dispatch
