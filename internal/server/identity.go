package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/slipway/actions/internal/idtoken"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/token"
)

// Identity is who sent a request, as auth.go authenticated it: exactly one
// of Token (a service token) and OIDC (a verified GitHub Actions OIDC ID
// token) is set. Handlers get it with IdentityFrom.
type Identity struct {
	Token *token.Identity
	OIDC  *idtoken.Identity
}

// OIDCScopes are the scopes a verified OIDC ID token carries: a CI job may
// send releases and read them back, never manage the server or dispatch.
var OIDCScopes = []token.Scope{token.Upload, token.Read}

// Has reports whether the identity holds scope s.
func (i Identity) Has(s token.Scope) bool {
	switch {
	case i.Token != nil:
		return i.Token.Has(s)
	case i.OIDC != nil:
		return slices.Contains(OIDCScopes, s)
	}
	return false
}

// Caller is the identity as the policy's uploader rules take it: give it
// to policy.AllowUpload.
func (i Identity) Caller() policy.Caller {
	switch {
	case i.Token != nil:
		scopes := make([]string, len(i.Token.Scopes))
		for n, s := range i.Token.Scopes {
			scopes[n] = string(s)
		}
		return policy.Caller{Token: &policy.TokenCaller{Name: i.Token.Name, Scopes: scopes}}
	case i.OIDC != nil:
		return i.OIDC.Caller()
	}
	return policy.Caller{}
}

// String names the identity in logs and records; it holds no secret:
// "token:<name>/<id>" for a service token, "oidc:<repository>:<job_workflow_ref>"
// for a GitHub Actions job ("oidc:octo/app:octo/app/.github/workflows/release.yml@refs/tags/v1").
func (i Identity) String() string {
	switch {
	case i.Token != nil:
		return i.Token.String()
	case i.OIDC != nil:
		return "oidc:" + i.OIDC.Repository + ":" + i.OIDC.JobWorkflowRef
	}
	return "anonymous"
}

// logAttrs are the request log's attributes beyond "identity": the ids an
// OIDC identity is matched by, and its run.
func (i Identity) logAttrs() []slog.Attr {
	if i.OIDC == nil {
		return nil
	}
	return []slog.Attr{slog.String("issuer", i.OIDC.Issuer), slog.String("repository_id", i.OIDC.RepositoryID),
		slog.String("job_workflow_ref", i.OIDC.JobWorkflowRef), slog.String("run_id", i.OIDC.RunID)}
}

// rateKey is the identity's rate-limit bucket. A service token has its
// own. An OIDC identity is keyed by issuer, repository_id and the workflow
// file of job_workflow_ref without its "@ref": every token of one
// repository's workflow shares a bucket, whichever run, branch or tag it
// came from (a fresh token per request gets no fresh bucket), and "sub"
// is not used because a repository can customise it.
func (i Identity) rateKey() string {
	switch {
	case i.Token != nil:
		return "token\x00" + i.Token.TokenID
	case i.OIDC != nil:
		file, _, _ := strings.Cut(i.OIDC.JobWorkflowRef, "@")
		return "oidc\x00" + i.OIDC.Issuer + "\x00" + i.OIDC.RepositoryID + "\x00" + file
	}
	return ""
}

// describe names the identity in answers to its own sender.
func (i Identity) describe() string {
	switch {
	case i.Token != nil:
		return fmt.Sprintf("token %q", i.Token.TokenID)
	case i.OIDC != nil:
		return fmt.Sprintf("the OIDC identity of %q running %q", i.OIDC.Repository, i.OIDC.JobWorkflowRef)
	}
	return "an unauthenticated caller"
}

// missingScope is the 403 detail for an identity without scope.
func (i Identity) missingScope(scope token.Scope) string {
	if i.OIDC != nil {
		return fmt.Sprintf("an OIDC ID token carries the scopes %q only, not %q; use a service token made with --scope %s", OIDCScopes, scope, scope)
	}
	return fmt.Sprintf("%s has no scope %q; create a token with --scope %s", i.describe(), scope, scope)
}

// whoami is the JSON of GET /api/v1/identity.
type whoami struct {
	Identity string        `json:"identity"`
	Scopes   []token.Scope `json:"scopes"`
	// Expires is when the bearer token stops working (a service token's
	// expiry, an OIDC ID token's exp); nil for a token that never expires.
	Expires *time.Time `json:"expires,omitempty"`
}

// identityRoutes: GET /api/v1/identity, who the token is and what it may
// do (the MCP server offers the tools a token's scopes allow).
func (s *Server) identityRoutes() []Route {
	return []Route{{Pattern: "GET /api/v1/identity", Scope: token.Read, OIDC: true, Handler: func(w http.ResponseWriter, r *http.Request) error {
		id, _ := IdentityFrom(r.Context())
		out := whoami{Identity: id.String(), Scopes: []token.Scope{}}
		var exp time.Time
		switch {
		case id.Token != nil:
			exp = id.Token.Expires
		case id.OIDC != nil:
			exp = id.OIDC.Expiry
		}
		if !exp.IsZero() {
			exp = exp.UTC()
			out.Expires = &exp
		}
		for _, sc := range token.Scopes {
			if id.Has(sc) {
				out.Scopes = append(out.Scopes, sc)
			}
		}
		w.Header().Set("Cache-Control", "no-store")
		return writeJSON(w, http.StatusOK, out)
	}}}
}
