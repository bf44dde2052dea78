// Package teams owns the "1+10+2" team model and the live fleet: the one
// city command team, the ten professional teams and the two reserve teams,
// their stations and units with capabilities (Team, Station, Unit, Kind),
// the unit status machine (Status, Transition), reserve activation
// (ActivationDelay), and Fleet, the live state of every unit of one world.
//
// The status machine (any status may also go to out_of_service):
//
//	available --> dispatched --> en_route --> on_scene --> returning --> available
//	    ^  |          |             |            |             |
//	    |  +-(no-op)  +-> available +-> available+-> available +-> dispatched (re-tasked)
//	    +-- out_of_service
//
// dispatched/en_route -> available is a decline or a cancellation;
// on_scene -> available is a unit cleared on scene. Reserve-team units take
// their team's activation delay before they leave.
//
// Fleet (NewFleet, FleetConfig) holds, for one world (the live one, or a
// drill):
//
//   - the unit records, numbered densely in id order (Number, Record,
//     UnitRecord), with status, position, town, H3 cell, assignment and the
//     static facts a ranking needs: speed profile, reserve flag, activation
//     delay, capabilities, class (units priced alike at one point);
//   - the mutations, each returning its event value UnitChange: SetStatus
//     (checked by the state machine), SetPosition, and Restore from the
//     durable UnitState; the views UnitView (Unit, Units);
//   - one point index of available units per capability, professional and
//     command units apart from reserves (package geo: H3 cells by default,
//     an R-tree or a plain loop as baselines, all exact), searched by
//     Nearest; the speed profiles per capability (SpeedProfiles) that bound
//     a search's cost; and the per-town count of available professional
//     units by capability (Available), the coverage cost's input.
//
// The unit rules every store enforces are UnitChange.Check and
// UnitState.Check (errors wrap ErrInvalidUnit). The package uses geo for
// positions and indices, and knows nothing of incidents or stores.
package teams
