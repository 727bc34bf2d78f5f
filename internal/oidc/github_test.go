package oidc

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestGitHubToken(t *testing.T) {
	t.Parallel()
	iss := sigstoretest.NewIssuer(t, GitHubIssuer)
	te := sigstoretest.StartTokenEndpoint(t, iss, sigstoretest.GitHubClaims("o/r", ".github/workflows/release.yml"))
	g := GitHub{Getenv: envOf(te.Env())}
	if !g.Available() {
		t.Fatal("Available() = false with the runtime's variables set")
	}
	tok, err := g.Token(context.Background(), SigstoreAudience)
	if err != nil {
		t.Fatalf("Token() error = %v", err)
	}
	claims, err := iss.Verify(tok, SigstoreAudience)
	if err != nil {
		t.Fatalf("token does not verify: %v", err)
	}
	if claims["sub"] != "repo:o/r:ref:refs/heads/main" {
		t.Errorf("sub = %v", claims["sub"])
	}
	c, err := ParseClaims(tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != GitHubIssuer || c.JobWorkflowRef != "o/r/.github/workflows/release.yml@refs/heads/main" ||
		c.Repository != "o/r" || len(c.Audience) != 1 || c.Audience[0] != SigstoreAudience {
		t.Errorf("ParseClaims() = %+v", c)
	}
}

func TestGitHubTokenErrors(t *testing.T) {
	t.Parallel()
	iss := sigstoretest.NewIssuer(t, GitHubIssuer)
	te := sigstoretest.StartTokenEndpoint(t, iss, sigstoretest.GitHubClaims("o/r", ".github/workflows/release.yml"))
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"value":"not-a-jwt"}`))
	}))
	t.Cleanup(garbage.Close)

	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no permission", map[string]string{}, "permissions: id-token: write"},
		{"only url", map[string]string{EnvRequestURL: te.RequestURL}, "permissions: id-token: write"},
		{"wrong request token", map[string]string{EnvRequestURL: te.RequestURL, EnvRequestToken: "wrong-secret"}, "Unauthorized"},
		{"not a jwt", map[string]string{EnvRequestURL: garbage.URL + "/?api-version=2.0", EnvRequestToken: "secret-x"}, "not a JWT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := GitHub{Getenv: envOf(tc.env)}.Token(context.Background(), SigstoreAudience)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Token() error = %v, want %q", err, tc.want)
			}
			for _, secret := range []string{"wrong-secret", "secret-x", te.RequestToken} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks the request token: %v", err)
				}
			}
		})
	}
	if _, err := (GitHub{}).Token(context.Background(), "sigstore"); !errors.Is(err, ErrNoPermission) {
		t.Errorf("Token() without env = %v, want ErrNoPermission", err)
	}
}

func TestParseClaims(t *testing.T) {
	t.Parallel()
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct{ name, tok, want string }{
		{"two parts", "a.b", "3 (header.payload.signature)"},
		{"bad base64", "a.!!!.c", "not base64url"},
		{"not json", "a." + enc("[1]") + ".c", "not a JSON object"},
		{"no iss", "a." + enc(`{"sub":"x"}`) + ".c", `lacks the "iss"`},
		{"bad aud", "a." + enc(`{"iss":"i","sub":"s","aud":7}`) + ".c", `"aud"`},
		{"numeric claim", "a." + enc(`{"iss":"i","sub":"s","run_id":1}`) + ".c", "not a JSON object of string claims"},
		{"too long", strings.Repeat("a", maxTokenSize+1), "more than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := ParseClaims(tc.tok); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseClaims() error = %v, want %q", err, tc.want)
			}
		})
	}
	c, err := ParseClaims("a." + enc(`{"iss":"i","sub":"s","aud":["x","y"]}`) + ".c")
	if err != nil || len(c.Audience) != 2 {
		t.Fatalf("ParseClaims(list aud) = %+v, %v", c, err)
	}
}

// TestParseGitHubClaims: the full GitHub Actions claim set is read, and a
// token without the job's workflow and repository is refused.
func TestParseGitHubClaims(t *testing.T) {
	t.Parallel()
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	c, err := ParseGitHubClaims("a." + enc(`{"iss":"`+GitHubIssuer+`","sub":"repo:o/r:ref:refs/heads/main","aud":"sigstore",
		"repository":"o/r","repository_id":"812345678","repository_owner":"o","repository_owner_id":"98765432",
		"ref":"refs/heads/main","sha":"4f2c","workflow":"release","workflow_ref":"o/r/.github/workflows/release.yml@refs/heads/main",
		"workflow_sha":"4f2c","job_workflow_ref":"o/r/.github/workflows/build.yml@refs/tags/v1","job_workflow_sha":"0123",
		"run_id":"123456789","run_attempt":"2","event_name":"workflow_dispatch","runner_environment":"github-hosted"}`) + ".c")
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{Issuer: GitHubIssuer, Subject: "repo:o/r:ref:refs/heads/main", Audience: []string{"sigstore"},
		Repository: "o/r", RepositoryID: "812345678", RepositoryOwner: "o", RepositoryOwnerID: "98765432",
		Ref: "refs/heads/main", SHA: "4f2c", Workflow: "release", WorkflowRef: "o/r/.github/workflows/release.yml@refs/heads/main",
		WorkflowSHA: "4f2c", JobWorkflowRef: "o/r/.github/workflows/build.yml@refs/tags/v1", JobWorkflowSHA: "0123",
		RunID: "123456789", RunAttempt: "2", EventName: "workflow_dispatch", RunnerEnvironment: "github-hosted"}
	if !reflect.DeepEqual(*c, want) {
		t.Errorf("ParseGitHubClaims() = %+v\nwant %+v", *c, want)
	}
	if _, err := ParseGitHubClaims("a." + enc(`{"iss":"i","sub":"s","repository":"o/r"}`) + ".c"); err == nil || !strings.Contains(err.Error(), `"job_workflow_ref" and "repository" are missing`) {
		t.Errorf("ParseGitHubClaims(no job_workflow_ref) error = %v", err)
	}
}

func FuzzParseClaims(f *testing.F) {
	f.Add("a.eyJpc3MiOiJpIiwic3ViIjoicyJ9.c")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := ParseClaims(tok)
		if err == nil && (c.Issuer == "" || c.Subject == "") {
			t.Fatalf("ParseClaims(%q) = %+v without iss/sub", tok, c)
		}
		if err != nil && len(tok) > 8 && strings.Contains(err.Error(), tok) {
			t.Fatalf("error quotes the token: %v", err)
		}
		if g, err := ParseGitHubClaims(tok); err == nil && (g.JobWorkflowRef == "" || g.Repository == "") {
			t.Fatalf("ParseGitHubClaims(%q) = %+v without the job's claims", tok, g)
		}
	})
}
