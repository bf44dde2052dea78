package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
)

// ErrRateLimited: the console sent actions faster than its token bucket allows.
var ErrRateLimited = errors.New("rate limited")

// errMalformed: an action the protocol cannot take at all: an unknown kind,
// no incident (HTTP 400). It wraps dispatch.ErrBadAction.
var errMalformed = fmt.Errorf("malformed action: %w", dispatch.ErrBadAction)

type principalKey struct{}

// auth authenticates an API request (Bearer header or session cookie) and
// puts the principal in the request context; 401 otherwise. Cookie requests
// that change state must be JSON and, when they carry an Origin, come from
// an allowed one.
func (s *Server) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, cred, err := s.cfg.Tokens.authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", "Bearer")
			jsonError(w, http.StatusUnauthorized, "unauthorized")
			return
		}
		if cred == credCookie && r.Method != http.MethodGet && r.Method != http.MethodHead {
			if r.Header.Get("Origin") != "" {
				if err := s.checkOrigin(r, cred); err != nil {
					jsonError(w, http.StatusForbidden, err.Error())
					return
				}
			}
		}
		q := r.URL.Query().Get("drill")
		if q != "" && q != p.World() {
			jsonError(w, http.StatusForbidden, "this console may not see drill "+q)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

func principal(r *http.Request) Principal {
	p, _ := r.Context().Value(principalKey{}).(Principal)
	return p
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, "encode response")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n')) // the client went away: nothing to do
}

func jsonError(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n')) // the client went away: nothing to do
}

// me answers who the console is.
func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if p.Towns == nil {
		p.Towns = []string{}
	}
	writeJSON(w, http.StatusOK, p)
}

// teamOf returns a lookup of unit id -> team over the world's units, built
// on first use.
func (s *Server) teamOf(world string) func(string) string {
	var m map[string]string
	return func(id string) string {
		if m == nil {
			us := s.cfg.Backend.Units(world)
			m = make(map[string]string, len(us))
			for i := range us {
				m[us[i].ID] = us[i].Team
			}
		}
		return m[id]
	}
}

