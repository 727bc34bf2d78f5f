package idtoken

import (
	"encoding/json"
	"math"
	"slices"
	"time"

	ghoidc "github.com/slipway/actions/internal/oidc"
	"github.com/slipway/actions/internal/policy"
)

// Identity is a verified GitHub Actions job: the claims uploader rules
// match (policy.OIDCCaller), and the token's own.
type Identity struct {
	policy.OIDCCaller
	// Audience is the token's "aud"; it holds the configured audience.
	Audience []string
	// TokenID is the token's "jti", "" when it has none.
	TokenID string
	// IssuedAt, NotBefore and Expiry are iat, nbf (zero when absent) and exp.
	IssuedAt, NotBefore, Expiry time.Time
}

// Caller returns the identity as the policy's uploader rules take it.
func (id *Identity) Caller() policy.Caller { return policy.Caller{OIDC: &id.OIDCCaller} }

// times are the registered time claims, in seconds since the epoch.
type times struct {
	JTI string   `json:"jti"`
	Exp *float64 `json:"exp"`
	Nbf *float64 `json:"nbf"`
	Iat *float64 `json:"iat"`
}

// claims checks the claims of a payload whose signature verified and
// returns the identity. The checks go-oidc makes too (iss, aud) are made
// again here to say which failed.
func (v *Verifier) claims(payload []byte) (*Identity, *Error) {
	var c ghoidc.Claims
	var t times
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, refuse(CheckClaims, "its claims are not a JSON object of string claims (%v); is this a GitHub Actions ID token?", err)
	}
	if err := json.Unmarshal(payload, &t); err != nil {
		return nil, refuse(CheckClaims, "its claims jti, exp, nbf and iat are not a string and numbers (%v)", err)
	}
	if c.Issuer != v.c.Issuer {
		return nil, refuse(CheckIssuer, "it is issued by %q, not %q; request the token from the GitHub Actions runtime of the configured GitHub", c.Issuer, v.c.Issuer)
	}
	if !slices.Contains(c.Audience, v.c.Audience) {
		return nil, refuse(CheckAudience, "it is for the audience %q, not %q; request it with audience %q (mcp-upload's audience input)", c.Audience, v.c.Audience, v.c.Audience)
	}
	id := &Identity{Audience: c.Audience, TokenID: t.JTI}
	var err *Error
	if id.Expiry, err = unix("exp", t.Exp, true); err != nil {
		return nil, err
	}
	if id.NotBefore, err = unix("nbf", t.Nbf, false); err != nil {
		return nil, err
	}
	if id.IssuedAt, err = unix("iat", t.Iat, true); err != nil {
		return nil, err
	}
	now, skew := v.c.Now(), v.c.ClockSkew
	switch {
	case now.After(id.Expiry.Add(skew)):
		return nil, refuse(CheckExpiry, "it expired at %s, %s ago (allowed clock skew %s); request a fresh token right before the upload", utc(id.Expiry), now.Sub(id.Expiry).Round(time.Second), skew)
	case !id.NotBefore.IsZero() && now.Add(skew).Before(id.NotBefore):
		return nil, refuse(CheckNotBefore, "it is not valid before %s, %s from now (allowed clock skew %s); check the clocks of the server and the issuer (NTP)", utc(id.NotBefore), id.NotBefore.Sub(now).Round(time.Second), skew)
	case now.Add(skew).Before(id.IssuedAt):
		return nil, refuse(CheckIssuedAt, "it was issued at %s, %s in the future (allowed clock skew %s); check the clocks of the server and the issuer (NTP)", utc(id.IssuedAt), id.IssuedAt.Sub(now).Round(time.Second), skew)
	case id.Expiry.Sub(id.IssuedAt) > v.c.MaxLifetime:
		return nil, refuse(CheckLifetime, "it lives %s (iat to exp), more than the %s allowed; GitHub's tokens live minutes: is the issuer right?", id.Expiry.Sub(id.IssuedAt), v.c.MaxLifetime)
	}
	id.OIDCCaller = policy.OIDCCaller{
		Issuer: c.Issuer, Subject: c.Subject,
		Repository: c.Repository, RepositoryID: c.RepositoryID,
		RepositoryOwner: c.RepositoryOwner, RepositoryOwnerID: c.RepositoryOwnerID,
		WorkflowRef: c.WorkflowRef, JobWorkflowRef: c.JobWorkflowRef,
		Ref: c.Ref, SHA: c.SHA, EventName: c.EventName, RunnerEnvironment: c.RunnerEnvironment,
		RunID: c.RunID, RunAttempt: c.RunAttempt,
	}
	for _, need := range []struct{ name, v string }{
		{"sub", c.Subject}, {"repository", c.Repository}, {"repository_id", c.RepositoryID},
		{"repository_owner_id", c.RepositoryOwnerID}, {"workflow_ref", c.WorkflowRef},
		{"job_workflow_ref", c.JobWorkflowRef}, {"run_id", c.RunID},
	} {
		if need.v == "" {
			return nil, refuse(CheckClaims, "it has no %q claim; it is not a GitHub Actions ID token (request it in the job with \"permissions: id-token: write\")", need.name)
		}
	}
	return id, nil
}

// unix converts a NumericDate claim.
func unix(name string, v *float64, required bool) (time.Time, *Error) {
	switch {
	case v == nil && required:
		return time.Time{}, refuse(CheckClaims, "it has no %q claim, which this server requires; is this a GitHub Actions ID token?", name)
	case v == nil:
		return time.Time{}, nil
	case math.IsNaN(*v) || *v <= 0 || *v > 1e11:
		return time.Time{}, refuse(CheckClaims, "its %q claim %v is not a time in seconds since 1970", name, *v)
	}
	sec, frac := math.Modf(*v)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

func utc(t time.Time) string { return t.UTC().Format(time.RFC3339) }
