package cli

import (
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/oidc"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

var runUpload = stageRunner("upload")

// uploadWorkspace writes dist/app and its manifest.
func uploadWorkspace(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	app := []byte("the app\n")
	if err := os.MkdirAll(filepath.Join(dir, "dist"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dist", "app"), app, 0o644); err != nil {
		t.Fatal(err)
	}
	m := artifact.NewManifest()
	m.Add(artifact.Record{Name: "dist/app", Path: "dist/app", Digest: digest.SHA256(sha256.Sum256(app)), Size: int64(len(app)),
		MediaType: "application/octet-stream", Role: artifact.RoleArtifact})
	if err := m.WriteFile(filepath.Join(dir, "dist", "manifest.json")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestUploadCommandBadInput(t *testing.T) {
	t.Parallel()
	dir := uploadWorkspace(t)
	tok := map[string]string{"SLIPWAY_TOKEN": "slw_x_y"}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no credentials", nil, []string{"--server", "http://127.0.0.1:9", "--manifest", "dist/manifest.json"}, "no credentials for the control plane"},
		{"plain http elsewhere", tok, []string{"--server", "http://slipway.example.org", "--manifest", "dist/manifest.json"}, "in clear"},
		{"not a URL", tok, []string{"--server", "slipway.example.org", "--manifest", "dist/manifest.json"}, "not the base URL"},
		{"manifest outside", tok, []string{"--server", "https://slipway.example.org", "--manifest", "../manifest.json"}, `input "manifest"`},
		{"receipt outside", tok, []string{"--server", "https://slipway.example.org", "--manifest", "dist/manifest.json", "--receipt", "/etc/x.receipt"}, `input "receipt"`},
		{"no manifest", tok, []string{"--server", "http://127.0.0.1:9", "--manifest", "dist/nope.json"}, "dist/nope.json"},
		{"no server", tok, []string{"--manifest", "dist/manifest.json"}, `input "server"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runUpload(t, dir, tc.env, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.want)
			}
			if strings.Contains(stderr, "slw_x_y") {
				t.Errorf("stderr holds the token: %q", stderr)
			}
		})
	}
}

// TestUploadCommandOIDC: without a token, inside a job that may request ID
// tokens, each request carries a fresh GitHub Actions ID token for the
// audience (the server's URL by default), and none is printed; in GitHub
// Actions the runtime's request token is masked too.
func TestUploadCommandOIDC(t *testing.T) {
	t.Parallel()
	iss := sigstoretest.NewIssuer(t, sigstoretest.GitHubIssuer)
	te := sigstoretest.StartTokenEndpoint(t, iss, sigstoretest.GitHubClaims("example/app", ".github/workflows/release.yml"))
	for _, tc := range []struct {
		name, audience string
		actions        bool
	}{{"default audience", "", false}, {"audience input", "https://slipway.example.org", false}, {"in GitHub Actions", "", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var seen []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
				mu.Unlock()
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusForbidden)
				w.Write([]byte(`{"type":"urn:slipway:problem:forbidden","title":"Not an uploader","status":403,"detail":"no uploader rule allows example/app; add one to the server's policy"}`))
			}))
			defer srv.Close()
			args := []string{"--server", srv.URL, "--manifest", "dist/manifest.json"}
			if tc.audience != "" {
				args = append(args, "--audience", tc.audience)
			}
			env := te.Env()
			if tc.actions {
				env["GITHUB_ACTIONS"] = "true"
			}
			code, stdout, stderr := runUpload(t, uploadWorkspace(t), env, args...)
			// In GitHub Actions the error is an ::error:: command on stdout.
			if code != 2 || !strings.Contains(stdout+stderr, "no uploader rule allows example/app") {
				t.Fatalf("exit %d, stdout %q, stderr %q: want 2 with the server's detail", code, stdout, stderr)
			}
			if masked := strings.Contains(stdout, "::add-mask::"+te.RequestToken+"\n"); masked != tc.actions {
				t.Errorf("the request token masked: %t, want %t; stdout %q", masked, tc.actions, stdout)
			}
			if strings.Count(stdout+stderr, te.RequestToken) > 1 {
				t.Error("the request token is printed besides its mask")
			}
			mu.Lock()
			defer mu.Unlock()
			if len(seen) == 0 {
				t.Fatal("no request reached the server")
			}
			want := tc.audience
			if want == "" {
				want = srv.URL
			}
			for _, tok := range seen {
				c, err := oidc.ParseClaims(tok)
				if err != nil {
					t.Fatalf("the bearer token is not a JWT: %v", err)
				}
				if len(c.Audience) != 1 || c.Audience[0] != want {
					t.Errorf("token audience %v, want %q", c.Audience, want)
				}
				if strings.Contains(stderr, tok) {
					t.Error("stderr holds the ID token")
				}
			}
		})
	}
}
