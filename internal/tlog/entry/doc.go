// Package entry defines the records Slipway's transparency log holds: small,
// versioned, canonical JSON documents of digests and decisions (a release
// admitted, a release rejected with the check that failed, a dispatch of a
// release authorized before submission, a release dispatched to a Slurm
// cluster, a dispatch's outputs admitted).
//
// Format (version 1), every key always in this order, which is the sorted
// order:
//
//	{"artifacts":[{"name":"dist/app","sha256":"<64 hex>"}],
//	 "check":"<failed check, rejected only>",
//	 "decision":"admitted"|"rejected"|"authorized"|"recorded",
//	 "dispatch":{"authorization":"a-<16 hex>","builderId":"<uri>","cluster":"<name>","fingerprint":"<64 hex>",
//	             "id":"d-<16 hex>","jobId":"<decimal>","partition":"<name>","runId":"<idempotency key>"},
//	 "evidence":[{"describes":"<64 hex>","name":"dist/app.sigstore.json","role":"signature","sha256":"<64 hex>"}],
//	 "inputs":[{"logIndex":N,"release":"<release id>"}],
//	 "kind":"release-admitted"|"release-rejected"|"dispatch-authorized"|"dispatch-recorded"|"outputs-admitted",
//	 "release":"<release id>",
//	 "source":"<source repository>",
//	 "time":"<RFC 3339 UTC>",
//	 "uploader":"<identity name>",
//	 "version":1}
//
// (without the line breaks). The kinds and what each carries:
//   - release-admitted (decision admitted) and release-rejected (decision
//     rejected, with "check"): an admission of a build manifest; artifacts
//     and evidence are the manifest's.
//   - dispatch-authorized (decision authorized, with "dispatch", no
//     evidence): before anything is submitted, the control plane allowed
//     "uploader" to run the admitted release "release" as the one job whose
//     spec has SHA-256 "fingerprint" (slurm.JobSpec.Fingerprint) under the
//     idempotency key runId (the job's comment). "authorization" is the
//     authorization id (a-<16 hex>, a function of release and runId);
//     "id" and "jobId" are absent (no job exists yet); cluster, partition
//     and builderId are optional.
//   - dispatch-recorded (decision recorded, with "dispatch", no evidence):
//     the admitted release "release" was handed to Slurm as job jobId;
//     artifacts are the release's, uploader is who recorded (or asked for)
//     the dispatch. cluster, partition and builderId are optional;
//     "authorization" and "fingerprint" name the dispatch-authorized entry
//     it was submitted under (both, or neither in entries written before
//     authorizations existed; the server records none without one now).
//   - outputs-admitted (decision admitted, with "inputs"): the admission of
//     a dispatch's outputs manifest, whose provenance
//     (https://slipway.dev/buildtypes/slurm-dispatch/v1) names the input
//     releases; each input is an admitted release and the log index of its
//     release-admitted entry.
//
// Canonical means RFC 8785 (JSON Canonicalization Scheme): Marshal encodes
// the struct and runs the result through an RFC 8785 canonicalizer, so keys
// are sorted, there is no insignificant whitespace and strings and numbers
// have one spelling (so a log index is at most 2^53-1). Parse refuses any
// input that is not byte for byte the canonical form of what it decodes to,
// so one entry has exactly one encoding and its leaf hash in the log is a
// function of its content.
//
// It must never carry artifact, bundle or SBOM bodies, and never a secret:
// an uploader is named by its identity name (a token's name, an OIDC
// subject), never by a token (Validate refuses an uploader, or a dispatch
// field, shaped like a service token or a JWT). Parse must refuse a version
// or kind it does not know rather than guess at it.
package entry
