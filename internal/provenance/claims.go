package provenance

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// Claims are the claims of a GitHub Actions OIDC token that say which job is
// running. When signing is keyless, Fulcio verifies the token and copies these
// claims into the signing certificate, so they are the verified description of
// the run; see
// https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect
type Claims struct {
	Issuer            string `json:"iss"`
	Repository        string `json:"repository"`
	RepositoryID      string `json:"repository_id"`
	RepositoryOwnerID string `json:"repository_owner_id"`
	Ref               string `json:"ref"`
	SHA               string `json:"sha"`
	WorkflowRef       string `json:"workflow_ref"`
	JobWorkflowRef    string `json:"job_workflow_ref"`
	JobWorkflowSHA    string `json:"job_workflow_sha"`
	RunID             string `json:"run_id"`
	RunAttempt        string `json:"run_attempt"`
	EventName         string `json:"event_name"`
	RunnerEnvironment string `json:"runner_environment"`
}

// maxTokenLen bounds a token: GitHub's are about 1.5 KB.
const maxTokenLen = 64 << 10

// ParseClaims reads the claims of a GitHub Actions OIDC token (a JWT). It
// does not verify the token's signature: the token must come from the
// runner's token endpoint, and Fulcio verifies it before it certifies a key
// for it. The token's text never appears in errors.
func ParseClaims(token string) (*Claims, error) {
	if len(token) > maxTokenLen {
		return nil, fmt.Errorf("parsing OIDC token: it is %d bytes, more than %d; pass the token itself", len(token), maxTokenLen)
	}
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("parsing OIDC token: it has %d dot-separated parts, want 3 (a JWT); pass the ID token from the runner's token endpoint", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, fmt.Errorf("parsing OIDC token: its payload is not base64url: %w", err)
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("parsing OIDC token: its payload is not a JSON object of string claims: %w", err)
	}
	if c.JobWorkflowRef == "" || c.Repository == "" {
		return nil, fmt.Errorf("parsing OIDC token: claims \"job_workflow_ref\" and \"repository\" are missing; is this a GitHub Actions token?")
	}
	return &c, nil
}
