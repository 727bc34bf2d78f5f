// Package oidc obtains the GitHub Actions OIDC identity token that keyless
// signing exchanges at Fulcio for a certificate, and reads (without
// verifying) its claims: the GitHub Actions job they name, which a summary
// shows and provenance records (ParseClaims, ParseGitHubClaims).
//
// The request token (ACTIONS_ID_TOKEN_REQUEST_TOKEN) and the ID token are
// secrets: this package must never log them, put them in an error message or
// write them anywhere. It verifies nothing: Fulcio verifies the token.
package oidc
