package teams

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTransitionEveryPair(t *testing.T) {
	allowed := map[[2]Status]bool{
		{StatusAvailable, StatusAvailable}: true, {StatusAvailable, StatusDispatched}: true,
		{StatusDispatched, StatusEnRoute}: true, {StatusDispatched, StatusAvailable}: true,
		{StatusEnRoute, StatusOnScene}: true, {StatusEnRoute, StatusAvailable}: true,
		{StatusOnScene, StatusReturning}: true, {StatusOnScene, StatusAvailable}: true,
		{StatusReturning, StatusAvailable}: true, {StatusReturning, StatusDispatched}: true,
		{StatusOutOfService, StatusAvailable}: true,
		{StatusAvailable, StatusRelocating}:   true, {StatusRelocating, StatusAvailable}: true,
		{StatusRelocating, StatusDispatched}: true, {StatusRelocating, StatusRelocating}: true,
		{StatusRelocating, StatusOutOfService}: true,
		{StatusReturning, StatusReturning}:     true, {StatusReturning, StatusRelocating}: true,
		{StatusAvailable, StatusOutOfService}: true, {StatusDispatched, StatusOutOfService}: true,
		{StatusEnRoute, StatusOutOfService}: true, {StatusOnScene, StatusOutOfService}: true,
		{StatusReturning, StatusOutOfService}: true,
	}
	for _, from := range Statuses() {
		for _, to := range Statuses() {
			err := Transition(from, to)
			if allowed[[2]Status{from, to}] {
				if err != nil {
					t.Errorf("%s -> %s refused: %v", from, to, err)
				}
				continue
			}
			if !errors.Is(err, ErrIllegalTransition) {
				t.Errorf("%s -> %s: got %v, want ErrIllegalTransition", from, to, err)
				continue
			}
			if msg := err.Error(); !strings.Contains(msg, string(from)) || !strings.Contains(msg, string(to)) {
				t.Errorf("error %q does not name both states", msg)
			}
		}
	}
}

func TestUnknownStatus(t *testing.T) {
	if _, err := ParseStatus("flying"); !errors.Is(err, ErrUnknownStatus) {
		t.Fatalf("ParseStatus: %v", err)
	}
	if err := Transition("flying", StatusAvailable); !errors.Is(err, ErrUnknownStatus) {
		t.Fatalf("Transition from unknown: %v", err)
	}
	for _, s := range Statuses() {
		if got, err := ParseStatus(string(s)); err != nil || got != s {
			t.Fatalf("ParseStatus(%q) = %q, %v", s, got, err)
		}
	}
}

func TestStatusPredicates(t *testing.T) {
	cases := []struct {
		s                  Status
		assignable, active bool
	}{
		{StatusAvailable, true, false}, {StatusDispatched, false, true}, {StatusEnRoute, false, true},
		{StatusOnScene, false, true}, {StatusReturning, false, false}, {StatusOutOfService, false, false},
		{StatusRelocating, true, false},
	}
	for _, c := range cases {
		if c.s.Assignable() != c.assignable || c.s.Active() != c.active {
			t.Errorf("%s: assignable %v active %v", c.s, c.s.Assignable(), c.s.Active())
		}
	}
}

func TestActivationDelay(t *testing.T) {
	if d := ActivationDelay(Team{Kind: KindReserve, ActivationDelayS: 1800}); d != 30*time.Minute {
		t.Fatalf("reserve delay %v", d)
	}
	if d := ActivationDelay(Team{Kind: KindProfessional, ActivationDelayS: 1800}); d != 0 {
		t.Fatalf("professional delay %v", d)
	}
}
