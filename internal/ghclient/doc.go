// Package ghclient makes the go-github client every GitHub face of Slipway
// uses (the failure reporter, the release publisher, the deployment mirror)
// and runs its calls under one retry policy: the primary rate limit
// (go-github's RateLimitError: wait until X-RateLimit-Reset), the secondary
// limit (AbuseRateLimitError, or a 403/429 naming it: wait Retry-After),
// 429 and 5xx answers (exponential backoff), each wait capped and cut short
// by the context.
//
// It must never log, print or wrap the token into an error, never retry a
// request GitHub refused for what it is (401, 404, 422: those are the
// caller's to explain), and never wait longer than its cap: a reset further
// away is an error saying when to try again.
package ghclient
