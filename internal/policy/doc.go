// Package policy is Slipway's one trust policy format: a YAML document
// (apiVersion slipway.dev/v1, kind TrustPolicy) saying whom to trust and what
// to require of an artifact before using it — signing keys, keyless
// identities, OpenPGP keys, allowed builders and source repositories,
// required and allowed attestation predicate types, a maximum age, how to
// use a transparency log and a trusted root, and which uploaders (service
// tokens, GitHub Actions OIDC identities) may publish which source
// repositories to the control plane.
//
// It is read by "slipway verify", and later by the control plane's admission
// and by the HPC dispatch; all three share Load/Parse and the matching rules
// here (MatchBuilder, MatchSource, PredicateTypeAllowed, AllowUpload), so that the same
// policy means the same thing wherever it is enforced. docs/policy.md
// documents the format with a complete example.
//
// Parsing is strict: an unknown field, a wrong type or a bad value is an
// error naming the file, the line, the field and the fix. A parsed Policy is
// immutable and safe for concurrent use.
//
// This package only reads policies and the small files they name (public
// keys, a trusted root); it must never verify a signature, read an artifact,
// contact the network or print anything.
package policy