func (s *Server) incidents(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	all := s.cfg.Backend.Incidents(p.World())
	teamOf := s.teamOf(p.World())
	out := make([]dispatch.IncidentRecord, 0, len(all))
	for i := range all {
		if incidentVisible(p, &all[i], teamOf) {
			out = append(out, all[i])
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) incident(w http.ResponseWriter, r *http.Request) {
	if rec := s.visibleIncident(w, r); rec != nil {
		writeJSON(w, http.StatusOK, rec)
	}
}

// visibleIncident reads the incident the path names, as the caller may see
// it; nil when it answered with the error (not found, not visible).
func (s *Server) visibleIncident(w http.ResponseWriter, r *http.Request) *dispatch.IncidentRecord {
	p := principal(r)
	rec, err := s.cfg.Backend.Incident(r.Context(), p.World(), r.PathValue("id"))
	if err != nil {
		s.apiError(w, p, err)
		return nil
	}
	if !incidentVisible(p, rec, s.teamOf(p.World())) {
		jsonError(w, http.StatusNotFound, "no such incident")
		return nil
	}
	return rec
}

func (s *Server) units(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	q := r.URL.Query()
	town, team, status := q.Get("town"), q.Get("team"), q.Get("status")
	all := s.cfg.Backend.Units(p.World())
	out := make([]teams.UnitView, 0, len(all))
	for i := range all {
		u := &all[i]
		if !unitVisible(p, u) || (town != "" && u.Town != town) || (team != "" && u.Team != team) || (status != "" && u.Status != teams.Status(status)) {
			continue
		}
		out = append(out, *u)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) depots(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	all := s.cfg.Backend.Depots(p.World())
	out := make([]resources.DepotView, 0, len(all))
	for i := range all {
		if depotVisible(p, &all[i]) {
			out = append(out, all[i])
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// actions: POST /api/actions with a JSON dispatch.Action.
func (s *Server) actions(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			jsonError(w, http.StatusUnsupportedMediaType, "send application/json")
			return
		}
	} else if _, cred := presented(r); cred == credCookie {
		jsonError(w, http.StatusUnsupportedMediaType, "send application/json")
		return
	}
	var a dispatch.Action
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			jsonError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", s.cfg.MaxBody))
			return
		}
		jsonError(w, http.StatusBadRequest, "bad JSON: "+err.Error())
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		jsonError(w, http.StatusBadRequest, "bad JSON: trailing data")
		return
	}
	rec, err := s.act(r.Context(), p, a)
	if err != nil {
		s.apiError(w, p, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

// act runs one action for a console, from HTTP or the websocket: rate
// limit, role and visibility checks, then the engine.
func (s *Server) act(ctx context.Context, p Principal, a dispatch.Action) (*dispatch.IncidentRecord, error) {
	if !s.limit.allow(p.Name) {
		return nil, ErrRateLimited
	}
	if err := authorizeKind(p, &a); err != nil {
		return nil, err
	}
	if a.Incident == "" && a.Kind != dispatch.ActReturning && a.Kind != dispatch.ActAvailable && a.Kind != dispatch.ActRelocate {
		return nil, fmt.Errorf("no incident: %w", errMalformed)
	}
	world := p.World()
	switch p.Role {
	case RoleDispatcher:
		if len(p.Towns) > 0 && a.Incident == "" {
			u, ok := s.unitOf(world, a.Unit)
			if !ok {
				return nil, fmt.Errorf("unit %q: %w", a.Unit, dispatch.ErrNotFound)
			}
			if !townVisible(p, u.Town) {
				return nil, fmt.Errorf("unit %s is in %s, not one of this console's towns: %w", a.Unit, u.Town, dispatch.ErrForbidden)
			}
		} else if len(p.Towns) > 0 {
			rec, err := s.cfg.Backend.Incident(ctx, world, a.Incident)
			if err != nil {
				return nil, err
			}
			if !townVisible(p, rec.Town) {
				return nil, fmt.Errorf("incident %s is in %s, not one of this console's towns: %w", a.Incident, rec.Town, dispatch.ErrForbidden)
			}
		}
	case RoleTeamLeader:
		team := s.teamOf(world)(a.Unit)
		if team == "" {
			return nil, fmt.Errorf("unit %q: %w", a.Unit, dispatch.ErrNotFound)
		}
		if team != p.Team {
			return nil, fmt.Errorf("unit %s is not a unit of team %s: %w", a.Unit, p.Team, dispatch.ErrForbidden)
		}
	}
	rec, err := s.cfg.Backend.Act(ctx, a)
	if err == nil {
		s.log.Info("action", "console", p.Name, "kind", a.Kind, "incident", a.Incident, "unit", a.Unit, "drill", a.Drill)
	}
	return rec, err
}

// HistoryBackend is implemented by a Backend that keeps the history of
// incidents (dispatch.Engine does): GET /api/incidents/{id}/history.
type HistoryBackend interface {
	History(ctx context.Context, drill, id string) ([]dispatch.HistoryEntry, error)
}

// history answers GET /api/incidents/{id}/history: every change of an
// incident the console may see, oldest first.
func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	hb, ok := s.cfg.Backend.(HistoryBackend)
	if !ok {
		jsonError(w, http.StatusNotFound, "no history kept")
		return
	}
	rec := s.visibleIncident(w, r)
	if rec == nil {
		return
	}
	hs, err := hb.History(r.Context(), p.World(), rec.ID)
	if err != nil {
		s.apiError(w, p, err)
		return
	}
	writeJSON(w, http.StatusOK, hs)
}

// apiError answers an error of the backend or of act with its status.
func (s *Server) apiError(w http.ResponseWriter, p Principal, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrRateLimited):
		code = http.StatusTooManyRequests
	case errors.Is(err, errMalformed):
		code = http.StatusBadRequest
	case errors.Is(err, dispatch.ErrForbidden):
		code = http.StatusForbidden
	case errors.Is(err, dispatch.ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, dispatch.ErrBadAction):
		code = http.StatusConflict
	}
	if code == http.StatusInternalServerError {
		s.log.Error("api", "console", p.Name, "err", err)
		jsonError(w, code, "internal error")
		return
	}
	why := dispatch.ReasonOf(err)
	switch code {
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
		why = dispatch.Why{Code: "rate_limited"}
	case http.StatusBadRequest:
		why = dispatch.Why{Code: "bad_request"}
	}
	writeJSON(w, code, Refusal{Error: err.Error(), Reason: why})
}

// Refusal is the body of an API error the console shows: the text (logs,
// scripts) and the reason as a code with parameters (docs/protocol.md).
type Refusal struct {
	Error  string       `json:"error"`
	Reason dispatch.Why `json:"reason"`
}

// unitOf returns one unit of a world.
func (s *Server) unitOf(world, id string) (teams.UnitView, bool) {
	for _, u := range s.cfg.Backend.Units(world) {
		if u.ID == id {
			return u, true
		}
	}
	return teams.UnitView{}, false
}
