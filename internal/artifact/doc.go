// Package artifact is the artifact set every stage shares: typed records of
// the files a build produced and of what later stages made about them (SBOMs,
// signatures, provenance, receipts), with their digests.
//
// A Manifest is the set's serialization between jobs and machines. Nobody
// signs it, so every record's name is bound to its path (see the roles),
// paths stay inside the workspace, and Decode, Validate and WriteFile refuse
// any other manifest: a reader never has to trust a name it did not check.
// A subjects file is the sha256sum-format list that slsa-github-generator
// and the sha256sum tool understand. This package only describes artifacts: it must
// never read an artifact's content (package digest does that, once).
package artifact
