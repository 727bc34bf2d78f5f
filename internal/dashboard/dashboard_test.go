package dashboard_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/dashboard"
	"github.com/slipway/actions/internal/server/servertest"
	"github.com/slipway/actions/internal/token"
)

// ui is a dashboard in front of a real control plane, and a browser-like
// client of it (a cookie jar, redirects not followed).
type ui struct {
	site *servertest.Site
	srv  *httptest.Server
	c    *http.Client
}

func startUI(t *testing.T, site *servertest.Site, key []byte, pageSize int) *ui {
	t.Helper()
	base, err := url.Parse(site.URL)
	if err != nil {
		t.Fatal(err)
	}
	d, err := dashboard.New(dashboard.Options{Server: base, SessionKey: key, Version: "test", PageSize: pageSize})
	if err != nil {
		t.Fatal(err)
	}
	return startUIWith(t, site, d)
}

// startUIWith serves d.
func startUIWith(t *testing.T, site *servertest.Site, d *dashboard.Dashboard) *ui {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/ui/", d.Handler())
	mux.Handle("GET /{$}", dashboard.Redirect())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return &ui{site: site, srv: srv, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var testKey = []byte("0123456789abcdef0123456789abcdef")

// get fetches path and returns the status, body and header.
func (u *ui) get(t *testing.T, path string) (int, string, http.Header) {
	t.Helper()
	return u.send(t, "GET", path, nil, nil)
}

// send sends a request (a form when form is not nil) with extra headers.
func (u *ui) send(t *testing.T, method, path string, form url.Values, hdr map[string]string) (int, string, http.Header) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := u.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

// login signs in with tok and checks that it worked.
func (u *ui) login(t *testing.T, tok string) {
	t.Helper()
	code, body, h := u.send(t, "POST", "/ui/login", url.Values{"token": {tok}, "next": {"/ui/"}}, nil)
	if code != http.StatusSeeOther || h.Get("Location") != "/ui/" {
		t.Fatalf("login: %d %q\n%s", code, h.Get("Location"), body)
	}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the signed-in session's pages.
func (u *ui) csrf(t *testing.T) string {
	t.Helper()
	_, body, _ := u.get(t, "/ui/")
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF field on /ui/:\n%s", body)
	}
	return m[1]
}

// TestLogin: a token the control plane accepts opens a session showing
// its identity and scopes; an unknown, an expired and a token without
// the read scope are refused on the login page; the token never shows.
func TestLogin(t *testing.T) {
	t.Parallel()
	site := servertest.Start(t)
	expired := site.Token(t, "gone", time.Millisecond, token.Read)
	time.Sleep(5 * time.Millisecond)
	for _, c := range []struct {
		name, tok string
		code      int
		want      string
	}{
		{"good", site.Token(t, "person", 0, token.Read, token.Admin), http.StatusSeeOther, ""},
		{"unknown", "slw_0123456789abcdef_" + strings.Repeat("A", 43), http.StatusUnauthorized, "does not accept this token"},
		{"garbage", "not a token", http.StatusUnauthorized, "does not accept this token"},
		{"expired", expired, http.StatusUnauthorized, "does not accept this token"},
		{"no read scope", site.Token(t, "uploader", 0, token.Upload), http.StatusForbidden, "cannot read releases"},
		{"empty", " ", http.StatusBadRequest, "paste a token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := startUI(t, site, testKey, 0)
			code, body, h := u.send(t, "POST", "/ui/login", url.Values{"token": {c.tok}, "next": {"/ui/?repository=x"}}, nil)
			if code != c.code || !strings.Contains(body, c.want) {
				t.Fatalf("login: %d, want %d with %q:\n%s", code, c.code, c.want, body)
			}
			if strings.TrimSpace(c.tok) != "" && (strings.Contains(body, c.tok) || strings.Contains(h.Get("Location"), c.tok)) {
				t.Error("the login answer shows the token")
			}
			cookie := h.Get("Set-Cookie")
			if c.code != http.StatusSeeOther {
				if cookie != "" {
					t.Errorf("a refused login set a cookie: %q", cookie)
				}
				return
			}
			if h.Get("Location") != "/ui/?repository=x" {
				t.Errorf("login went to %q, want the page asked for", h.Get("Location"))
			}
			for _, attr := range []string{"HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="} {
				if !strings.Contains(cookie, attr) {
					t.Errorf("session cookie %q lacks %s", cookie, attr)
				}
			}
			if strings.Contains(cookie, c.tok) {
				t.Error("the session cookie holds the token in clear")
			}
			code, body, _ = u.get(t, "/ui/")
			if code != http.StatusOK || !strings.Contains(body, "token:person/") || !strings.Contains(body, `<span class="scope">admin</span>`) {
				t.Fatalf("after login, /ui/: %d\n%s", code, body)
			}
			if strings.Contains(body, c.tok) {
				t.Error("a page shows the token")
			}
		})
	}
}

// TestSession: without a session, or with one tampered with, sealed by
// another key or signed out, a page sends the browser to the login page
// (an htmx request gets HX-Redirect and 401).
func TestSession(t *testing.T) {
	t.Parallel()
	site := servertest.Start(t)
	tok := site.Token(t, "person", 0, token.Read)
	u := startUI(t, site, testKey, 0)
	code, _, h := u.get(t, "/ui/?digest=sha256:00")
	if code != http.StatusSeeOther || h.Get("Location") != "/ui/login?next=%2Fui%2F%3Fdigest%3Dsha256%3A00" {
		t.Fatalf("without a session: %d %q", code, h.Get("Location"))
	}
	code, _, h = u.send(t, "GET", "/ui/", nil, map[string]string{"HX-Request": "true"})
	if code != http.StatusUnauthorized || !strings.HasPrefix(h.Get("HX-Redirect"), "/ui/login") {
		t.Fatalf("htmx without a session: %d %q", code, h.Get("HX-Redirect"))
	}
	u.login(t, tok)
	srvURL, _ := url.Parse(u.srv.URL)
	sealed := u.c.Jar.Cookies(srvURL)[0]
	for name, value := range map[string]string{
		"tampered":  flip(sealed.Value),
		"truncated": sealed.Value[:len(sealed.Value)-4],
		"empty":     "",
		"not b64":   "!!!" + sealed.Value,
	} {
		other := startUI(t, site, testKey, 0)
		other.c.Jar.SetCookies(mustURL(t, other.srv.URL), []*http.Cookie{{Name: sealed.Name, Value: value}})
		if code, _, h := other.get(t, "/ui/"); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/ui/login") {
			t.Errorf("%s cookie: %d %q, want the login page", name, code, h.Get("Location"))
		}
	}
	// The same cookie works on a replica with the same key, not on one with another.
	same := startUI(t, site, testKey, 0)
	same.c.Jar.SetCookies(mustURL(t, same.srv.URL), []*http.Cookie{{Name: sealed.Name, Value: sealed.Value}})
	if code, _, _ := same.get(t, "/ui/"); code != http.StatusOK {
		t.Errorf("a replica with the same key: %d, want 200", code)
	}
	foreign := startUI(t, site, []byte("fedcba9876543210fedcba9876543210"), 0)
	foreign.c.Jar.SetCookies(mustURL(t, foreign.srv.URL), []*http.Cookie{{Name: sealed.Name, Value: sealed.Value}})
	if code, _, _ := foreign.get(t, "/ui/"); code != http.StatusSeeOther {
		t.Errorf("a replica with another key: %d, want 303 to the login page", code)
	}
	// Signing out drops the cookie.
	code, _, h = u.send(t, "POST", "/ui/logout", url.Values{"csrf": {u.csrf(t)}}, nil)
	if code != http.StatusSeeOther || !strings.Contains(h.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("logout: %d %q", code, h.Get("Set-Cookie"))
	}
	if code, _, _ := u.get(t, "/ui/"); code != http.StatusSeeOther {
		t.Errorf("after logout: %d, want 303 to the login page", code)
	}
}

