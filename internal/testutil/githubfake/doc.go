// Package githubfake is an in-process HTTP server speaking GitHub's REST
// wire format for the endpoints Slipway's GitHub faces use (issues and
// their comments, releases and their assets, deployments and their
// statuses), for tests only: GitHub itself cannot be reached from CI.
//
// Every answer is built from a response GitHub documents, recorded under
// testdata/ (the fields the fake keeps state for are overwritten, the rest
// is left as recorded), with the headers GitHub sends: Link pagination,
// X-RateLimit-*, Retry-After. Faults (rate limits, server errors, 422) are
// queued per route with Fail. It must never be used outside tests.
package githubfake
