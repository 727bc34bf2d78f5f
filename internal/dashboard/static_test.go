package dashboard

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// htmxVersion and htmxSHA256 are the vendored htmx (npm pack
// htmx.org@2, dist/htmx.min.js), as docs/dashboard.md records them.
const (
	htmxVersion = "2.0.11"
	htmxSHA256  = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
)

// TestVendoredHTMX: the embedded htmx is the file npm ships, byte for
// byte, and docs/dashboard.md names its version and digest.
func TestVendoredHTMX(t *testing.T) {
	t.Parallel()
	b, err := staticFS.ReadFile("static/htmx.min.js")
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != htmxSHA256 {
		t.Errorf("static/htmx.min.js has SHA-256 %x, want %s (htmx.org %s from npm); vendor it again and update docs/dashboard.md", sum, htmxSHA256, htmxVersion)
	}
	if !strings.Contains(string(b), `version:"`+htmxVersion+`"`) {
		t.Errorf("static/htmx.min.js does not say it is htmx %s", htmxVersion)
	}
	doc, err := os.ReadFile("../../docs/dashboard.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"htmx.org@" + htmxVersion, htmxSHA256} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("docs/dashboard.md does not record %q", want)
		}
	}
}

// TestStatic: a static file's URL carries its content hash and is cached
// as immutable; without the hash it is revalidated; an unknown file is
// 404.
func TestStatic(t *testing.T) {
	t.Parallel()
	s, err := loadStatic()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /ui/static/{name...}", s)
	for _, name := range []string{"htmx.min.js", "dashboard.css"} {
		u, err := s.url(name)
		if err != nil {
			t.Fatal(err)
		}
		for path, cache := range map[string]string{u: "public, max-age=31536000, immutable", "/ui/static/" + name: "no-cache", "/ui/static/" + name + "?v=0": "no-cache"} {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
			if rec.Code != 200 || rec.Header().Get("Cache-Control") != cache {
				t.Errorf("%s: %d %q, want 200 %q", path, rec.Code, rec.Header().Get("Cache-Control"), cache)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") && !strings.HasPrefix(ct, "text/css") {
				t.Errorf("%s: Content-Type %q", path, ct)
			}
		}
	}
	if _, err := s.url("nope.js"); err == nil {
		t.Error("url of a file that is not embedded: no error")
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/ui/static/nope.js", nil))
	if rec.Code != 404 {
		t.Errorf("an unknown static file: %d, want 404", rec.Code)
	}
}

// TestLocalNext: after signing in the browser goes only to a dashboard
// page of this host, never elsewhere (no open redirect).
func TestLocalNext(t *testing.T) {
	t.Parallel()
	for next, want := range map[string]string{
		"":                         "/ui/",
		"/ui/":                     "/ui/",
		"/ui/releases/r-0123?x=1":  "/ui/releases/r-0123?x=1",
		"https://evil.example/ui/": "/ui/",
		"//evil.example/ui/":       "/ui/",
		"/ui/\\evil":               "/ui/",
		"/uix":                     "/ui/",
		"/ui/\r\nSet-Cookie: x=1":  "/ui/",
		"/healthz":                 "/ui/",
	} {
		if got := localNext(next); got != want {
			t.Errorf("localNext(%q) = %q, want %q", next, got, want)
		}
	}
}

// TestSealer: a sealed session opens with its key only, until it
// expires; any change to the value is refused.
func TestSealer(t *testing.T) {
	t.Parallel()
	k, err := newSealer([]byte("0123456789abcdef0123456789abcdef"), cookieName(true))
	if err != nil {
		t.Fatal(err)
	}
	now := testNow()
	s := &session{Token: "slw_secret", Identity: "token:p/1", Scopes: []string{"read"}, CSRF: newCSRF(), Expires: now.Add(SessionTTL)}
	v, err := k.seal(s)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(v, "slw_secret") {
		t.Fatal("the sealed value holds the token in clear")
	}
	got, err := k.open(v, now)
	if err != nil || got.Token != s.Token || got.CSRF != s.CSRF || !got.Has("read") || got.Has("admin") {
		t.Fatalf("open: %+v, %v", got, err)
	}
	if _, err := k.open(v, now.Add(SessionTTL)); err == nil {
		t.Error("an expired session opened")
	}
	other, _ := newSealer([]byte("0123456789abcdef0123456789abcdef"), cookieName(false))
	if _, err := other.open(v, now); err == nil {
		t.Error("a session sealed for another cookie name opened")
	}
	for i := range len(v) {
		b := []byte(v)
		b[i] ^= 1
		if _, err := k.open(string(b), now); err == nil {
			t.Fatalf("a value changed at byte %d opened", i)
		}
	}
	if _, err := newSealer(make([]byte, 16), "x"); err == nil || !strings.Contains(err.Error(), "openssl rand -hex 32") {
		t.Errorf("a 16-byte key: %v", err)
	}
}

func testNow() time.Time { return time.Date(2026, 12, 5, 14, 0, 0, 0, time.UTC) }