// TestSessionEndsWithToken: once the API refuses the session's token (it
// expired here; a revoked one is refused the same way), the session ends.
func TestSessionEndsWithToken(t *testing.T) {
	t.Parallel()
	site := servertest.Start(t)
	u := startUI(t, site, testKey, 0)
	u.login(t, site.Token(t, "brief", time.Hour, token.Read))
	if code, _, _ := u.get(t, "/ui/"); code != http.StatusOK {
		t.Fatalf("while the token works: %d", code)
	}
	revoke(t, site, "brief")
	code, _, h := u.get(t, "/ui/")
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/ui/login") || !strings.Contains(h.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("after the token was revoked: %d %q %q, want the login page and the cookie dropped", code, h.Get("Location"), h.Get("Set-Cookie"))
	}
}

// revoke revokes the token named name through the control plane's admin
// API, as an admin would.
func revoke(t *testing.T, site *servertest.Site, name string) {
	t.Helper()
	admin := site.Token(t, "admin-"+name, 0, token.Admin)
	call := func(method, path string) []byte {
		req, _ := http.NewRequest(method, site.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, body)
		}
		return body
	}
	var list struct{ Tokens []struct{ ID, Name string } }
	if err := json.Unmarshal(call("GET", "/api/v1/tokens"), &list); err != nil {
		t.Fatal(err)
	}
	for _, tk := range list.Tokens {
		if tk.Name == name {
			call("POST", "/api/v1/tokens/"+tk.ID+"/revoke")
			return
		}
	}
	t.Fatalf("no token named %q in %+v", name, list.Tokens)
}

