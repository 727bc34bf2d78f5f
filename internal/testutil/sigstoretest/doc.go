// Package sigstoretest gives tests the signing parts that cannot be reached
// from here, speaking their real wire formats: cosign key pairs generated
// with cosign's own library, a local Sigstore (a Fulcio that answers
// POST /api/v2/signingCert, a Rekor v1 log, an RFC 3161 timestamp authority,
// with the trusted root JSON that verifies them; New gives the same
// authorities in process, with a clock the test can set), a GitHub
// Actions OIDC token endpoint, and an OIDC issuer serving its discovery
// document and JWKS over HTTP (StartOIDCIssuer) for server-side token
// verification.
//
// It is for tests only: its keys live in memory and in t.TempDir, and it
// must never be imported by non-test code.
package sigstoretest
