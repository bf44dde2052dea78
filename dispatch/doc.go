// Package dispatch is the core of the 110 emergency dispatch engine: the
// scenario, the ranker and the engine. It knows nothing of Kafka, SQL or
// HTTP; those adapters live in sub-packages.
//
// What it owns:
//
//   - Scenario: the city as data (towns, the 13 teams of "1+10+2", stations,
//     units and their capabilities, depots and stock, the incident catalogue
//     with response plans and priorities, response-time targets, the ETA
//     model). DefaultScenario is the embedded Zhongshan default;
//     LoadScenario and ParseScenario read and validate a file;
//     GenerateScenario makes a synthetic city of any size (benchmarks, drills).
//   - State and Rank, the ranker: State is the ranker's world (live, or one
//     drill): its teams.Fleet (unit status and position, one exact
//     spatial index of available units per capability: H3 cells by default,
//     an R-tree or a plain loop as baselines; the per-town counts of
//     available units behind the coverage cost), the inventory and depots,
//     the ETA model and the response-time targets; and Rank, which turns a
//     plan and a point into recommended units, alternates, depots to draw
//     materials from and shortfalls, through the fleet's Nearest search per
//     capability. RankBrute is the oracle the indexed search is tested
//     against (a plain loop over the fleet's records); BenchmarkRank is the
//     figure in docs/benchmarks.md. The unit records (teams.UnitChange,
//     teams.UnitState, teams.UnitView) and their store rules
//     (teams.UnitChange.Check) live in package teams.
//   - Engine: decides incidents (idempotently: an incident id is decided once
//     per world), applies unit events and console actions (confirm, swap, add,
//     cancel, accept, decline, clear...) through the team state machine,
//     escalates assignments nobody accepted (Escalator), fills the unit
//     shortfalls of open incidents when units come free (FillShortfalls),
//     restocks depots, and writes every change through a Store in one batch
//     before it becomes visible. Drills run in isolated worlds beside the
//     live one.
//   - The wire records (Incident, UnitEvent, Action, Event, OutboxRecord)
//     with their strict decoders, and the Store interface.
//
// Adapters and helpers in sub-packages:
//
//   - dispatch/kafkaio: the Kafka consumer of incidents and unit events, and
//     the relay of the transactional outbox;
//   - dispatch/pgstore: the PostgreSQL Store (embedded migrations), and the
//     PostGIS comparison row of the ranker benchmark;
//   - dispatch/memstore: the in-memory Store (make run, engine tests);
//   - dispatch/storetest: the conformance suite both stores pass;
//   - dispatch/drill: synthetic call streams, drill replays under a simulated
//     clock, and response-time reports.
package dispatch