// TestCSRF: an unsafe request needs the session's CSRF token (form field
// or htmx header) and must come from the dashboard's own origin.
func TestCSRF(t *testing.T) {
	t.Parallel()
	site := servertest.Start(t)
	tok := site.Token(t, "person", 0, token.Read)
	for _, c := range []struct {
		name string
		form url.Values
		hdr  map[string]string
		code int
	}{
		{"no token", url.Values{}, nil, http.StatusForbidden},
		{"wrong token", url.Values{"csrf": {"AAAA"}}, nil, http.StatusForbidden},
		{"another origin", url.Values{"csrf": {"GOOD"}}, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"cross-site fetch", url.Values{"csrf": {"GOOD"}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"form field", url.Values{"csrf": {"GOOD"}}, map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
		{"htmx header", url.Values{}, map[string]string{"X-CSRF-Token": "GOOD", "HX-Request": "true"}, http.StatusSeeOther},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := startUI(t, site, testKey, 0)
			u.login(t, tok)
			good := u.csrf(t)
			for k, v := range c.form {
				c.form[k] = []string{strings.ReplaceAll(v[0], "GOOD", good)}
			}
			hdr := map[string]string{}
			for k, v := range c.hdr {
				hdr[k] = strings.ReplaceAll(v, "GOOD", good)
			}
			code, body, _ := u.send(t, "POST", "/ui/logout", c.form, hdr)
			if code != c.code {
				t.Fatalf("POST /ui/logout: %d, want %d\n%s", code, c.code, body)
			}
			if code == http.StatusForbidden && !strings.Contains(body, "refused") && !strings.Contains(body, "CSRF") {
				t.Errorf("the 403 does not say why:\n%s", body)
			}
		})
	}
	// The public URL's origin, trusted by name (a proxy in front changes
	// the Host), may post with the CSRF token; another origin still not.
	base := mustURL(t, site.URL)
	d, err := dashboard.New(dashboard.Options{Server: base, SessionKey: testKey, TrustedOrigins: []string{"https://slipway.example"}})
	if err != nil {
		t.Fatal(err)
	}
	for origin, want := range map[string]int{"https://slipway.example": http.StatusSeeOther, "https://evil.example": http.StatusForbidden} {
		u := startUIWith(t, site, d)
		u.login(t, tok)
		if code, body, _ := u.send(t, "POST", "/ui/logout", url.Values{"csrf": {u.csrf(t)}}, map[string]string{"Origin": origin}); code != want {
			t.Errorf("a post from %s with trusted origin https://slipway.example: %d, want %d\n%s", origin, code, want, body)
		}
	}
	if _, err := dashboard.New(dashboard.Options{Server: base, SessionKey: testKey, TrustedOrigins: []string{"slipway.example"}}); err == nil {
		t.Error("a trusted origin without a scheme was accepted")
	}
	// A login from another site is refused too (login CSRF).
	u := startUI(t, site, testKey, 0)
	if code, _, _ := u.send(t, "POST", "/ui/login", url.Values{"token": {tok}}, map[string]string{"Origin": "https://evil.example"}); code != http.StatusForbidden {
		t.Errorf("a cross-origin login: %d, want 403", code)
	}
}

