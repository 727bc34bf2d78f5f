// Package ghpublish attaches a release's files to a GitHub Release: every
// file its build manifest records (artifacts, SBOMs, signatures,
// provenance, attestations, the control plane's receipts), the manifest
// itself, and any other file named, under the release of one tag.
//
// Publishing is idempotent per tag: the release is created or reused, an
// asset already there with the same name and the same content is kept,
// and one with the same name and other content is an error unless the
// caller asks to replace it. The bytes uploaded are hashed as they are
// sent and must be the manifest's record of them.
//
// It must never create a tag at a commit the caller did not name (the
// release is created with the caller's commit as its target), never
// replace an asset unasked, never leave an asset whose content differs
// from its manifest record, and never send the token anywhere but GitHub's
// API (downloads that redirect go without it). It is not a verifier: run
// slipway verify before publishing.
package ghpublish
