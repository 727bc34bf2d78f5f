// Package upload is the mcp-upload client: it sends a release (the records
// of a build manifest) to Slipway's control plane (slipway serve) and
// brings back the receipt of the log entry that admitted it.
//
// For every record of the manifest with a path (artifacts, signatures,
// provenance, SBOMs, attestations; receipts excepted, the server drops
// them) it asks the server whether it holds the blob (HEAD by digest) and
// uploads the missing ones with the OCI distribution spec's chunked upload
// (POST, then PATCH chunks of Options.ChunkSize with Content-Range, then PUT
// with the digest; /work/API7.md and docs/server.md describe the wire).
// Chunks are streamed from the file (an io.SectionReader), never read into
// memory. After a cut connection it asks the upload location how much the
// server holds (GET, Range) and continues from there. Transient failures
// (a connection cut or refused while the server restarts, 429, 502, 503,
// 504) are tried again a bounded number of times; a server that stays
// silent fails at once with the limit it exceeded (package timeouts).
// Then it POSTs the manifest to /api/v1/releases; on 201 or 200 it writes
// the receipt atomically (the release's receipt, Options.Receipt, and one
// receipt per admitted artifact, ARTIFACT.receipt beside it) and records
// those in the manifest (artifact.NewReceipt), rewritten atomically. A
// refusal (problem+json) is returned as a *ServerError that names the
// failed check, its subject and the server's fix.
//
// Authentication is a bearer token from Options.Token, asked for on every
// request: a service token returns itself; a GitHub Actions OIDC ID token is
// single-use on the server (its jti is remembered), so each request gets a
// fresh one.
//
// This package must never log, print, put in an error or write to a file a
// token, never hold an artifact in memory, never follow the server's
// Location outside the server's origin, and never write a file outside the
// workspace (Options.Dir) or a manifest that does not validate. It knows
// nothing of GitHub Actions; it logs only through the injected
// *slog.Logger.
package upload
