package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/idtoken"
	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/token"
)

const testAudience = "https://slipway.example.org"

// oidcHarness is a server that accepts the ID tokens of a real local
// issuer (discovery document and JWKS over HTTP) and of an issuer that is
// down, with an admitted artifact to read.
type oidcHarness struct {
	*harness
	live, down *sigstoretest.Issuer
	artifact   string // /api/v1/artifacts/<digest>
}

func startOIDC(t *testing.T, cfg Config, routes ...Route) *oidcHarness {
	t.Helper()
	live := sigstoretest.StartOIDCIssuer(t, "")
	down := sigstoretest.NewIssuer(t, "http://127.0.0.1:1") // nothing listens there
	is, err := idtoken.NewIssuers([]string{live.URL, down.URL}, idtoken.Config{Audience: testAudience})
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blobstore.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg.OIDC, cfg.Blobs = is, blobs
	h := start(t, cfg, routes...)
	ctx := context.Background()
	b, err := blobs.Put(ctx, strings.NewReader("admitted bytes"), digest.SHA256{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.db.CreateRelease(ctx, store.Release{ID: "r1", SourceRepository: "github.com/octo/app", Uploader: "ci",
		ManifestDigest: "sha256:00", Created: time.Now(),
		Artifacts: []store.Artifact{{Digest: b.Digest.String(), Size: b.Size, Name: "bin/app"}}}); err != nil {
		t.Fatal(err)
	}
	return &oidcHarness{harness: h, live: live.Issuer, down: down, artifact: "/api/v1/artifacts/" + b.Digest.String()}
}

// idToken is a GitHub Actions job's token from iss for the test audience,
// with a fresh jti; extra claims override (nil removes).
func idToken(t *testing.T, iss *sigstoretest.Issuer, extra map[string]any) string {
	t.Helper()
	return iss.JobToken(t, "octo/app", ".github/workflows/release.yml", testAudience, extra)
}

// TestOIDCAuth: an OIDC ID token reaches a read route; a refused one is a
// 401 naming the check, an unreachable issuer a 503, an admin route a 403;
// service tokens work as before; no token reaches the log.
func TestOIDCAuth(t *testing.T) {
	t.Parallel()
	h := startOIDC(t, Config{}, Route{Pattern: "GET /test/admin", Scope: token.Admin, Handler: okRoute})
	now := time.Now()
	valid := idToken(t, h.live, nil)
	service := h.token(t, "reader", token.Read)
	tokens := []string{valid, service}
	tok := func(extra map[string]any) string {
		s := idToken(t, h.live, extra)
		tokens = append(tokens, s)
		return s
	}
	tests := []struct {
		name, path, token string
		status            int
		check, challenge  string
		detail            string
	}{
		{"valid", h.artifact, valid, 200, "", "", ""},
		{"service token", h.artifact, service, 200, "", "", ""},
		{"wrong audience", h.artifact, tok(map[string]any{"aud": "https://other.example.org"}), 401, idtoken.CheckAudience, `error="invalid_token"`, testAudience},
		{"expired", h.artifact, tok(map[string]any{"iat": now.Add(-20 * time.Minute).Unix(), "nbf": now.Add(-20 * time.Minute).Unix(), "exp": now.Add(-10 * time.Minute).Unix()}), 401, idtoken.CheckExpiry, `error="invalid_token"`, "expired"},
		{"other issuer", h.artifact, idToken(t, sigstoretest.NewIssuer(t, "https://token.example.org"), nil), 401, idtoken.CheckIssuer, `error="invalid_token"`, "accepts tokens of"},
		{"signed by another key", h.artifact, idToken(t, sigstoretest.NewIssuer(t, h.live.URL), nil), 401, idtoken.CheckSignature, `error="invalid_token"`, ""},
		{"not a JWS", h.artifact, "a.b.c", 401, idtoken.CheckFormat, `error="invalid_token"`, ""},
		{"issuer down", h.artifact, idToken(t, h.down, nil), 503, "", "", h.down.URL},
		{"admin route", "/test/admin", valid, 403, "", `error="insufficient_scope", scope="admin"`, "service token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, p := h.get(t, tt.path, "Bearer "+tt.token)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %+v", resp.StatusCode, tt.status, p)
			}
			if got := resp.Header.Get("WWW-Authenticate"); !strings.Contains(got, tt.challenge) || (tt.status == 503 && got != "") {
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.challenge)
			}
			if p.Check != tt.check || !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("problem %+v, want check %q and a detail holding %q", p, tt.check, tt.detail)
			}
			if tt.status == 503 && resp.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
		})
	}
	logs := h.log.String()
	for _, s := range tokens {
		sig := s[strings.LastIndex(s, ".")+1:]
		if strings.Contains(logs, sig) || strings.Contains(logs, s[:strings.Index(s, ".")+20]) {
			t.Errorf("the log holds a token:\n%s", logs)
		}
	}
	for _, want := range []string{`"identity":"oidc:octo/app:octo/app/.github/workflows/release.yml@refs/heads/main"`,
		`"repository_id":"123456"`, `"job_workflow_ref":"octo/app/.github/workflows/release.yml@refs/heads/main"`,
		`check \"aud\"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s:\n%s", want, logs)
		}
	}
}

// Without an OIDC verifier a JWT is refused with a 401 saying so.
func TestOIDCNotConfigured(t *testing.T) {
	t.Parallel()
	h := start(t, Config{}, Route{Pattern: "GET /test/read", Scope: token.Read, Handler: okRoute})
	iss := sigstoretest.NewIssuer(t, "https://token.actions.githubusercontent.com")
	resp, p := h.get(t, "/test/read", "Bearer "+idToken(t, iss, nil))
	if resp.StatusCode != 401 || !strings.Contains(p.Detail, "--oidc-audience") {
		t.Errorf("%d %+v; want 401 naming --oidc-audience", resp.StatusCode, p)
	}
}

// The handler of a route sees the OIDC identity as the policy's caller.
func TestOIDCIdentityInContext(t *testing.T) {
	t.Parallel()
	var got Identity
	h := startOIDC(t, Config{}, Route{Pattern: "GET /test/upload", Scope: token.Upload, Handler: func(w http.ResponseWriter, r *http.Request) error {
		got, _ = IdentityFrom(r.Context())
		return writeJSON(w, http.StatusOK, nil)
	}})
	if resp, p := h.get(t, "/test/upload", "Bearer "+idToken(t, h.live, nil)); resp.StatusCode != 200 {
		t.Fatalf("%d %+v", resp.StatusCode, p)
	}
	c := got.Caller()
	if got.Token != nil || c.OIDC == nil || c.Token != nil || c.OIDC.RepositoryID != "123456" || c.OIDC.Issuer != h.live.URL || !got.Has(token.Upload) || got.Has(token.Dispatch) {
		t.Errorf("identity %+v, caller %+v", got, c)
	}
}

// OIDC identities are rate-limited by issuer, repository_id and workflow
// file: a fresh token, or another ref of the same workflow, gets no fresh
// bucket; another repository has its own.
func TestOIDCRateLimit(t *testing.T) {
	t.Parallel()
	h := startOIDC(t, Config{RateLimit: RateLimit{PerSecond: 0.01, Burst: 1}})
	if resp, p := h.get(t, h.artifact, "Bearer "+idToken(t, h.live, nil)); resp.StatusCode != 200 {
		t.Fatalf("first request: %d %+v", resp.StatusCode, p)
	}
	tag := idToken(t, h.live, map[string]any{"job_workflow_ref": "octo/app/.github/workflows/release.yml@refs/tags/v1", "ref": "refs/tags/v1"})
	resp, p := h.get(t, h.artifact, "Bearer "+tag)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(p.Detail, "octo/app") {
		t.Fatalf("a fresh token of the same workflow: %d %+v; want 429", resp.StatusCode, p)
	}
	other := idToken(t, h.live, map[string]any{"repository": "octo/lib", "repository_id": "777"})
	if resp, p := h.get(t, h.artifact, "Bearer "+other); resp.StatusCode != 200 {
		t.Errorf("another repository was limited too: %d %+v", resp.StatusCode, p)
	}
}

// TestConsumeOIDC: what admission calls after the uploader rule allowed
// the sender. A token is consumed once; used again it is a 401 naming the
// check "jti"; a full replay cache is a 503; a service token is never
// consumed; verifying alone (a read) consumes nothing.
func TestConsumeOIDC(t *testing.T) {
	t.Parallel()
	admit := Route{Pattern: "POST /test/admit", Scope: token.Upload, Handler: func(w http.ResponseWriter, r *http.Request) error {
		if err := ConsumeOIDC(r.Context()); err != nil {
			return err
		}
		if err := ConsumeOIDC(r.Context()); err != nil { // the same request: the first answer
			return err
		}
		return writeJSON(w, http.StatusCreated, nil)
	}}
	replay := idtoken.NewReplayCache(2, 0, nil)
	h := startOIDC(t, Config{Replay: replay}, admit)
	post := func(tok string) (*http.Response, problemBody) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, h.url+"/test/admit", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var p problemBody
		if resp.StatusCode >= 400 {
			body, _ := io.ReadAll(resp.Body)
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatalf("problem %q: %v", body, err)
			}
		}
		return resp, p
	}
	first := idToken(t, h.live, nil)
	for range 2 { // reads verify without consuming
		if resp, p := h.get(t, h.artifact, "Bearer "+first); resp.StatusCode != 200 {
			t.Fatalf("read: %d %+v", resp.StatusCode, p)
		}
	}
	if resp, p := post(first); resp.StatusCode != http.StatusCreated {
		t.Fatalf("first admission: %d %+v", resp.StatusCode, p)
	}
	resp, p := post(first)
	if resp.StatusCode != 401 || p.Check != idtoken.CheckReplay || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("the same token again: %d %+v; want 401, check jti", resp.StatusCode, p)
	}
	if resp, p := post(idToken(t, h.live, map[string]any{"jti": nil})); resp.StatusCode != 401 || p.Check != idtoken.CheckReplay {
		t.Errorf("a token without jti: %d %+v; want 401, check jti", resp.StatusCode, p)
	}
	if resp, p := post(idToken(t, h.live, nil)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("a second token: %d %+v", resp.StatusCode, p)
	}
	if resp, p := post(idToken(t, h.live, nil)); resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(p.Detail, "as many unexpired ID tokens") {
		t.Errorf("a third token with the cache full: %d %+v; want 503", resp.StatusCode, p)
	}
	service := h.token(t, "ci", token.Upload)
	for range 2 {
		if resp, p := post(service); resp.StatusCode != http.StatusCreated {
			t.Errorf("service token: %d %+v", resp.StatusCode, p)
		}
	}
	if replay.Len() != 2 {
		t.Errorf("replay cache holds %d tokens, want 2", replay.Len())
	}
}
