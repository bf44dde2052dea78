// Package bound computes an offline lower bound on late arrivals: for a
// window of a call stream, the fewest calls whose first unit arrives after
// the response target that any policy could reach knowing every call in
// advance, and the no-congestion bound (the calls no eligible unit can reach
// on time from its station even when every unit is free).
//
// The bound relaxes what a dispatch policy faces (docs/drills.md, "Offline
// lower bound"): units wait at their home station between calls and go back
// to it after each call; only the calls of the window's priorities occupy
// units; only the first arriving unit of a call is modelled; a late call
// occupies no unit. A unit sent on time to a call is busy from the call
// until it is back at its station: turnout (plus a reserve team's
// activation) + travel + the drill's own time on scene for that incident
// (drill.ServiceTime) + travel back, by the scenario's ETA model.
//
// The parts:
//
//   - Build reads a drill.Source and makes the Instance: the window's calls
//     (duplicates and manual records apart), and for each the units that can
//     be on scene within its target with the interval each would be busy.
//   - Reduce, Cliques and Components cut the instance: a call one of whose
//     units conflicts with no other call on that unit is served by it (some
//     optimal assignment does so); what remains falls into independent
//     components, each a set-packing problem (Packing): one row per call
//     (at most one unit) and one per maximal clique of overlapping intervals
//     of a unit.
//   - Solve sends each component to a Solver (CBC: the cbc command line,
//     cbc.go the only file that runs a process) and adds up. A solver that
//     stops on its time limit gives its best assignment and its proven upper
//     bound, so the bound stays valid. Oracle is the brute-force check for
//     tiny instances (every assignment) that the tests compare Solve with.
//   - NewResult, Ratios and WriteRatios make what dispatchd bound writes and
//     what dispatchd report -bound prints: each run's late arrivals in the
//     window (drill.Report's per-day data) over the bound.
package bound
