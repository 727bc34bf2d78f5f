// Package signing turns a key source into Sigstore bundles: a cosign key
// (encrypted with COSIGN_PASSWORD) from a file, the COSIGN_KEY secret or an
// env://NAME variable, a KMS key (hashivault://, awskms://,
// gcpkms://, azurekms://) or keyless signing (an OIDC token exchanged at
// Fulcio for a short-lived certificate), with an optional Rekor entry and an
// optional RFC 3161 timestamp.
//
// Its two operations are Signer.SignDigest, a MessageSignature over a SHA-256
// digest computed elsewhere in the one pass over an artifact, and
// Signer.SignDSSE, a DSSE envelope over a small payload such as an in-toto
// statement. Both return a Sigstore bundle v0.3
// (application/vnd.dev.sigstore.bundle.v0.3+json) that cosign and
// sigstore-go verify. Signer.Prepare does a keyless signer's network work
// (token, certificate) ahead of time, so callers can overlap it with hashing.
//
// Config is the stages' shared choice of key and services (their key
// inputs), Start loads a signer in the background.
//
// It must never read an artifact (callers pass its digest), never log or
// write a password, private key or OIDC token, and never print anything:
// it logs only through the injected *slog.Logger.
package signing
