package cli

import (
	"bytes"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/policy/policytest"
)

// TestServeDashboard: slipway serve serves the dashboard at /ui/ (and /
// redirects there), creates its session key once with mode 0600, and a
// person signs in with a token checked through the server's own API
// in-process; --dashboard=false serves none of it.
func TestServeDashboard(t *testing.T) {
	t.Parallel()
	dir, data := t.TempDir(), t.TempDir()
	_, pub := policytest.NewKeypair(t)
	writeFile(t, filepath.Join(dir, "release.pub"), string(pub))
	writeFile(t, filepath.Join(dir, "policy.yaml"), "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: release.pub}]\nbuilders: ["+releaseBuilder+"]\n")
	tok := createToken(t, dir, data, "read", "--name", "alice")
	base := startServe(t, dir, data, "policy.yaml")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, _ := get("/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/" {
		t.Fatalf("GET /: %d %q, want 303 to /ui/", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := get("/ui/login"); resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") || !strings.Contains(body, `name="token"`) {
		t.Fatalf("GET /ui/login: %d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), body)
	}
	info, err := os.Stat(filepath.Join(data, "dashboard-session.key"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("DATA/dashboard-session.key: %v %v, want mode 0600", info, err)
	}
	resp, err := c.PostForm(base+"/ui/login", url.Values{"token": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /ui/login: %d", resp.StatusCode)
	}
	if resp, body := get("/ui/"); resp.StatusCode != 200 || !strings.Contains(body, "token:alice/") || !strings.Contains(body, "No release matches") {
		t.Fatalf("GET /ui/ signed in: %d\n%s", resp.StatusCode, body)
	}

	off := startServe(t, dir, t.TempDir(), "policy.yaml", "--dashboard=false")
	for _, path := range []string{"/", "/ui/", "/ui/login"} {
		resp, err := c.Get(off + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("--dashboard=false: GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
}

// TestDashboardSessionKey: the session key file is created once (0600)
// and read again; a given file must exist, be private and hold 32 bytes
// in hex.
func TestDashboardSessionKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	created := filepath.Join(dir, "data", "dashboard-session.key")
	os.Mkdir(filepath.Join(dir, "data"), 0o700)
	k1, err := sessionKey(created, true)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := sessionKey(created, true)
	if err != nil || !bytes.Equal(k1, k2) || len(k1) != 32 {
		t.Fatalf("the key was not kept: %x then %x, %v", k1, k2, err)
	}
	good := filepath.Join(dir, "good.key")
	os.WriteFile(good, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	open := filepath.Join(dir, "open.key")
	os.WriteFile(open, []byte(strings.Repeat("ab", 32)), 0o644)
	short := filepath.Join(dir, "short.key")
	os.WriteFile(short, []byte(strings.Repeat("ab", 16)), 0o600)
	notHex := filepath.Join(dir, "nothex.key")
	os.WriteFile(notHex, []byte(strings.Repeat("zz", 32)), 0o600)
	for _, c := range []struct {
		file, want string
	}{
		{good, ""},
		{filepath.Join(dir, "missing.key"), "openssl rand -hex 32"},
		{open, "chmod 600"},
		{short, "not 32 bytes in hex"},
		{notHex, "not 32 bytes in hex"},
		{dir, "not a regular file"},
	} {
		_, err := sessionKey(c.file, false)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("sessionKey(%q): %v, want %q", filepath.Base(c.file), err, c.want)
		}
	}
}
