// Package policy is Slipway's one trust policy format: a YAML document
// (apiVersion slipway.dev/v1, kind TrustPolicy) saying whom to trust and what
// to require of an artifact before using it — signing keys, keyless
// identities, OpenPGP keys, allowed builders and source repositories,
// required and allowed attestation predicate types, a maximum age, how to
// use a transparency log and a trusted root, and which uploaders (service
// tokens, GitHub Actions OIDC identities) may publish which source
// repositories to the control plane, which Slurm partitions, accounts,
// QOS, time, nodes and GPUs the releases of each repository may use
// (dispatch rules), and what test results and vulnerability scans must show
// (tests, vulnerabilities: the result required, the highest severity a
// finding may have, how old a scan may be, which findings are accepted
// until when).
//
// It is read by "slipway verify", the control plane's admission and
// dispatch, and "slipway dispatch"; all share Load/Parse and the matching
// rules here (MatchBuilder, MatchSource, PredicateTypeAllowed, AllowUpload,
// CheckDispatch), so that the same
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
