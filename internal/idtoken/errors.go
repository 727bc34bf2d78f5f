package idtoken

import (
	"errors"
	"fmt"
)

// The checks an *Error names.
const (
	CheckFormat    = "format"    // not a compact JWS of a JSON header and payload
	CheckAlgorithm = "alg"       // an algorithm the issuer does not sign with
	CheckKeyID     = "kid"       // a key the issuer does not publish
	CheckSignature = "signature" // the signature does not verify
	CheckIssuer    = "iss"
	CheckAudience  = "aud"
	CheckExpiry    = "exp"
	CheckNotBefore = "nbf"
	CheckIssuedAt  = "iat"
	CheckLifetime  = "lifetime" // exp too far after iat
	CheckClaims    = "claims"   // a GitHub Actions claim missing or malformed
	CheckReplay    = "jti"      // already used, or no jti to tell
)

// Error is a refused token: the caller is not authenticated (HTTP 401).
// Msg never quotes the token.
type Error struct {
	Check string
	Msg   string
}

func (e *Error) Error() string {
	return fmt.Sprintf("the OIDC ID token is refused (check %q): %s", e.Check, e.Msg)
}

func refuse(check, format string, a ...any) *Error {
	return &Error{Check: check, Msg: fmt.Sprintf(format, a...)}
}

// UnavailableError means the issuer's discovery document or keys could not
// be fetched: nothing is known about the token (HTTP 503, not 401).
type UnavailableError struct {
	Issuer string
	Err    error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("fetching the keys of OIDC issuer %q: %v; check that the server reaches the issuer (proxy, firewall) and that the issuer is right", e.Issuer, e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// ErrReplayCacheFull means a ReplayCache holds its limit of tokens that
// are still valid: the token is not accepted, as its reuse could not be
// told later (HTTP 503).
var ErrReplayCacheFull = errors.New("the replay cache is full of tokens still valid; retry in a few minutes, or raise the replay cache's limit")
