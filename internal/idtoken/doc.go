// Package idtoken verifies GitHub Actions OIDC ID tokens on the server
// side, for the control plane's uploader authentication: the token's
// signature against the issuer's keys (found through its discovery document
// and JWKS, with github.com/coreos/go-oidc/v3), its issuer, a required
// audience, its lifetime (exp, nbf, iat, within a small clock skew), and
// the GitHub claims uploader rules match (policy.OIDCCaller). ReplayCache
// makes a token single-use by its "jti". Issuers holds one Verifier per
// accepted issuer (GitHub.com, GitHub Enterprise Servers). internal/oidc is the client side
// (asking the runner for a token); this package never asks for one.
//
// A token is a bearer secret: this package must never log it, put it (or
// any part of it) in an error, or store it; errors name the check that
// failed and the claim's value where that is not secret. It must never
// accept a token it could not verify with the issuer's published keys: no
// "none" or HMAC algorithm, no key from the token itself, no fallback when
// the issuer cannot be reached (that is an *UnavailableError, not a pass).
package idtoken
