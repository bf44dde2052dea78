package web

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/resources"
	"github.com/zs110/dispatch/teams"
	"github.com/zs110/dispatch/web/ui"
)

// Backend is what the server asks of the engine (dispatch.Engine plus a
// readiness check). A Backend that is also a ScenarioBackend fills GET
// /api/config, an ETABackend answers GET /api/eta; dispatch.Engine is both.
type Backend interface {
	// Incidents returns the open incidents of a drill ("" = live).
	Incidents(drill string) []dispatch.IncidentRecord
	// Incident returns one incident, open or closed, or dispatch.ErrNotFound.
	Incident(ctx context.Context, drill, id string) (*dispatch.IncidentRecord, error)
	// Units returns every unit of a drill's world with its live state.
	Units(drill string) []teams.UnitView
	// Depots returns every depot of a drill's world with what is available.
	Depots(drill string) []resources.DepotView
	// Act applies an action once it is durable; errors wrap
	// dispatch.ErrBadAction, dispatch.ErrForbidden or dispatch.ErrNotFound.
	Act(ctx context.Context, a dispatch.Action) (*dispatch.IncidentRecord, error)
	// Ready reports whether Kafka and the database are reachable.
	Ready(ctx context.Context) error
}

// Config configures a Server. Zero fields take the defaults in their comments.
type Config struct {
	// Addr is the listen address of Run (127.0.0.1:8080).
	Addr string
	// Backend is the engine. Required.
	Backend Backend
	// Hub serves /ws. Required; run it with Hub.Run.
	Hub *Hub
	// Tokens authenticates consoles. Required.
	Tokens *TokenStore
	// Logger defaults to a logger that discards.
	Logger *slog.Logger
	// Registerer receives dispatch_http_requests_total; nil: a private registry.
	Registerer prometheus.Registerer
	// Gatherer is served on /metrics; nil: the Registerer when it is a
	// Gatherer, else /metrics answers 404.
	Gatherer prometheus.Gatherer
	// AllowedOrigins are Origins accepted on /ws besides the server's own
	// host (added to the Hub's).
	AllowedOrigins []string
	// Console serves the console pages: GET / (without ?token=) and
	// /static/...; nil: the embedded consoles of package web/ui
	// (ui.Handler()).
	Console http.Handler
	// TileURL is an agency's own map tile server, a template such as
	// "https://tiles.example/{z}/{x}/{y}.png", handed to the pages by GET
	// /api/config and allowed in the Content-Security-Policy's img-src.
	// Empty (the default): the offline map only.
	TileURL string
	// ActionRate and ActionBurst are each console's token bucket for actions
	// (20 a second, burst 40), shared by POST /api/actions and /ws.
	ActionRate  float64
	ActionBurst int
	// MaxBody is the largest request body in bytes (64 KiB).
	MaxBody int64
	// ShutdownTimeout bounds the graceful shutdown of Run (10s).
	ShutdownTimeout time.Duration
	// TLSCertFile and TLSKeyFile are the PEM certificate (chain) and key of
	// an HTTPS listener; empty (the default): plain HTTP. With them every
	// response carries Strict-Transport-Security and the sign-in cookie is
	// Secure. The files are read again when they change (a renewal needs
	// no restart).
	TLSCertFile, TLSKeyFile string
	// TokenRecheck is how often open websocket consoles are checked against
	// the tokens (revoked, expired, removed ones are closed with code 4001);
	// a change of the TokenStore triggers a check at once. Default 1s.
	TokenRecheck time.Duration
}

// Server is the HTTP side of dispatchd: API, /ws, metrics, console pages.
type Server struct {
	cfg      Config
	log      *slog.Logger
	origins  map[string]bool
	limit    *limiter
	requests *prometheus.CounterVec
	upgrader websocket.Upgrader
	handler  http.Handler
	certs    *certReloader // nil: plain HTTP
}