// TestHeaders: every answer carries the CSP and the other security
// headers, and no page has an inline script or style.
func TestHeaders(t *testing.T) {
	t.Parallel()
	site := servertest.Start(t)
	site.Admit(t, []byte("app 1"), "git+https://github.com/acme/app")
	u := startUI(t, site, testKey, 0)
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
	}
	inline := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>[^<]|<style|\sstyle=|\shx-on|\son[a-z]+=|javascript:`)
	check := func(path string, code int, h http.Header, body string) {
		for k, v := range want {
			if h.Get(k) != v {
				t.Errorf("%s: %s %q, want %q", path, k, h.Get(k), v)
			}
		}
		if strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			if m := inline.FindString(body); m != "" {
				t.Errorf("%s has inline script or style %q", path, m)
			}
		}
	}
	for _, path := range []string{"/ui/login", "/ui/", "/ui/nope"} {
		code, body, h := u.get(t, path)
		check(path, code, h, body)
	}
	u.login(t, site.Token(t, "person", 0, token.Read))
	for _, path := range []string{"/ui/", "/ui/?digest=bad", "/ui/nope", "/ui/static/dashboard.css"} {
		code, body, h := u.get(t, path)
		check(path, code, h, body)
	}
	if code, _, h := u.get(t, "/"); code != http.StatusSeeOther || h.Get("Location") != "/ui/" {
		t.Errorf("GET /: %d %q, want 303 to /ui/", code, h.Get("Location"))
	}
}

// TestReleasesSearch: the list searches by repository, digest and time
// through the API, and shows the API's refusal of a bad search.
func TestReleasesSearch(t *testing.T) {
	t.Parallel()
	site := servertest.Start(t)
	app1 := site.Admit(t, []byte("app 1"), "git+https://github.com/acme/app")
	app2 := site.Admit(t, []byte("app 2"), "git+https://github.com/acme/app")
	lib := site.Admit(t, []byte("lib 1"), "git+https://github.com/acme/lib")
	u := startUI(t, site, testKey, 0)
	u.login(t, site.Token(t, "person", 0, token.Read))
	all := []string{app1.ReleaseID, app2.ReleaseID, lib.ReleaseID}
	for _, c := range []struct {
		query string
		code  int
		want  []string
		text  string
	}{
		{"", 200, all, ""},
		{"repository=github.com%2Facme%2Fapp", 200, []string{app1.ReleaseID, app2.ReleaseID}, ""},
		{"repository=github.com%2Facme%2Flib", 200, []string{lib.ReleaseID}, ""},
		{"repository=github.com%2Facme%2Fnone", 200, nil, "No release matches"},
		{"digest=" + app2.Artifacts[0].Digest, 200, []string{app2.ReleaseID}, ""},
		{"digest=" + lib.ManifestDigest, 200, []string{lib.ReleaseID}, ""},
		{"since=2000-01-01&until=2999-01-01T00:00", 200, all, ""},
		{"since=2999-01-01", 200, nil, "No release matches"},
		{"digest=sha256:nothex", 400, nil, "digest"},
		{"since=yesterday", 400, nil, "since &#34;yesterday&#34; is not a time"},
	} {
		code, body, _ := u.get(t, "/ui/?"+c.query)
		if code != c.code || !strings.Contains(body, c.text) {
			t.Errorf("?%s: %d, want %d with %q\n%s", c.query, code, c.code, c.text, body)
			continue
		}
		for _, id := range all {
			if shown := strings.Contains(body, "/ui/releases/"+id); shown != slices.Contains(c.want, id) {
				t.Errorf("?%s: release %s shown=%v, want %v", c.query, id, shown, !shown)
			}
		}
	}
	_, body, _ := u.get(t, "/ui/?repository=github.com%2Facme%2Flib")
	for _, want := range []string{"github.com/acme/lib", fmt.Sprintf(`href="/ui/log/entries/%d"`, lib.LogIndex), "app.bin", `value="github.com/acme/lib"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the lib release's row lacks %q:\n%s", want, body)
		}
	}
}

