// Package pull is the consumer's side of a release: it fetches a release
// that slipway push made (an OCI artifact, or a release index holding that
// artifact and an image) from its registry by digest, restores every file
// at the path its layer names (the build manifest among them), verifies the
// files against a trust policy, and only then makes them visible in the
// output directory.
//
// The files are written into a fresh temporary directory next to the output
// directory, verified there, and the directory is renamed into place: a
// release that fails to download or to verify leaves nothing behind. Each
// blob is streamed from the registry into its file, hashed while written,
// and refused as soon as it exceeds the size its descriptor gives or when
// its digest differs; memory does not depend on the release's size.
//
// A registry is not trusted: layer names must be clean relative paths (no
// "..", no absolute path, no backslash, no name twice, no file where
// another needs a directory), every file must be one the build manifest
// lists with the same digest and size (or the manifest itself, its
// subjects file, or an SBOM's attestation next to the SBOM it attests), and
// manifests and blobs are checked against the digests that pin them.
//
// This package must never write outside the output directory and its
// temporary sibling, never make a file visible before verification passed
// (unless the caller asked for no verification), never read a blob whole
// into memory, never follow a tag more than once, and never print (it logs
// only through the injected *slog.Logger). It knows nothing of GitHub
// Actions.
package pull
