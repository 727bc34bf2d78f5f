package dashboard_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/server/servertest"
	"github.com/slipway/actions/internal/token"
)

var secretRE = regexp.MustCompile(`slw_([a-z2-7]{16})_[a-z2-7]{52}`)

// identityOf asks the control plane who tok is: its status.
func identityOf(t *testing.T, site *servertest.Site, tok string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", site.URL+"/api/v1/identity", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestTokensPage: an admin lists tokens (its own marked), makes one whose
// value is on the answer page only (no redirect, no URL, not on the list
// afterwards) and works at once, sees a refused form again with the API's
// reason, and revokes a token (it gets 401 at once); forms without the
// session's CSRF token are refused; a read-only session sees "needs the
// admin scope" for the list and both actions.
func TestTokensPage(t *testing.T) {
	t.Parallel()
	site := servertest.Start(t)
	u := startUI(t, site, testKey, 0)
	u.login(t, site.Token(t, "boss", 0, token.Read, token.Admin))
	csrf := u.csrf(t)

	code, body, _ := u.get(t, "/ui/tokens")
	if code != http.StatusOK || !strings.Contains(body, "boss") || !strings.Contains(body, "(this session)") || !strings.Contains(body, `<td>ci</td>`) ||
		inlineCode.MatchString(body) {
		t.Fatalf("/ui/tokens: %d\n%s", code, body)
	}

	form := url.Values{"csrf": {csrf}, "name": {"robot"}, "scope": {"read", "dispatch"}, "ttl": {"720h"}}
	if code, _, _ := u.send(t, "POST", "/ui/tokens", url.Values{"name": {"robot"}, "scope": {"read"}}, nil); code != http.StatusForbidden {
		t.Errorf("create without the CSRF token: %d, want 403", code)
	}
	code, body, hdr := u.send(t, "POST", "/ui/tokens", form, nil)
	m := secretRE.FindAllStringSubmatch(body, -1)
	if code != http.StatusOK || len(m) != 1 || hdr.Get("Location") != "" || !strings.Contains(body, "copy it now") {
		t.Fatalf("create: %d %q, %d secrets\n%s", code, hdr.Get("Location"), len(m), body)
	}
	secret, id := m[0][0], m[0][1]
	if strings.Contains(body, "="+secret) || strings.Contains(body, "/"+secret) {
		t.Errorf("the secret is in a link or a form:\n%s", body)
	}
	if code := identityOf(t, site, secret); code != http.StatusOK {
		t.Errorf("the new token: %d, want 200", code)
	}
	code, body, _ = u.get(t, "/ui/tokens")
	if code != http.StatusOK || strings.Contains(body, secret[len(secret)-52:]) || !strings.Contains(body, id) || !strings.Contains(html.UnescapeString(body), "robot") {
		t.Fatalf("the list after create: %d, the secret shown again or the token missing\n%s", code, body)
	}

	for _, c := range []struct {
		name string
		form url.Values
		want string
	}{
		{"no name", url.Values{"csrf": {csrf}, "name": {""}, "scope": {"read"}}, `field "name" is empty`},
		{"no scope", url.Values{"csrf": {csrf}, "name": {"kept"}}, `field "scopes" is empty`},
		{"bad lifetime", url.Values{"csrf": {csrf}, "name": {"kept"}, "scope": {"read"}, "ttl": {"a month"}}, `field "ttl"`},
	} {
		code, body, _ := u.send(t, "POST", "/ui/tokens", c.form, nil)
		page := html.UnescapeString(body)
		if code != http.StatusBadRequest || !strings.Contains(page, c.want) || secretRE.MatchString(body) ||
			(c.form.Get("name") != "" && !strings.Contains(body, `value="kept"`)) {
			t.Errorf("%s: %d, want 400 saying %q and the form kept\n%s", c.name, code, c.want, body)
		}
	}

	if code, _, _ := u.send(t, "POST", "/ui/tokens/"+id+"/revoke", url.Values{}, nil); code != http.StatusForbidden {
		t.Errorf("revoke without the CSRF token: %d, want 403", code)
	}
	code, _, hdr = u.send(t, "POST", "/ui/tokens/"+id+"/revoke", url.Values{"csrf": {csrf}}, nil)
	if code != http.StatusSeeOther || hdr.Get("Location") != "/ui/tokens" {
		t.Fatalf("revoke: %d %q", code, hdr.Get("Location"))
	}
	if code := identityOf(t, site, secret); code != http.StatusUnauthorized {
		t.Errorf("the revoked token: %d, want 401", code)
	}
	if _, body, _ = u.get(t, "/ui/tokens"); !strings.Contains(body, `<span class="fail">revoked</span>`) {
		t.Errorf("the list does not show the token revoked:\n%s", body)
	}
	if code, body, _ := u.send(t, "POST", "/ui/tokens/aaaaaaaaaaaaaaaa/revoke", url.Values{"csrf": {csrf}}, nil); code != http.StatusNotFound ||
		!strings.Contains(html.UnescapeString(body), `no token has ID "aaaaaaaaaaaaaaaa"`) {
		t.Errorf("revoking an unknown token: %d\n%s", code, body)
	}

	reader := startUI(t, site, testKey, 0)
	reader.login(t, site.Token(t, "viewer", 0, token.Read))
	rcsrf := reader.csrf(t)
	for _, c := range []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/ui/tokens", nil},
		{"POST", "/ui/tokens", url.Values{"csrf": {rcsrf}, "name": {"sneaky"}, "scope": {"admin"}}},
		{"POST", "/ui/tokens/" + id + "/revoke", url.Values{"csrf": {rcsrf}}},
	} {
		code, body, _ := reader.send(t, c.method, c.path, c.form, nil)
		if code != http.StatusForbidden || !strings.Contains(body, "needs the admin scope") || secretRE.MatchString(body) || strings.Contains(body, "Make a token") {
			t.Errorf("%s %s with a read-only session: %d\n%s", c.method, c.path, code, body)
		}
	}
}
