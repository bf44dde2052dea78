// Package drill runs drills: it generates synthetic 110 call streams,
// replays a stream into an isolated drill world of the real dispatch engine
// under a simulated clock, simulates what the units then do (travel, work on
// scene, return), and reports response times.
//
// The parts:
//
//   - Generator (GenConfig): a deterministic synthetic stream of calls with
//     hour-of-day and day-of-week profiles, towns weighted by population with
//     hot spots, a 110 type mix, duplicate callers and named surges (a typhoon,
//     a chemical plant fire). The same config and seed give the same stream.
//   - Drill (Config, Run): replays a Source into the engine's world of one
//     drill id, so that the drill's units and stock are a copy of the
//     scenario's and live state is never touched. The virtual clock moves from
//     event to event; Speed paces it against the wall clock (x1, xN, or as fast
//     as possible). Units travel by the scenario's ETA model (or, with
//     Config.Truth "delta", by the drill's own Truth of the delta that the
//     engine does not know: waterways crossed at bridges, slow centres, its
//     hours, a seeded spread per trip), stay on scene for
//     a seeded, type-dependent service time, return to their station and become
//     available again; incidents the engine could not fully staff wait in a
//     queue and get units as they free up (Engine.FillShortfalls); depots are
//     restocked on a schedule (Engine.Restock).
//   - Report (Result.Report): response time from call to first unit on scene
//     per priority and per town, share within target, queueing delay, unit
//     utilisation per team, reserve activations, stock over time and
//     shortfalls, as JSON, text and SVG plots, and the same by calendar day
//     (ByDay: counts, late arrivals, histograms of response times); Compare
//     puts two runs side by side, every difference with a 95 % bootstrap
//     interval over the days. dispatch/drill/bound computes the offline lower
//     bound on late arrivals that runs are measured against.
//   - Replay (ReplayConfig): what `dispatchd replay` runs, from a source to
//     the report: the drill with a progress bar and its speed printed, and at
//     -speed max the batch-job settings (GC percent 300 within
//     a 1 GiB soft limit, GroupCommit around a PostgreSQL store).
//   - Stores: a drill writes to any dispatch.Store. In memory it is
//     dispatch/memstore with Retention (the whole state and every decided id,
//     but only a window of console events, outbox records and closed
//     incidents, so that a year of calls fits in memory); with PostgreSQL,
//     GroupCommit writes many outcomes a transaction.
//
// Everything is deterministic: the same stream, scenario and config give the
// same report, byte for byte. The package knows nothing of Kafka or SQL: the
// store is passed in, and dispatch/drill/drillio reads and writes Kafka
// topics and the command's files.
package drill
