// Package verify checks artifacts against a trust policy: the signatures on
// them (Sigstore bundles signed with a key or keylessly, OpenPGP detached
// signatures), that what was signed is the artifact's digest, and what the
// attestations say (SLSA provenance from an allowed builder and source,
// required predicate types, SBOMs bound to the artifact, maximum age).
//
// It works offline: everything it needs is in the bundles and the policy
// (public keys, a trusted root with the transparency log and timestamp
// authority keys). It reads each artifact exactly once, computing its
// SHA-256 (and any other digest a bundle signs) and feeding OpenPGP
// signature checks in the same pass, so memory does not depend on the
// artifact's size. Every check becomes a line of a Report: failed checks are
// data, not errors; only a problem with the inputs themselves (a subject
// that cannot be read) is returned as an error.
//
// It must never contact the network, never read an artifact twice or into
// memory, never print anything (callers render the Report), and never treat
// an unverified bundle's contents as true.
package verify
