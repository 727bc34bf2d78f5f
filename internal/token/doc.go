// Package token makes and checks the control plane's service tokens.
//
// A token is "slw_" + a 16-character public ID + "_" + a 52-character
// secret: 256 random bits, base32 (lowercase, no padding), so the whole
// token is URL- and header-safe and matches one fixed pattern that secret
// scanners can find. The ID is what the server looks up (one row, never a
// scan over every hash), what "slipway token list" shows and what
// "slipway token revoke" takes. The whole token is shown once, when it is
// made; the store keeps only its Argon2id hash as a PHC string (parameters
// in argon2.go), compared in constant time.
//
// Scopes (upload, read, dispatch, admin), expiry and revocation are checked
// by Manager.Authenticate, which tells a malformed, unknown, wrong, expired
// and revoked token apart for the logs (they are all 401 to the client).
//
// This package must never log, print or store a token's secret, and must
// never accept a token whose hash it has not checked.
package token
