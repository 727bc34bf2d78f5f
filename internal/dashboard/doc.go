// Package dashboard is the control plane's web dashboard for people: HTML
// pages rendered on the server from html/template, with htmx vendored into
// the binary (static/, embed.FS), served by slipway serve under /ui/.
//
// It is a face over the control plane, like internal/mcpserver: every page
// is rendered from the control plane's HTTP API (internal/cpclient) called
// with the signed-in person's own token, so it holds no power of its own:
// a page that needs a scope works only for a token that has it, because
// the API says so. A person signs in by pasting a token; the session is a
// sealed cookie (AES-256-GCM) holding that token, its identity, its
// expiry and the session's CSRF secret.
//
// It must never import internal/server, internal/store or anything below
// the API; never put a token in a page, a URL, a log line or an error;
// never serve inline scripts or styles (its Content-Security-Policy
// forbids them); and never change state on a GET.
package dashboard
