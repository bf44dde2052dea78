package web

import (
	"context"
	"time"
)

// recheckTokens closes the open consoles whose token is no longer accepted
// (revoked, expired, removed from the set) every TokenRecheck and at once
// whenever the TokenStore's set changes, until ctx ends.
func (s *Server) recheckTokens(ctx context.Context) {
	tick := time.NewTicker(s.cfg.TokenRecheck)
	defer tick.Stop()
	for {
		changed := s.cfg.Tokens.Changed()
		for _, rc := range s.cfg.Hub.revalidate(s.cfg.Tokens.state) {
			s.log.Warn("console closed: its token is no longer accepted", "console", rc.p.Name, "role", rc.p.Role, "token_id", rc.p.TokenID, "reason", rc.err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-changed:
		}
	}
}
