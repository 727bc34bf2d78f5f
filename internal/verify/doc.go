// Package verify checks artifacts against a trust policy: the signatures on
// them (Sigstore bundles signed with a key or keylessly, OpenPGP detached
// signatures), that what was signed is the artifact's digest, and what the
// attestations say (SLSA provenance from an allowed builder and source,
// required predicate types, SBOMs bound to the artifact, maximum age, and
// under the policy's tests and vulnerabilities sections the newest verified
// test result and vulnerability scan about the artifact). It is the one
// place those rules are enforced: slipway verify, the control plane's
// admission and slipway dispatch all call it.
//
// It works offline: everything it needs is in the bundles and the policy
// (public keys, a trusted root with the transparency log and timestamp
// authority keys). An image subject is the one exception: its digest, the
// Sigstore bundles attached to it as OCI 1.1 referrers and the signatures
// and attestations in cosign's sha256-<hex>.sig and .att tags (turned into
// the bundles they stand for) are read from its registry. A file subject is read exactly once, computing its SHA-256 (and
// any other digest a bundle signs) and feeding OpenPGP signature checks in
// the same pass, so memory does not depend on the artifact's size.
//
// A manifest (VerifyManifest) is not trusted: its records' names are bound
// to their paths inside the workspace, the files it names are opened there
// and nowhere else, the bundles it records must have their recorded digests,
// and verified SLSA provenance decides which names and digests are the
// build's. Its registry records are listed, not verified.
//
// Every check becomes a line of a Report: a failed check, an unreadable
// bundle or subject, is data in the report, not an error; Verify returns an
// error only when its context ends.
//
// It must never contact anything but an image subject's registry, never
// write anywhere (but into a Subject's Tee, the caller's writer), never read an artifact twice or into memory, never print
// anything (callers render the Report), and never treat an unverified
// bundle's contents as true.
package verify
