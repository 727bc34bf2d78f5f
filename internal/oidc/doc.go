// Package oidc obtains the GitHub Actions OIDC identity token that keyless
// signing exchanges at Fulcio for a certificate, and reads (without
// verifying) the claims a summary may show.
//
// The request token (ACTIONS_ID_TOKEN_REQUEST_TOKEN) and the ID token are
// secrets: this package must never log them, put them in an error message or
// write them anywhere. It verifies nothing: Fulcio verifies the token.
package oidc
