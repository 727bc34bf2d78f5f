// Package entry defines the records Slipway's transparency log holds: small,
// versioned, canonical JSON documents of digests and decisions (a release
// admitted, a release rejected with the check that failed; later dispatches
// and outputs).
//
// Format (version 1), every key always in this order, which is the sorted
// order:
//
//	{"artifacts":[{"name":"dist/app","sha256":"<64 hex>"}],
//	 "check":"<failed check, rejected only>",
//	 "decision":"admitted"|"rejected",
//	 "evidence":[{"describes":"<64 hex>","name":"dist/app.sigstore.json","role":"signature","sha256":"<64 hex>"}],
//	 "kind":"release-admitted"|"release-rejected",
//	 "release":"<release id>",
//	 "source":"<source repository>",
//	 "time":"<RFC 3339 UTC>",
//	 "uploader":"<identity name>",
//	 "version":1}
//
// (without the line breaks). Canonical means RFC 8785 (JSON Canonicalization
// Scheme): Marshal encodes the struct and runs the result through an RFC
// 8785 canonicalizer, so keys are sorted, there is no insignificant
// whitespace and strings and numbers have one spelling. Parse refuses any
// input that is not byte for byte the canonical form of what it decodes to,
// so one entry has exactly one encoding and its leaf hash in the log is a
// function of its content.
//
// It must never carry artifact, bundle or SBOM bodies, and never a secret:
// an uploader is named by its identity name (a token's name, an OIDC
// subject), never by a token (Validate refuses an uploader shaped like a
// service token or a JWT). Parse must refuse a version it does not know
// rather than guess at it.
package entry
