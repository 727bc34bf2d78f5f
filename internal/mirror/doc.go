// Package mirror copies an image from an OCI registry, pinned by its
// digest, together with what refers to it (its OCI 1.1 referrers and
// cosign's sha256-<hex>.sig and .att tags: what slipway sign and attest
// and cosign store), into the control plane's blob store (Fetch), and
// serves that copy read-only to go-containerregistry as if it were the
// registry (Copy.Transport). Admission by reference verifies the copy, so
// the archive keeps exactly the bytes that were verified.
//
// Guard is the transport the server reaches registries with: direct
// connections (no proxy) that refuse loopback, private, link-local and
// other non-public addresses at connect time (after name resolution), since
// the request names the host the server connects to (SSRF); a server for
// tests or a closed site allows them explicitly.
//
// It must never hold a layer in memory (blobs stream into the blob store,
// hashed as they arrive), never read a manifest larger than
// MaxManifestSize, never take registry credentials from anything but its
// caller's keychain, never write anywhere but the blob store, and never
// serve from a copy what it did not fetch for it.
package mirror
