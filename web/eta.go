package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/geo"
)

// ETABackend is implemented by a Backend that gives travel times
// (dispatch.Engine does): GET /api/eta answers from it.
type ETABackend interface {
	ETA(drill string, from, to geo.Point, profile string, at time.Time) (geo.Estimate, error)
}

// ETAAnswer is the answer of GET /api/eta: the travel time and where it
// came from (model, learned with Trips trips, matrix).
type ETAAnswer struct {
	From    geo.Point `json:"from"`
	To      geo.Point `json:"to"`
	Profile string    `json:"profile"`
	At      time.Time `json:"at"`
	EtaS    float64   `json:"eta_s"`
	ModelS  float64   `json:"model_s"`
	Source  string    `json:"source"`
	Trips   int       `json:"trips,omitempty"`
	Factor  float64   `json:"factor"`
}

// parseLatLng reads "lat,lng".
func parseLatLng(s string) (geo.Point, bool) {
	a, b, ok := strings.Cut(s, ",")
	if !ok {
		return geo.Point{}, false
	}
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	lng, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	p := geo.Point{Lat: lat, Lng: lng}
	return p, err1 == nil && err2 == nil && p.Validate() == nil
}

// eta answers GET /api/eta?from=lat,lng&to=lat,lng[&profile=car][&at=RFC3339]
// in the console's world; every console may ask.
func (s *Server) eta(w http.ResponseWriter, r *http.Request) {
	eb, ok := s.cfg.Backend.(ETABackend)
	if !ok {
		jsonError(w, http.StatusNotFound, "no travel times here")
		return
	}
	q := r.URL.Query()
	from, ok1 := parseLatLng(q.Get("from"))
	to, ok2 := parseLatLng(q.Get("to"))
	if !ok1 || !ok2 {
		jsonError(w, http.StatusBadRequest, "from and to must be lat,lng")
		return
	}
	profile := q.Get("profile")
	if profile == "" {
		profile = "car"
	}
	at := time.Now()
	if v := q.Get("at"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			jsonError(w, http.StatusBadRequest, "at must be RFC 3339")
			return
		}
		at = t
	}
	est, err := eb.ETA(principal(r).World(), from, to, profile, at)
	switch {
	case errors.Is(err, geo.ErrUnknownProfile):
		jsonError(w, http.StatusBadRequest, "unknown speed profile")
		return
	case errors.Is(err, dispatch.ErrNotFound):
		jsonError(w, http.StatusNotFound, "no such world")
		return
	case err != nil:
		jsonError(w, http.StatusInternalServerError, "eta failed")
		return
	}
	writeJSON(w, http.StatusOK, ETAAnswer{From: from, To: to, Profile: profile, At: at, EtaS: est.Seconds, ModelS: est.ModelS,
		Source: est.Source.String(), Trips: est.Trips, Factor: est.Factor})
}
