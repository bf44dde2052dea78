// Package ui holds the console pages of dispatchd as embedded static assets:
// one page (index.html) that signs in with the console token, asks GET
// /api/me who it is, and shows the dispatcher's console (incident queue,
// detail with the engine's recommendation and the actions, escalations, unit
// board, offline map, activity) or the team leader's console (the team's
// assignments with Accept, Decline, En route, On scene, Clear).
//
// Plain HTML, CSS and JavaScript modules: no build step, nothing fetched
// from the internet. The pages talk to the server in package web (GET
// /api/..., POST /api/actions, the /ws websocket with resume by sequence
// number). docs/consoles.md describes what the consoles show and the
// keyboard shortcuts.
//
// The browser tests (ui_test.go) drive Debian's chromium with chromedp.
package ui