// TestReleasesPaging: the list pages by the API's keyset cursor, newest
// first, with a next link until the last page, keeping the search.
func TestReleasesPaging(t *testing.T) {
	t.Parallel()
	site := servertest.Start(t)
	var ids []string
	for i := range 5 {
		ids = append(ids, site.Admit(t, fmt.Appendf(nil, "app %d", i), "git+https://github.com/acme/app").ReleaseID)
	}
	site.Admit(t, []byte("other"), "git+https://github.com/acme/other")
	u := startUI(t, site, testKey, 2)
	u.login(t, site.Token(t, "person", 0, token.Read))
	nextRE := regexp.MustCompile(`href="([^"]+)" rel="next"`)
	rowRE := regexp.MustCompile(`href="/ui/releases/(r-[0-9a-f]{16})"`)
	var seen []string
	path := "/ui/?repository=github.com%2Facme%2Fapp"
	for pages := 0; path != ""; pages++ {
		if pages > 3 {
			t.Fatal("more pages than releases")
		}
		code, body, _ := u.get(t, path)
		if code != http.StatusOK {
			t.Fatalf("%s: %d\n%s", path, code, body)
		}
		for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
			seen = append(seen, m[1])
		}
		path = ""
		if m := nextRE.FindStringSubmatch(body); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
			if !strings.Contains(path, "repository=github.com%2Facme%2Fapp") || !strings.Contains(path, "page_token=") {
				t.Errorf("next link %q lost the search or has no cursor", path)
			}
		}
	}
	want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}
	if strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Errorf("pages showed %v, want %v (newest first, each once)", seen, want)
	}
}

// flip changes one character in the middle of a cookie value.
func flip(v string) string {
	b := []byte(v)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestSessionCappedByToken: a session lasts SessionTTL, and never past the
// expiry of the token it was made from (GET /api/v1/identity's expires).
func TestSessionCappedByToken(t *testing.T) {
	t.Parallel()
	site := servertest.Start(t)
	for _, c := range []struct {
		name   string
		ttl    time.Duration
		maxAge time.Duration
	}{
		{"token for an hour", time.Hour, time.Hour},
		{"token without expiry", 0, dashboard.SessionTTL},
		{"token for a week", 7 * 24 * time.Hour, dashboard.SessionTTL},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := startUI(t, site, testKey, 0)
			code, _, h := u.send(t, "POST", "/ui/login", url.Values{"token": {site.Token(t, "capped", c.ttl, token.Read)}, "next": {"/ui/"}}, nil)
			cookie, err := http.ParseSetCookie(h.Get("Set-Cookie"))
			if code != http.StatusSeeOther || err != nil {
				t.Fatalf("login: %d, cookie %q: %v", code, h.Get("Set-Cookie"), err)
			}
			got := time.Duration(cookie.MaxAge) * time.Second
			if got > c.maxAge || got < c.maxAge-time.Minute {
				t.Errorf("session cookie Max-Age %s, want about %s", got, c.maxAge)
			}
		})
	}
}
