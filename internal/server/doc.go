// Package server is the control plane's HTTP API ("slipway serve"): the
// router, the middleware every request goes through (request id, structured
// log, metrics, panic recovery), bearer-token authentication with scopes and
// per-identity rate limits (service tokens, and GitHub Actions OIDC ID
// tokens verified by internal/idtoken: oidc.go, identity.go), problem+json
// errors (RFC 9457), health and readiness, and graceful shutdown.
//
// Endpoints come in groups, one file each (ops.go: /healthz, /readyz,
// /metrics); a group is a method returning []Route, listed in routeGroups.
// Handlers return errors; *Problem errors are rendered as
// application/problem+json in one place (problem.go), anything else becomes
// a 500 whose cause is logged and not sent.
//
// Reading (read.go, query.go) lists and searches admitted releases with
// keyset pages and serves each release's admitted manifest and files.
// openapi.yaml is the OpenAPI 3.1 document of every route, embedded and
// served at /api/v1/openapi.json; the tests check the route table and real
// answers against it, so a route or answer changed without it fails them.
//
// Every log entry is written to the store as an intent before it is
// appended (intents.go), and the row it becomes removes the intent: a
// failure between the append and the row leaves a pending intent, which the
// same request sent again, or Repair at the next start (repair.go, run by
// Serve before it answers), finishes with the entry already logged or the
// same bytes appended, never a second entry.
//
// Admission by reference (byref.go) copies an image and what refers to it
// from a registry into the blob store through internal/mirror and verifies
// the copy; it never takes registry credentials from a request, and never
// reaches a non-public registry address unless AllowPrivateRegistries.
//
// It sits over the stages: it may call internal/verify and policy, never
// the other way round. It must never log or echo a token (the Authorization
// header is read by auth.go only), never let an OIDC ID token through when
// its issuer cannot be reached (that is a 503), never give an OIDC identity
// more than the scopes upload and read, never consume an OIDC ID token
// (ConsumeOIDC) anywhere but in admission after the uploader rule allowed
// its sender, never answer before the store is open and migrated and its pending
// intents repaired, never append a log entry whose intent is not written,
// and never drop an in-flight request on SIGTERM within the shutdown
// timeout.
package server
