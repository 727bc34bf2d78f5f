// Package sign is the sign stage: it signs a file, every artifact of a build
// manifest, or a container image in a registry, with a cosign key, a KMS
// key, keyless Sigstore (GitHub OIDC → Fulcio, optionally Rekor and a
// timestamp authority) and/or a GPG key.
//
// Files get a Sigstore bundle v0.3 (<file>.sigstore.json) and, with a GPG
// key, an armored detached signature (<file>.asc); images get their
// signature stored in the registry the way cosign stores it. Each file is
// read at most once: its SHA-256 and OpenPGP hash come from the same pass,
// and with a manifest and no GPG key the manifest's digests are trusted
// (only sizes are checked) and files are not read at all.
//
// It knows nothing of GitHub Actions or the command line, never logs a
// secret, and never leaves a half-written signature: every output is written
// atomically.
package sign
