package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

// The environment variables the runner sets in a job that may request ID
// tokens ("permissions: id-token: write").
const (
	EnvRequestURL   = "ACTIONS_ID_TOKEN_REQUEST_URL"
	EnvRequestToken = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
)

// SigstoreAudience is the audience Fulcio expects.
const SigstoreAudience = "sigstore"

// GitHubIssuer is the issuer of GitHub Actions ID tokens.
const GitHubIssuer = "https://token.actions.githubusercontent.com"

// ErrNoPermission means the job cannot request ID tokens.
var ErrNoPermission = errors.New("the job cannot request an OIDC token: " + EnvRequestURL + " and " + EnvRequestToken +
	" are not set; add \"permissions: id-token: write\" to the job (or the workflow), and run it on GitHub Actions")

// GitHub requests ID tokens from the GitHub Actions runtime.
//
// It uses go-githubactions' GetIDToken, which takes an injected getenv and
// HTTP client and speaks the runtime's wire format (GET the request URL
// with &audience=…, "Authorization: Bearer <request token>", answer
// {"value": "<JWT>"}). slsa-github-generator's OIDCClient was not chosen: it
// reads os.Getenv itself and verifies the token against the public GitHub
// issuer, which an air-gapped runner and a test cannot reach; Fulcio
// verifies the token anyway.
type GitHub struct {
	// Getenv reads the environment; nil is "no variables".
	Getenv func(string) string
	// HTTP is the client for the runtime's token endpoint; nil is
	// http.DefaultClient.
	HTTP *http.Client
}

// Available reports whether the job can request ID tokens.
func (g GitHub) Available() bool {
	getenv := g.getenv()
	return getenv(EnvRequestURL) != "" && getenv(EnvRequestToken) != ""
}

func (g GitHub) getenv() func(string) string {
	if g.Getenv == nil {
		return func(string) string { return "" }
	}
	return g.Getenv
}

// Token returns a fresh ID token for audience. Without the runtime's
// variables the error wraps ErrNoPermission.
func (g GitHub) Token(ctx context.Context, audience string) (string, error) {
	if !g.Available() {
		return "", ErrNoPermission
	}
	opts := []githubactions.Option{githubactions.WithGetenv(githubactions.GetenvFunc(g.getenv()))}
	if g.HTTP != nil {
		opts = append(opts, githubactions.WithHTTPClient(g.HTTP))
	}
	tok, err := githubactions.New(opts...).GetIDToken(ctx, audience)
	if err != nil {
		// go-githubactions' errors carry the endpoint's answer, never the
		// request token; the URL is not secret.
		return "", fmt.Errorf("requesting an OIDC token for audience %q from the GitHub Actions runtime: %w; check that the job has \"permissions: id-token: write\"", audience, err)
	}
	if tok == "" {
		return "", fmt.Errorf("requesting an OIDC token for audience %q: the runtime answered without a token (no \"value\"); re-run the job", audience)
	}
	if _, err := ParseClaims(tok); err != nil {
		return "", fmt.Errorf("the OIDC token from the GitHub Actions runtime is malformed: %w", err)
	}
	return tok, nil
}

// Source returns a function giving fresh tokens for audience, the form
// package signing takes.
func (g GitHub) Source(audience string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) { return g.Token(ctx, audience) }
}

// Claims are the claims of an OIDC ID token: the standard ones and those of
// GitHub Actions tokens that say which job is running. When signing is
// keyless, Fulcio verifies the token and copies these claims into the
// signing certificate, so they are the verified description of the run; see
// https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect
type Claims struct {
	Issuer            string `json:"iss"`
	Subject           string `json:"sub"`
	Repository        string `json:"repository"`
	RepositoryID      string `json:"repository_id"`
	RepositoryOwner   string `json:"repository_owner"`
	RepositoryOwnerID string `json:"repository_owner_id"`
	Ref               string `json:"ref"`
	SHA               string `json:"sha"`
	Workflow          string `json:"workflow"`
	WorkflowRef       string `json:"workflow_ref"`
	WorkflowSHA       string `json:"workflow_sha"`
	JobWorkflowRef    string `json:"job_workflow_ref"`
	JobWorkflowSHA    string `json:"job_workflow_sha"`
	RunID             string `json:"run_id"`
	RunAttempt        string `json:"run_attempt"`
	EventName         string `json:"event_name"`
	RunnerEnvironment string `json:"runner_environment"`
	// Audience is one string or a list in JWTs; see UnmarshalJSON.
	Audience []string `json:"-"`
}

// UnmarshalJSON accepts "aud" as a string or a list of strings.
func (c *Claims) UnmarshalJSON(b []byte) error {
	type plain Claims
	var p struct {
		plain
		Aud json.RawMessage `json:"aud"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*c = Claims(p.plain)
	if len(p.Aud) == 0 || string(p.Aud) == "null" {
		return nil
	}
	var one string
	if err := json.Unmarshal(p.Aud, &one); err == nil {
		c.Audience = []string{one}
		return nil
	}
	if err := json.Unmarshal(p.Aud, &c.Audience); err != nil {
		return fmt.Errorf("claim \"aud\" is neither a string nor a list of strings")
	}
	return nil
}

// maxTokenSize bounds a token; GitHub's are about 1 KiB.
const maxTokenSize = 64 << 10

// ParseClaims decodes the claims of a JWT without verifying its signature:
// for display, logging identities and describing the job in provenance,
// never for trust decisions (the token comes from the runner's token
// endpoint, and Fulcio verifies it before it certifies a key for it).
// Errors never quote the token.
func ParseClaims(token string) (Claims, error) {
	if len(token) > maxTokenSize {
		return Claims{}, fmt.Errorf("the token is %d bytes, more than %d: not a JWT", len(token), maxTokenSize)
	}
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return Claims{}, fmt.Errorf("the token has %d dot-separated parts, want 3 (header.payload.signature): not a JWT", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Claims{}, fmt.Errorf("the token's payload is not base64url: not a JWT")
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return Claims{}, fmt.Errorf("the token's payload is not a JSON object of string claims: %v", err)
	}
	if c.Issuer == "" || c.Subject == "" {
		return Claims{}, fmt.Errorf("the token lacks the \"iss\" or \"sub\" claim")
	}
	return c, nil
}

// ParseGitHubClaims is ParseClaims for a GitHub Actions job's token: it
// must name the job's workflow (job_workflow_ref) and repository.
func ParseGitHubClaims(token string) (*Claims, error) {
	c, err := ParseClaims(token)
	if err != nil {
		return nil, err
	}
	if c.JobWorkflowRef == "" || c.Repository == "" {
		return nil, fmt.Errorf("claims \"job_workflow_ref\" and \"repository\" are missing; is this a GitHub Actions token?")
	}
	return &c, nil
}
