// Package teams owns the "1+10+2" team model: the one city command team, the
// ten professional teams and the two reserve teams, their units with
// capabilities, and the unit status machine.
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
package teams
