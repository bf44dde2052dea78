// Package web is the HTTP side of dispatchd: token authentication, the
// role filter, the HTTP API, and the websocket hub that pushes the console
// event log to dispatchers, team leaders and drill planners.
//
// # Authentication
//
// Every console has a token naming a person and a role; a token file
// (LoadTokens, TokenFile) or the database keeps only its SHA-256, with the
// person's name, role, scope, expiry and revocation:
//
//	[{"id":"9f86d081884c","name":"Li Wei","role":"dispatcher","towns":["shiqi"],"sha256":"<hex>","expires":"2027-01-01T00:00:00Z"}]
//
// A TokenStore's entries can be replaced while the server runs (a
// TokenSync reloads them from TokenSources every second): from then on a
// revoked or expired token gets 401, and the server closes its open
// websocket consoles with close code 4001 ("token revoked: sign in again").
// With Config.TLSCertFile the server speaks HTTPS only, with
// Strict-Transport-Security and Secure cookies.
//
// Roles: "dispatcher" (towns: the towns seen; empty = all), "team_leader"
// (team) and "drill" (drill: the only world the console sees). Programs send
// "Authorization: Bearer <token>" on every API route and on /ws. Browsers
// open GET /?token=<token> once: the server sets an HttpOnly, SameSite=Strict
// cookie holding the token and redirects (303) to / so that the token leaves
// the address bar; an unknown token clears the cookie. Unknown, expired and
// missing tokens get 401. Tokens are never logged (the person's name and
// the token's ID are).
//
// # Who sees what
//
// Visible(p, ev) is the role filter of the event stream: drill consoles see
// only their drill's events and live consoles never see a drill's; a
// dispatcher limited to towns sees events in those towns and events with no
// town; a team leader sees only events whose "teams" contain the team. The
// API applies the same rules: a team leader's incidents are those where one
// of the team's units is recommended or assigned, its units the team's; a
// town-limited dispatcher's incidents, units and depots (plus the city
// depots) are those of its towns. Dispatchers may confirm, swap, add,
// cancel (close), classify, locate, decline an assigned unit and escalate;
// team leaders may accept, decline, and report en route, on scene,
// returning, available (or clear), only for their team's units; a drill
// console may do all of these, only in its drill (the action's drill is
// forced from the token).
//
// # Routes
//
//	GET  /healthz                 200 "ok" while the process runs
//	GET  /readyz                  200, or 503 with the reason (hub starting, Kafka or database unreachable)
//	GET  /metrics                 Prometheus
//	GET  /api/me                  {"name","role","towns","team","drill"}
//	GET  /api/config              towns (centres), teams, incident types, statuses, the role's action kinds, tile_url (ConsoleConfig)
//	GET  /api/incidents           open incidents the console may see (?drill=<own drill> accepted, others 403)
//	GET  /api/incidents/{id}      one incident, open or closed (404 when unknown or not visible)
//	GET  /api/incidents/{id}/history  its history: who changed what, when (same visibility)
//	GET  /api/units               units with their live state; filters ?town= &team= &status=
//	GET  /api/depots              depots with what is available now
//	GET  /api/places              the scenario's gazetteer (towns' centres, stations, depots, named places) to
//	                              locate a call; only roles that may send locate (dispatcher, drill), 403 otherwise
//	GET  /api/eta                 ?from=lat,lng&to=lat,lng[&profile=car][&at=RFC3339]: the travel time in the console's
//	                              world and its source (ETAAnswer: eta_s, model_s, source model|learned|matrix, trips,
//	                              factor); 400 for bad points, profile or time, 404 without travel times
//	POST /api/actions             a JSON action (below); answers the incident as the engine left it
//	GET  /ws                      the websocket (below)
//	GET  /, /static/...           the console pages (Config.Console; package web/ui by default)
//
// Errors are JSON {"error":"..."}; those of the engine and the actions add
// "reason", the refusal as a code with parameters (Refusal, dispatch.ReasonOf;
// docs/protocol.md). POST /api/actions answers 400 for bad
// JSON (unknown fields included), an unknown kind or no incident, 401
// without a valid token, 403 when the role may not do it (or a cookie
// request comes from a foreign Origin), 404 for an unknown incident or
// unit, 409 when the incident's state or the unit's status does not allow
// it, 413 for a body
// over 64 KiB, 415 for a Content-Type other than application/json (a cookie
// request must send it), 429 when the console's token bucket
// (20 actions a second, burst 40, shared with /ws) is empty. Every response
// carries Content-Security-Policy (default-src 'self'; frame-ancestors
// 'none'), X-Content-Type-Options: nosniff, X-Frame-Options: DENY and
// Referrer-Policy: no-referrer.
//
// An action:
//
//	{"kind":"swap","incident":"ZS110-20130531-000123","unit":"FIRE-SHIQI-01","new_unit":"FIRE-SHIQI-02"}
//
// with kind one of confirm, swap, add, cancel, classify, locate, decline,
// escalate (dispatcher) or accept, decline, en_route, on_scene, clear,
// returning, available (team leader), and the fields unit, new_unit,
// reason, type, lat, lng, source, place as the kind needs (which role may send which kind
// is the engine's table, dispatch.Role.Actions, also in GET /api/config).
// Every action goes to the engine (dispatch.Engine.Act), which owns what
// they mean:
//
//   - escalate (incident): the available unit of a command team (the city
//     emergency command team) of least ETA to the incident is added to it,
//     as a dispatcher's add;
//   - returning (unit; incident optional, and then it must be the unit's):
//     a unit status report, as from a vehicle terminal: from on scene the
//     unit leaves the incident, which closes when it was the last unit; any
//     other status is refused with the status machine's error;
//   - locate (incident): source "place" with place, a ref of GET
//     /api/places, or "map" with lat, lng (both approximate), or "coords"
//     (or none) with lat, lng; the engine decides the incident there;
//   - available (unit): from on scene it clears the incident (clear); from
//     returning or out of service it is a status report; dispatched or en
//     route is refused (decline the assignment with a reason instead).
//
// An illegal change answers 409 with the reason, e.g. "on_scene: illegal
// transition from "dispatched" to "on_scene": bad action".
//
// # Websocket (/ws)
//
// Authentication as above. A browser always sends Origin: it must be the
// server's own host or one of the allowed origins (403 otherwise); a
// request without Origin is a program and must use a Bearer header (a
// cookie without Origin is refused with 403).
//
// After the upgrade the console sends, within 10 s:
//
//	{"type":"hello","after":N}
//
// N is the last seq the console has seen; 0 means "from now" and -1 "from
// the start of the log". The server then sends every event the console may
// see with seq > N (from its memory of the last 65,536 events, or from the
// database for older ones), then
//
//	{"type":"ready","seq":M}
//
// where M is the position the console is now in sync with, then live events
// as they are committed. Events are
//
//	{"type":"event","seq":1042,"prev":1037,"event":{"seq":1042,"at":"...","kind":"incident.dispatched","town":"shiqi","teams":["fire"],"incident":"...","data":{...}}}
//
// seq increases strictly; prev is the seq of the previous event sent on this
// connection (for the first, the position the replay started from: N, or the
// end of the log for "from now"), so prev != the last seq received means
// events were missed. There is no gap and no duplicate across the switch
// from replay to live: resume by reconnecting with after = the last seq
// received.
//
// A console may send actions on the socket:
//
//	{"type":"action","id":"c1","action":{"kind":"accept","incident":"...","unit":"..."}}
//
// answered by {"type":"result","id":"c1","ok":true,"incident":{...}} or
// {"type":"result","id":"c1","ok":false,"error":"..."}; the same rules and
// rate limit as POST /api/actions apply.
//
// Each console has a bounded queue (8192 events) drained by its own writer
// goroutine. A console that falls behind is closed with code 4008 and the
// reason "slow consumer: resume from <seq>"; the tail of the log is never
// blocked by a console. The server pings every 20 s; a console silent for
// 50 s is dropped. Client messages are limited to 64 KiB. At shutdown
// consoles are closed with 1001.
//
// Metrics: dispatch_consoles (gauge), dispatch_console_disconnects_total
// {reason} (client, slow_consumer, shutdown, ping_timeout, write_error,
// protocol, no_hello, source_error), dispatch_http_requests_total{route,code}.
package web
