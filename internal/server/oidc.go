package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/slipway/actions/internal/idtoken"
)

// OIDCVerifier verifies GitHub Actions OIDC ID tokens: an
// *idtoken.Issuers for the issuers the policy's uploader rules name
// (policy.OIDCIssuers) and the server's audience. Errors are an
// *idtoken.Error (the token is refused) or an *idtoken.UnavailableError
// (the issuer's keys could not be fetched).
type OIDCVerifier interface {
	Verify(ctx context.Context, raw string) (*idtoken.Identity, error)
}

// looksLikeJWT tells an OIDC ID token (header.payload.signature) from a
// service token, which starts with token.Prefix and has no dot. What it
// lets through is parsed in full by idtoken.
func looksLikeJWT(s string) bool { return strings.Count(s, ".") == 2 }

// verifyOIDC verifies raw. It does not consume the token: see ConsumeOIDC.
func (s *Server) verifyOIDC(ctx context.Context, raw string) (*idtoken.Identity, error) {
	if s.cfg.OIDC == nil {
		return nil, &Problem{Status: http.StatusUnauthorized, Type: "unauthorized", Title: "Token not accepted",
			Challenge: realm + `, error="invalid_token"`,
			Detail:    "this server does not accept OIDC ID tokens (it runs without --oidc-audience); send a service token (slw_…), or ask its operator to set --oidc-audience"}
	}
	id, err := s.cfg.OIDC.Verify(ctx, raw)
	if err != nil {
		return nil, oidcProblem(err)
	}
	return id, nil
}

// oidcProblem turns an error of idtoken into its answer: a refused token
// is a 401 naming the failed check; an issuer that cannot be reached, or a
// full replay cache, is a 503 (nothing is known about the token: neither
// refused nor let through).
func oidcProblem(err error) *Problem {
	var refused *idtoken.Error
	var unavailable *idtoken.UnavailableError
	retry := int(idtoken.DefaultKeyRefresh.Seconds())
	switch {
	case errors.As(err, &refused):
		return &Problem{Status: http.StatusUnauthorized, Type: "unauthorized", Title: "ID token not accepted",
			Challenge: realm + `, error="invalid_token"`, Check: refused.Check,
			Detail: fmt.Sprintf("check %q failed: %s", refused.Check, refused.Msg), Cause: err}
	case errors.As(err, &unavailable):
		return &Problem{Status: http.StatusServiceUnavailable, Type: "unavailable", Title: "Cannot verify the ID token",
			Detail:     fmt.Sprintf("the server cannot fetch the keys of OIDC issuer %q to verify the token; retry after the Retry-After seconds, or tell the server's operator", unavailable.Issuer),
			RetryAfter: retry, Cause: err}
	case errors.Is(err, idtoken.ErrReplayCacheFull):
		return &Problem{Status: http.StatusServiceUnavailable, Type: "unavailable", Title: "Cannot accept the ID token now",
			Detail: "the server holds as many unexpired ID tokens as it may remember, so it could not tell this one's reuse; retry after the Retry-After seconds", RetryAfter: retry, Cause: err}
	}
	return &Problem{Status: http.StatusServiceUnavailable, Type: "unavailable", Title: "Cannot verify the ID token",
		Detail: "the server failed to verify the ID token; retry later", RetryAfter: 1, Cause: err}
}

// authState is what authenticate puts in a request's context: the
// identity, and whether its OIDC token was consumed.
type authState struct {
	id     Identity
	replay *idtoken.ReplayCache
	once   sync.Once
	err    error
}

// ConsumeOIDC makes the request's OIDC ID token single-use: it records the
// token ("iss" + "jti") in the server's replay cache, so that the same
// token is refused there until it expires.
//
// Admission (POST /api/v1/releases) calls it once policy.AllowUpload
// allowed IdentityFrom(ctx).Caller() for every source repository of the
// release, before the release is stored or logged; recording a dispatch
// (POST /api/v1/releases/{id}/dispatches) once the same rules allowed the
// identity for the release's repository, before the dispatch is logged.
// Called there, only tokens of allowed callers take room in the cache;
// blob uploads and reads made with the token before do not consume it.
//
// It returns nil for a service token, and a *Problem to return as is
// otherwise: 401 (error="invalid_token", check "jti") for a token used
// before or without "jti", 503 when the replay cache is full. A second
// call in the same request returns the first call's answer.
func ConsumeOIDC(ctx context.Context) error {
	st, ok := ctx.Value(identityKey{}).(*authState)
	if !ok {
		return errors.New("ConsumeOIDC on a request without an identity: the route has no scope (a bug in the server)")
	}
	if st.id.OIDC == nil {
		return nil
	}
	st.once.Do(func() {
		if st.replay == nil {
			st.err = errors.New("an OIDC identity without a replay cache (a bug in the server)")
			return
		}
		if err := st.replay.Use(st.id.OIDC); err != nil {
			st.err = oidcProblem(err)
		}
	})
	return st.err
}