// New validates cfg, fills its defaults and builds the routes.
func New(cfg Config) (*Server, error) {
	if cfg.Backend == nil || cfg.Hub == nil || cfg.Tokens == nil {
		return nil, errors.New("web: Backend, Hub and Tokens are required")
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewRegistry()
	}
	if cfg.Gatherer == nil {
		cfg.Gatherer, _ = cfg.Registerer.(prometheus.Gatherer)
	}
	if cfg.ActionRate <= 0 {
		cfg.ActionRate = 20
	}
	if cfg.ActionBurst <= 0 {
		cfg.ActionBurst = 40
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 64 << 10
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	if cfg.Console == nil {
		cfg.Console = ui.Handler()
	}
	if cfg.TokenRecheck <= 0 {
		cfg.TokenRecheck = time.Second
	}
	s := &Server{
		cfg: cfg, log: cfg.Logger.With("component", "web"),
		origins: map[string]bool{},
		limit:   newLimiter(cfg.ActionRate, cfg.ActionBurst),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dispatch_http_requests_total", Help: "HTTP requests, by route and status code.",
		}, []string{"route", "code"}),
	}
	for _, o := range append(append([]string(nil), cfg.AllowedOrigins...), cfg.Hub.cfg.AllowedOrigins...) {
		if o = normOrigin(o); o != "" {
			s.origins[o] = true
		}
	}
	if err := registerAll(cfg.Registerer, s.requests); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	switch {
	case cfg.TLSCertFile != "" && cfg.TLSKeyFile != "":
		c, err := newCertReloader(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
		s.certs = c
	case cfg.TLSCertFile != "" || cfg.TLSKeyFile != "":
		return nil, errors.New("web: TLSCertFile and TLSKeyFile go together")
	}
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		// The Origin is checked before the upgrade (checkOrigin).
		CheckOrigin: func(*http.Request) bool { return true },
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the server's routes with security headers.
func (s *Server) Handler() http.Handler { return s.handler }

// TLS reports whether the server serves HTTPS.
func (s *Server) TLS() bool { return s.certs != nil }

// Run listens on Config.Addr and serves until ctx is done, then shuts down
// gracefully. It returns nil after a shutdown caused by ctx.
func (s *Server) Run(ctx context.Context) error {
	l, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("web: listen: %w", err)
	}
	return s.Serve(ctx, l)
}

// Serve serves on l until ctx is done (see Run). It closes l.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if s.certs != nil {
		hs.TLSConfig = s.certs.tlsConfig()
		l = tls.NewListener(l, hs.TLSConfig)
		scheme = "https"
	}
	s.log.Info("serving", "addr", l.Addr().String(), "scheme", scheme)
	rctx, stopRecheck := context.WithCancel(ctx)
	recheckDone := make(chan struct{})
	go func() {
		defer close(recheckDone)
		s.recheckTokens(rctx)
	}()
	defer func() {
		stopRecheck()
		<-recheckDone
	}()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("web: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		s.log.Warn("serve", "err", serr)
	}
	if err != nil {
		return fmt.Errorf("web: shutdown: %w", err)
	}
	return nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern, route string, h http.HandlerFunc) {
		mux.Handle(pattern, s.instrument(route, h))
	}
	handle("GET /healthz", "/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok")
	})
	handle("GET /readyz", "/readyz", s.readyz)
	handle("GET /metrics", "/metrics", s.metrics)
	handle("GET /api/me", "/api/me", s.auth(s.me))
	handle("GET /api/config", "/api/config", s.auth(s.config))
	handle("GET /api/incidents", "/api/incidents", s.auth(s.incidents))
	handle("GET /api/incidents/{id}", "/api/incidents/{id}", s.auth(s.incident))
	handle("GET /api/incidents/{id}/history", "/api/incidents/{id}/history", s.auth(s.history))
	handle("GET /api/units", "/api/units", s.auth(s.units))
	handle("GET /api/depots", "/api/depots", s.auth(s.depots))
	handle("GET /api/places", "/api/places", s.auth(s.places))
	handle("GET /api/eta", "/api/eta", s.auth(s.eta))
	handle("POST /api/actions", "/api/actions", s.auth(s.actions))
	handle("GET /api/", "/api/", func(w http.ResponseWriter, r *http.Request) { jsonError(w, http.StatusNotFound, "no such route") })
	handle("GET /ws", "/ws", s.ws)
	handle("GET /", "/", s.console)
	return secure(mux, s.cfg.TileURL, s.certs != nil)
}

