package ui

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var assets embed.FS

// FS returns the console assets: index.html at the root, beside the
// stylesheet and the JavaScript modules the page loads from /static/.
func FS() fs.FS {
	sub, err := fs.Sub(assets, "static")
	if err != nil {
		panic("ui: embedded assets missing: " + err.Error()) // cannot happen: the directory is embedded
	}
	return sub
}

// Handler serves the consoles: GET / and /index.html answer index.html,
// GET /static/<file> the assets, GET /favicon.ico the icon (favicon.svg). Anything else is 404. The server mounts it
// on "/" and "/static/" (after its own routes, /api/ and /ws).
func Handler() http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(FS()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		switch {
		case r.URL.Path == "/favicon.ico":
			// browsers ask for it before reading the page's icon link
			w.Header().Set("Content-Type", "image/svg+xml")
			w.Header().Set("Cache-Control", "max-age=86400")
			http.ServeFileFS(w, r, FS(), "favicon.svg")
		case r.URL.Path == "/" || r.URL.Path == "/index.html":
			w.Header().Set("Cache-Control", "no-cache")
			http.ServeFileFS(w, r, FS(), "index.html")
		case len(r.URL.Path) > len("/static/") && r.URL.Path[:len("/static/")] == "/static/":
			w.Header().Set("Cache-Control", "no-cache")
			files.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}
