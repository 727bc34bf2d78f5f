package dashboard

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/slipway/actions/internal/cpclient"
)

//go:embed templates/*.html
var templateFS embed.FS

// view is what every template executes with: the page's own data in
// .Data, the session's identity for the layout, and its CSRF token for
// {{csrfField $}} and the layout's hx-headers.
type view struct {
	Identity string
	Scopes   []string
	CSRF     string
	Version  string
	// Nav is the first path segment after /ui/, for the nav's current page.
	Nav  string
	Data any
}

// SignedIn reports whether the view has a session (not the login page).
func (v view) SignedIn() bool { return v.CSRF != "" }

// funcs are the templates' helpers.
func (d *Dashboard) funcs() template.FuncMap {
	return template.FuncMap{
		// csrfField is the hidden field of a form: {{csrfField $}}.
		"csrfField": func(v view) template.HTML {
			return template.HTML(`<input type="hidden" name="` + csrfField + `" value="` + template.HTMLEscapeString(v.CSRF) + `">`)
		},
		// csrfHeaders is the layout's hx-headers value.
		"csrfHeaders": func(v view) string { return `{"` + csrfHeader + `":"` + v.CSRF + `"}` },
		// static is a static file's URL with its content hash.
		"static": d.static.url,
		// when shows a time in UTC, to the second.
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05Z")
		},
		// short is a digest's first 12 hex digits after its algorithm.
		"short": func(d string) string {
			if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
				return d[i+1 : i+13]
			}
			return d
		},
	}
}

// parseTemplates parses layout.html with each other template file into a
// set of its own (every page defines "title" and "content").
func (d *Dashboard) parseTemplates() (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(d.funcs()).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parsing the dashboard's layout: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, name := range names {
		base := path.Base(name)
		if base == "layout.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, name)
		if err != nil {
			return nil, fmt.Errorf("parsing the dashboard's template %q: %w", base, err)
		}
		out[base] = t
	}
	return out, nil
}

// viewOf is the view of data for s (nil on the login page).
func (d *Dashboard) viewOf(r *http.Request, s *session, data any) view {
	v := view{Version: d.o.Version, Data: data}
	v.Nav, _, _ = strings.Cut(strings.TrimPrefix(r.URL.Path, "/ui/"), "/")
	if s != nil {
		v.Identity, v.Scopes, v.CSRF = s.Identity, s.Scopes, s.CSRF
	}
	return v
}

// render writes the page file (templates/NAME.html) with data inside the
// layout, with status 200.
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, s *session, name string, data any) error {
	return d.renderStatus(w, r, s, http.StatusOK, name, "layout.html", data)
}

// renderFragment writes the template named fragment of the page file
// name without the layout: an htmx answer.
func (d *Dashboard) renderFragment(w http.ResponseWriter, r *http.Request, s *session, name, fragment string, data any) error {
	return d.renderStatus(w, r, s, http.StatusOK, name, fragment, data)
}

// renderStatus executes template tmpl of the set of page file name into
// a buffer first, so that a template error never leaves half a page.
func (d *Dashboard) renderStatus(w http.ResponseWriter, r *http.Request, s *session, status int, name, tmpl string, data any) error {
	t, ok := d.pages[name]
	if !ok {
		return fmt.Errorf("the dashboard has no template %q (a bug)", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, d.viewOf(r, s, data)); err != nil {
		return fmt.Errorf("rendering %q: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// pageError is a refusal of the dashboard's own (a bad query, a page that
// does not exist), shown as its status and detail.
type pageError struct {
	Status int
	Detail string
}

func (e *pageError) Error() string { return e.Detail }

// failure is the data of error.html.
type failure struct {
	Status int
	Title  string
	Detail string
	// Scope is the scope the API said the token lacks, for a 403.
	Login bool
}

// fail shows err in the layout: the API's problem (status and detail), or
// the dashboard's own refusal; anything else is a 500 whose cause goes to
// the log, never to the page. An API 401 (the token expired or was
// revoked) ends the session and sends the person to the login page.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, err error) {
	s := sessionFrom(r)
	f := failure{Status: http.StatusInternalServerError, Title: "Something went wrong",
		Detail: "the dashboard could not show this page; the server's log has the cause"}
	var pe *pageError
	var ae *cpclient.Error
	switch {
	case errors.As(err, &pe):
		f.Status, f.Detail = pe.Status, pe.Detail
		f.Title = http.StatusText(pe.Status)
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		d.clearSession(w)
		d.toLogin(w, r)
		return
	case errors.As(err, &ae):
		f.Status, f.Title, f.Detail = ae.Status, http.StatusText(ae.Status), ae.Detail
		if ae.Status == http.StatusForbidden {
			f.Title = "Not allowed for this token"
		}
		if ae.Status >= 500 || ae.Status < 400 {
			f.Status = http.StatusBadGateway
			d.o.Log.Warn("dashboard: the control plane failed", "path", r.URL.Path, "err", err.Error())
		}
	default:
		d.o.Log.Error("dashboard: page failed", "path", r.URL.Path, "err", err.Error())
	}
	if rerr := d.renderStatus(w, r, s, f.Status, "error.html", "layout.html", f); rerr != nil {
		d.o.Log.Error("dashboard: rendering an error page failed", "path", r.URL.Path, "err", rerr.Error())
		http.Error(w, f.Detail, f.Status)
	}
}

// apiError is err as the API's refusal; nil when it is not one.
func apiError(err error) *cpclient.Error {
	var ae *cpclient.Error
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}
