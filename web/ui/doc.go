// Package ui holds the console pages of dispatchd as embedded static assets:
// one page (index.html) that signs in with the console token, asks GET
// /api/me who it is and GET /api/config for the scenario's towns, teams and
// incident types, and shows the dispatcher's console (incident queue,
// detail with the engine's recommendation, the actions and the incident's
// history, escalations, unit board, offline map of the towns, activity) or
// the team leader's
// console (the team's assignments with Accept, Decline and the unit's
// status: En route, On scene, Returning, Available).
//
// Every catalogue code (types, capabilities, materials, depots, teams,
// towns, statuses) and every reason or refusal is shown by name in the
// chosen language (static/names.js, from GET /api/config).
//
// Plain HTML, CSS and JavaScript modules: no build step, nothing fetched
// from the internet. The pages talk to the server in package web (GET
// /api/..., POST /api/actions, the /ws websocket with resume by sequence
// number), which serves them by default (web.Config.Console nil).
// docs/consoles.md describes what the consoles show and the keyboard
// shortcuts.
//
// The browser tests drive Debian's chromium with chromedp against the real
// server and engine; UPDATE_SCREENSHOTS=1 rewrites the README's screenshots
// in testdata/screenshots.
package ui
