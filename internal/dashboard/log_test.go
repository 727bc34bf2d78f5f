package dashboard_test

import (
	"html"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/server/servertest"
	"github.com/slipway/actions/internal/token"
)

// inlineCode finds inline scripts, styles and event handlers, which the
// dashboard's CSP forbids.
var inlineCode = regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>[^<]|<style|\sstyle=|\shx-on|\son[a-z]+=|javascript:`)

// apiGet fetches path from the control plane itself (the log is public).
func apiGet(t *testing.T, site *servertest.Site, path string) string {
	t.Helper()
	resp, err := http.Get(site.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// TestLogPages: /ui/log shows the log's latest checkpoint (its signature
// checked) and loads the in-page check from static/js/logcheck.js without
// inline code; an entry looked up by index shows its fields and its
// inclusion proof checked against that checkpoint; a bad or missing index
// is refused with what to give.
func TestLogPages(t *testing.T) {
	t.Parallel()
	site := servertest.Start(t)
	rel := site.Admit(t, []byte("app 1"), "git+https://github.com/acme/app")
	u := startUI(t, site, testKey, 0)
	u.login(t, site.Token(t, "person", 0, token.Read))

	code, body, _ := u.get(t, "/ui/log")
	cp := apiGet(t, site, "/log/checkpoint")
	key := strings.TrimSpace(apiGet(t, site, "/api/v1/log/key"))
	if code != http.StatusOK {
		t.Fatalf("/ui/log: %d\n%s", code, body)
	}
	for _, want := range []string{
		"1 entries", "test.example/log", key, strings.Split(cp, "\n")[2], // the root hash
		`<script src="/ui/static/js/logcheck.js?v=`, `id="logcheck-checkpoint"`, `id="logcheck-sizes"`, `id="logcheck-result"`,
		`data-checkpoint-url="/log/checkpoint"`, `data-key-url="/api/v1/log/key"`, `data-consistency-url="/api/v1/log/consistency"`, `data-tiles-url="/log/"`,
	} {
		if !strings.Contains(html.UnescapeString(body), want) {
			t.Errorf("/ui/log lacks %q", want)
		}
	}
	if m := inlineCode.FindString(body); m != "" {
		t.Errorf("/ui/log has inline code %q", m)
	}
	if code, js, h := u.get(t, "/ui/static/js/logcheck.js"); code != http.StatusOK || !strings.Contains(h.Get("Content-Type"), "javascript") || !strings.Contains(js, "verifyConsistency") {
		t.Errorf("/ui/static/js/logcheck.js: %d %q", code, h.Get("Content-Type"))
	}

	code, body, _ = u.get(t, "/ui/log/entries/0")
	if code != http.StatusOK {
		t.Fatalf("/ui/log/entries/0: %d\n%s", code, body)
	}
	for _, want := range []string{"release-admitted", `<a href="/ui/releases/` + rel.ReleaseID + `">`, "github.com/acme/app",
		strings.TrimPrefix(rel.Artifacts[0].Digest, "sha256:"), `id="inclusion"`, "tree size 1", `"kind": "release-admitted"`} {
		if !strings.Contains(html.UnescapeString(body), want) {
			t.Errorf("/ui/log/entries/0 lacks %q:\n%s", want, body)
		}
	}
	for _, c := range []struct {
		path string
		code int
		want string
	}{
		{"/ui/log/entries/1", http.StatusNotFound, "no such entry"},
		{"/ui/log/entries/x", http.StatusBadRequest, "not a whole number"},
		{"/ui/log/entries/-1", http.StatusBadRequest, "not a whole number"},
		{"/ui/log/entries?index=", http.StatusBadRequest, "not a whole number"},
	} {
		if code, body, _ := u.get(t, c.path); code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d, want %d with %q:\n%s", c.path, code, c.code, c.want, body)
		}
	}
	if code, _, h := u.get(t, "/ui/log/entries?index=0"); code != http.StatusSeeOther || h.Get("Location") != "/ui/log/entries/0" {
		t.Errorf("the lookup form: %d %q, want 303 to /ui/log/entries/0", code, h.Get("Location"))
	}
}
