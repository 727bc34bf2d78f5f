package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/idtoken"
	"github.com/slipway/actions/internal/server"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// TestAdmitOIDC: admission with GitHub Actions OIDC ID tokens of a real
// local issuer. A job the uploader rule allows is admitted, and its token
// is then used up: the same token cannot admit another release (401, check
// jti). A job no rule allows is refused (422, check uploader) and its token
// takes no room in the replay cache.
func TestAdmitOIDC(t *testing.T) {
	t.Parallel()
	const aud = "https://slipway.example.org"
	iss := sigstoretest.StartOIDCIssuer(t, "")
	is, err := idtoken.NewIssuers([]string{iss.URL}, idtoken.Config{Audience: aud})
	if err != nil {
		t.Fatal(err)
	}
	replay := idtoken.NewReplayCache(0, 0, nil)
	s := newSigner(t)
	pol := s.writePolicy(t, t.TempDir(), `uploaders:
  - name: release
    oidc: {issuer: "`+iss.URL+`", repositoryID: "123456", jobWorkflowRef: acme/app/.github/workflows/release.yml@refs/heads/main}
    repositories: [`+testSource+`]
`)
	site := startSite(t, pol, func(c *server.Config) { c.OIDC, c.Replay = is, replay })
	job := func(extra map[string]any) string {
		return iss.JobToken(t, "acme/app", ".github/workflows/release.yml", aud, extra)
	}

	first, second := t.TempDir(), t.TempDir()
	s.release(t, first, []byte("first"), testBuilder, testSource)
	s.release(t, second, []byte("second"), testBuilder, testSource)

	allowed := job(nil)
	m1 := uploadAll(t, site.url, allowed, first) // blob uploads verify the token, never consume it
	if code, a := admit(t, site.url, allowed, m1); code != http.StatusCreated {
		t.Fatalf("admission by an allowed job: %d %+v", code, a)
	}
	if replay.Len() != 1 {
		t.Fatalf("replay cache holds %d tokens after one admission, want 1", replay.Len())
	}
	m2 := uploadAll(t, site.url, allowed, second)
	if code, a := admit(t, site.url, allowed, m2); code != http.StatusUnauthorized || a.Check != idtoken.CheckReplay {
		t.Fatalf("the same token admitting another release: %d %+v; want 401, check jti", code, a)
	}

	stranger := job(map[string]any{"repository_id": "999"})
	if code, a := admit(t, site.url, stranger, m2); code != http.StatusUnprocessableEntity || a.Check != "uploader" || !strings.Contains(a.Detail, `repository_id "999"`) {
		t.Fatalf("a job no rule allows: %d %+v; want 422, check uploader", code, a)
	}
	if replay.Len() != 1 {
		t.Errorf("a refused sender's token took room in the replay cache (%d tokens)", replay.Len())
	}
	if code, a := admit(t, site.url, job(nil), m2); code != http.StatusCreated {
		t.Fatalf("a fresh token of the allowed job: %d %+v", code, a)
	}
}
