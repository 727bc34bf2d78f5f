package dashboard

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/slipway/actions/internal/cpclient"
)

// Options configure a Dashboard.
type Options struct {
	// Server is the control plane's API base URL (in slipway serve, the
	// server itself, reached in-process through HTTP).
	Server *url.URL
	// HTTP is the client of the API; nil for one that follows no
	// redirects.
	HTTP *http.Client
	// Log receives one line per failed page (never a token); nil
	// discards.
	Log *slog.Logger
	// Version is shown in the footer.
	Version string
	// SessionKey seals session cookies: 32 bytes (KeySize). Replicas
	// given the same key share sessions.
	SessionKey []byte
	// Secure marks the session cookie Secure with the __Host- prefix:
	// set it when people reach the dashboard over HTTPS (TLS, or a
	// proxy in front).
	Secure bool
	// TrustedOrigins are origins ("https://slipway.example") whose
	// cross-origin form posts are allowed: the public URL people use when a
	// proxy in front changes the Host the server sees. The session's CSRF
	// token is still required.
	TrustedOrigins []string
	// PageSize is how many rows a list page shows; 0 means 50.
	PageSize int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Dashboard is the web dashboard's handler set.
type Dashboard struct {
	o       Options
	seal    *sealer
	pages   map[string]*template.Template // page file -> layout + that page
	static  *staticFiles
	cache   *summaries // provenance and SBOM summaries by digest (release.go)
	handler http.Handler
}

// page is one dashboard URL: a ServeMux pattern with its method and a
// handler that gets the signed-in person's session. A handler returns an
// error to have it shown (d.fail) after writing nothing.
type page struct {
	Pattern string
	Handler func(w http.ResponseWriter, r *http.Request, s *session) error
}

// pageGroups lists the dashboard's pages, one file each; a new group is
// a method returning its pages, added here. Login (login.go) is the only
// page without a session and is not listed here.
var pageGroups = []func(*Dashboard) []page{
	(*Dashboard).releasePages,   // releases.go: /ui/ (list, search), /ui/releases/{id}
	(*Dashboard).logPages,       // log.go: /ui/log (checkpoint, the in-page check), /ui/log/entries/{index}
	(*Dashboard).jobPages,       // jobs.go: /ui/jobs (list), /ui/jobs/{id} (detail, outputs), /ui/jobs/{id}/tail (htmx)
	(*Dashboard).rejectionPages, // rejections.go: /ui/rejections (list, search)
	(*Dashboard).tokenPages,     // tokens.go: /ui/tokens (admin: list, create shown once, revoke)
}

// New builds the dashboard: its templates are parsed here, so a broken
// one fails at start, not on a page.
func New(o Options) (*Dashboard, error) {
	if o.Server == nil {
		return nil, errors.New("the dashboard needs the control plane's URL (a bug in the caller)")
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.PageSize <= 0 {
		o.PageSize = 50
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	seal, err := newSealer(o.SessionKey, cookieName(o.Secure))
	if err != nil {
		return nil, err
	}
	d := &Dashboard{o: o, seal: seal, cache: newSummaries(4096)}
	if d.static, err = loadStatic(); err != nil {
		return nil, err
	}
	if d.pages, err = d.parseTemplates(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /ui/static/{name...}", d.static)
	mux.HandleFunc("GET /ui/login", d.loginForm)
	mux.HandleFunc("POST /ui/login", d.login)
	mux.Handle("POST /ui/logout", d.withSession(d.logout))
	for _, group := range pageGroups {
		for _, p := range group(d) {
			mux.Handle(p.Pattern, d.withSession(p.Handler))
		}
	}
	mux.Handle("/ui/", d.withSession(func(w http.ResponseWriter, r *http.Request, s *session) error {
		return &pageError{Status: http.StatusNotFound, Detail: fmt.Sprintf("there is no page %q", r.URL.Path)}
	}))
	cop := http.NewCrossOriginProtection()
	for _, origin := range o.TrustedOrigins {
		if err := cop.AddTrustedOrigin(origin); err != nil {
			return nil, fmt.Errorf("the dashboard's trusted origin %q: %w; give scheme://host[:port]", origin, err)
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.fail(w, r, &pageError{Status: http.StatusForbidden, Detail: "a request from another site was refused; use the dashboard's own pages"})
	}))
	d.handler = securityHeaders(cop.Handler(mux))
	return d, nil
}

// Handler serves /ui/ (mount it at "/ui/"; Redirect serves "GET /{$}").
func (d *Dashboard) Handler() http.Handler { return d.handler }

// Redirect sends a browser from / to /ui/.
func Redirect() http.Handler { return http.RedirectHandler("/ui/", http.StatusSeeOther) }

// client is the control plane's API client with the session's token.
func (d *Dashboard) client(s *session) *cpclient.Client {
	return cpclient.New(d.o.Server, s.Token, d.o.HTTP)
}

func (d *Dashboard) now() time.Time { return d.o.Now() }

// csp is the Content-Security-Policy of every answer: our own scripts,
// styles and connections only; no inline script or style, no frames, no
// forms to elsewhere.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// securityHeaders sets the headers every dashboard answer carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// sessionKey is the request context's key of its session.
type sessionKey struct{}

// csrfHeader is the header htmx requests carry the CSRF token in (the
// layout's hx-headers); forms carry it in the field csrfField.
const (
	csrfHeader = "X-CSRF-Token"
	csrfField  = "csrf"
)

// withSession serves h to a signed-in person: without a valid session, a
// page is sent to the login page (an htmx request gets HX-Redirect); an
// unsafe method must carry the session's CSRF token, else 403.
func (d *Dashboard) withSession(h func(http.ResponseWriter, *http.Request, *session) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		s, err := d.sessionOf(r)
		if err != nil {
			d.toLogin(w, r)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, s))
		if !safeMethod(r.Method) {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			got := r.Header.Get(csrfHeader)
			if got == "" {
				got = r.PostFormValue(csrfField)
			}
			if subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) != 1 {
				d.fail(w, r, &pageError{Status: http.StatusForbidden, Detail: "the form's CSRF token is missing or not this session's; reload the page and try again"})
				return
			}
		}
		if err := h(w, r, s); err != nil {
			d.fail(w, r, err)
		}
	})
}

// maxForm bounds a form's body.
const maxForm = 64 << 10

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// toLogin sends a person without a session to the login page, to come
// back to the page they asked for (a GET's; a form goes back to the list).
func (d *Dashboard) toLogin(w http.ResponseWriter, r *http.Request) {
	next := "/ui/"
	if r.Method == http.MethodGet && r.Header.Get("HX-Request") == "" {
		next = r.URL.RequestURI()
	}
	to := "/ui/login?" + url.Values{"next": {next}}.Encode()
	if r.Header.Get("HX-Request") != "" {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// sessionFrom is the session withSession put in r's context; nil on the
// login page.
func sessionFrom(r *http.Request) *session {
	s, _ := r.Context().Value(sessionKey{}).(*session)
	return s
}
