// Package provenance builds SLSA v1.0 provenance: an in-toto Statement v1
// whose predicate (https://slsa.dev/provenance/v1) says which builder ran
// which build of which source to produce the statement's subjects.
//
// It has two parts that later stages share:
//   - Builder: who is building, detected once from the GitHub Actions
//     environment (read through an injected getenv), the claims of the job's
//     GitHub OIDC token when there is one, and a configured builder ID. The
//     rules (DetectBuilder) never claim more than is true: only a
//     GitHub-hosted runner gets a GitHub workflow as its builder ID, a
//     self-hosted runner needs a configured ID, and a local run is labelled
//     as an unverified local build.
//   - New: the statement itself, from the subjects, the build's BuildInfo (as
//     recorded in the artifact manifest) and the Builder, in the build type
//     BuildType documented in docs/buildtype.md.
//
// The statement is deterministic: the same inputs give the same bytes
// (Marshal). This package knows nothing of signing, DSSE or registries; it
// never reads an artifact (digests come from the caller), never reads the
// process environment directly and never prints anything.
package provenance
