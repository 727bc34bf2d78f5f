// Package attest is the attest stage: it makes in-toto statements about
// artifacts — SLSA v1 provenance (package provenance) or an SBOM — signs each
// as a DSSE envelope in a Sigstore bundle through an injected Signer
// (*signing.Signer), writes the bundles next to what they describe, attaches
// them to images in their registry the way cosign does, and records
// provenance bundles in the artifact manifest. Predicate does the same for a
// predicate another stage made (test results, vulnerability findings) about
// every artifact of a manifest, so that no stage hand-rolls DSSE or bundles.
//
// Subjects' digests come from the manifest when there is one; a bare subject
// file is read exactly once. An SBOM is inlined into its statement only when
// it is no larger than a limit, decided from its size on disk before it is
// opened; a larger one is attested by digest reference (see
// SBOMReferencePredicateType), so memory never grows with an artifact or a
// huge SBOM.
//
// This package knows nothing of GitHub Actions, keys or OIDC tokens: the
// caller detects the builder and builds the Signer. It never prints; it logs
// through the injected *slog.Logger. Every file it writes is written
// atomically, and nothing is written unless every statement was signed.
package attest
