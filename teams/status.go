package teams

import (
	"errors"
	"fmt"
	"time"
)

// Status is where a unit is in its work cycle.
type Status string

// Unit statuses.
const (
	StatusAvailable    Status = "available"      // free to take an assignment
	StatusDispatched   Status = "dispatched"     // assigned, not yet moving
	StatusEnRoute      Status = "en_route"       // on its way to the incident
	StatusOnScene      Status = "on_scene"       // working the incident
	StatusReturning    Status = "returning"      // cleared, driving back to station
	StatusOutOfService Status = "out_of_service" // off duty, broken down, resting
	// StatusRelocating: moving up to another station to restore coverage
	// (the engine's move-up); it may still be dispatched on the way.
	StatusRelocating Status = "relocating"
)

// Status errors.
var (
	// ErrUnknownStatus: a status name the machine does not know.
	ErrUnknownStatus = errors.New("unknown status")
	// ErrIllegalTransition: the machine does not allow this change.
	ErrIllegalTransition = errors.New("illegal transition")
)

var allStatuses = []Status{StatusAvailable, StatusDispatched, StatusEnRoute, StatusOnScene, StatusReturning, StatusOutOfService, StatusRelocating}

// Statuses returns every status in cycle order.
func Statuses() []Status { return append([]Status(nil), allStatuses...) }

// ParseStatus returns the status named s.
func ParseStatus(s string) (Status, error) {
	for _, st := range allStatuses {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownStatus, s)
}

// Assignable reports whether a unit in status s may take a new assignment.
func (s Status) Assignable() bool { return s == StatusAvailable || s == StatusRelocating }

// Active reports whether a unit in status s is committed to an incident.
func (s Status) Active() bool {
	return s == StatusDispatched || s == StatusEnRoute || s == StatusOnScene
}

// legal[from] lists the statuses reachable from from. Any status may also go
// to out_of_service, and staying in available is a no-op.
var legal = map[Status][]Status{
	StatusAvailable:    {StatusAvailable, StatusDispatched, StatusRelocating},
	StatusDispatched:   {StatusEnRoute, StatusAvailable},
	StatusEnRoute:      {StatusOnScene, StatusAvailable},
	StatusOnScene:      {StatusReturning, StatusAvailable},
	StatusReturning:    {StatusAvailable, StatusDispatched, StatusReturning, StatusRelocating},
	StatusOutOfService: {StatusAvailable},
	StatusRelocating:   {StatusAvailable, StatusDispatched, StatusRelocating},
}

// Transition reports whether a unit may go from one status to another. The
// error names both states and wraps ErrIllegalTransition (or
// ErrUnknownStatus for a status the machine does not know).
func Transition(from, to Status) error {
	if _, ok := legal[from]; !ok {
		return fmt.Errorf("%w: %q", ErrUnknownStatus, from)
	}
	if _, ok := legal[to]; !ok {
		return fmt.Errorf("%w: %q", ErrUnknownStatus, to)
	}
	if to == StatusOutOfService && from != StatusOutOfService {
		return nil
	}
	for _, s := range legal[from] {
		if s == to {
			return nil
		}
	}
	return fmt.Errorf("%w from %q to %q", ErrIllegalTransition, from, to)
}

// ActivationDelay is how long a unit of team t needs between being called and
// leaving: zero for standing teams, the configured delay for reserves.
func ActivationDelay(t Team) time.Duration {
	if t.Kind != KindReserve {
		return 0
	}
	return time.Duration(t.ActivationDelayS * float64(time.Second))
}