// secure sets the security headers of every response. The CSP allows
// images from the tile server's origin when there is one; over TLS,
// Strict-Transport-Security keeps browsers to HTTPS.
func secure(next http.Handler, tileURL string, hsts bool) http.Handler {
	csp := "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	if u, err := url.Parse(tileURL); tileURL != "" && err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && !strings.ContainsAny(u.Host, "{}; ") {
		csp += "; img-src 'self' " + u.Scheme + "://" + u.Host
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		if hsts || r.TLS != nil {
			h.Set("Strict-Transport-Security", hstsValue)
		}
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status code of a response.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Hijack lets the websocket upgrade take the connection.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("hijack not supported")
	}
	w.code = http.StatusSwitchingProtocols
	return hj.Hijack()
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) instrument(route string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		h(sw, r)
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		s.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
	})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	select {
	case <-s.cfg.Hub.started:
	default:
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "websocket hub starting\n")
		return
	}
	// Answer within a probe's own timeout: a database that does not answer
	// in 2 s is not ready for dispatch either.
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Backend.Ready(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, err.Error()+"\n")
		return
	}
	_, _ = io.WriteString(w, "ok")
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Gatherer == nil {
		http.NotFound(w, r)
		return
	}
	promhttp.HandlerFor(s.cfg.Gatherer, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// console serves the pages, and signs a browser in from /?token=: the
// token goes into an HttpOnly cookie and the browser is sent back to / so
// the token leaves the address bar. An unknown token clears the cookie.
func (s *Server) console(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" || !r.URL.Query().Has("token") {
		s.cfg.Console.ServeHTTP(w, r)
		return
	}
	tok := r.URL.Query().Get("token")
	w.Header().Set("Cache-Control", "no-store")
	// Secure whenever the server or the request is TLS; consoles on the
	// closed 110 network may be served over plain HTTP.
	c := &http.Cookie{Name: cookieName, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.certs != nil || r.TLS != nil} //nolint:gosec // see above
	if p, err := s.cfg.Tokens.Lookup(tok); err == nil {
		c.Value = tok
		if exp := s.cfg.Tokens.expires(tok); !exp.IsZero() {
			c.Expires = exp
		}
		s.log.Info("console signed in", "console", p.Name, "role", p.Role)
	} else {
		c.MaxAge = -1
		s.log.Warn("sign-in refused: unknown or expired token", "remote", r.RemoteAddr)
	}
	http.SetCookie(w, c)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// normOrigin lower-cases an origin and drops a trailing slash.
func normOrigin(o string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(o)), "/")
}

// checkOrigin: a browser (which always sends Origin) must come from the
// server's own host or an allowed origin; a request without Origin is a
// program and must present a Bearer token, not a cookie.
func (s *Server) checkOrigin(r *http.Request, cred credential) error {
	o := r.Header.Get("Origin")
	if o == "" {
		if cred != credBearer {
			return errors.New("no Origin: a program must send Authorization: Bearer")
		}
		return nil
	}
	if s.origins[normOrigin(o)] {
		return nil
	}
	u, err := url.Parse(o)
	if err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	return fmt.Errorf("origin %q not allowed", o)
}

func (s *Server) ws(w http.ResponseWriter, r *http.Request) {
	p, cred, err := s.cfg.Tokens.authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", "Bearer")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if err := s.checkOrigin(r, cred); err != nil {
		s.log.Warn("websocket refused", "console", p.Name, "err", err)
		http.Error(w, "forbidden: "+err.Error(), http.StatusForbidden)
		return
	}
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	tok, _ := presented(r)
	s.cfg.Hub.serve(conn, p, hashToken(tok), s.act, s.log)
}
