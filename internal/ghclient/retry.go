package ghclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
)

// Retry is when and how long a call is tried again.
type Retry struct {
	// Attempts is the most tries of one call (default 6).
	Attempts int
	// Base is the first backoff of a server error (default 1 s); each
	// further one doubles, up to MaxWait.
	Base time.Duration
	// MaxWait caps every wait (default 2 min). A rate limit that resets
	// later than that is an error naming the reset time, not a longer wait.
	MaxWait time.Duration
	// Now is the clock the reset time is compared with (default time.Now).
	Now func() time.Time
	// Log, when set, says why and how long a call waits.
	Log *slog.Logger
}

func (r Retry) defaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 6
	}
	if r.Base <= 0 {
		r.Base = time.Second
	}
	if r.MaxWait <= 0 {
		r.MaxWait = 2 * time.Minute
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	return r
}

// secondaryDefault is GitHub's advice when a secondary limit gives no
// Retry-After and no reset: wait at least a minute.
const secondaryDefault = time.Minute

// RateLimitedError is a call that gave up on a rate limit: the wait it
// asked for was longer than the cap, or the attempts ran out.
type RateLimitedError struct {
	Op    string
	Until time.Time // zero when unknown
	Err   error
}

func (e *RateLimitedError) Error() string {
	when := "later"
	if !e.Until.IsZero() {
		when = "after " + e.Until.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("%s: GitHub's rate limit for this token is exhausted (%v); run it again %s, or with a token that has its own limit", e.Op, e.Err, when)
}

func (e *RateLimitedError) Unwrap() error { return e.Err }

// Do runs call until it succeeds, fails for good, or the policy gives up.
// op names the call in errors ("creating issue"). A call that is not
// idempotent (a POST) is retried only when GitHub refused it before doing
// anything (a rate limit), never after a server error or a lost connection,
// which may have done it.
func (c *Client) Do(ctx context.Context, op string, idempotent bool, call func(context.Context) (*github.Response, error)) error {
	r := c.Retry.defaults()
	backoff := r.Base
	for attempt := 1; ; attempt++ {
		resp, err := call(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", op, ctx.Err())
		}
		wait, limited, until, why := r.classify(resp, err, idempotent, backoff)
		if why == "" {
			if host := unknownHost(err); host != "" {
				return fmt.Errorf("%s: %w (the resolver knows no host %q: check the API URL, the github-api-url input or GITHUB_API_URL)", op, err, host)
			}
			return fmt.Errorf("%s: %w", op, err)
		}
		if limited && wait > r.MaxWait {
			return &RateLimitedError{Op: op, Until: until, Err: err}
		}
		if attempt >= r.Attempts {
			if limited {
				return &RateLimitedError{Op: op, Until: until, Err: err}
			}
			return fmt.Errorf("%s: %w (gave up after %d attempts; GitHub may be having trouble: try again later)", op, err, attempt)
		}
		wait = min(wait, r.MaxWait)
		if !limited {
			backoff = min(2*backoff, r.MaxWait)
		}
		if r.Log != nil {
			r.Log.Info(why+"; retrying", "op", op, "attempt", attempt, "wait", wait.String(), "cause", err.Error())
		}
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("%s: interrupted while waiting to retry: %w", op, err)
		}
	}
}

// classify says whether err is worth another try and after how long: why
// is the reason logged with the retry, "" for an error that is not retried;
// limited is true for a rate limit (then until is when it resets, if known).
func (r Retry) classify(resp *github.Response, err error, idempotent bool, backoff time.Duration) (wait time.Duration, limited bool, until time.Time, why string) {
	const (
		asked   = "GitHub asked to wait"
		server  = "GitHub answered a server error"
		noReply = "GitHub did not answer"
	)
	var rle *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	var er *github.ErrorResponse
	switch {
	case errors.As(err, &rle):
		if rle.Rate.Reset.IsZero() {
			return secondaryDefault, true, time.Time{}, asked
		}
		until = rle.Rate.Reset.Time
		return r.untilReset(until), true, until, asked
	case errors.As(err, &abuse):
		if abuse.RetryAfter != nil {
			w := max(*abuse.RetryAfter, 0)
			return w, true, r.Now().Add(w), asked
		}
		return secondaryDefault, true, time.Time{}, asked
	case errors.As(err, &er) && er.Response != nil:
		h := er.Response.Header
		code := er.Response.StatusCode
		secondary := strings.Contains(strings.ToLower(er.Message), "secondary rate limit")
		if code == http.StatusTooManyRequests || (code == http.StatusForbidden && (secondary || h.Get("X-RateLimit-Remaining") == "0")) {
			if s := h.Get("Retry-After"); s != "" {
				if n, perr := strconv.Atoi(s); perr == nil && n >= 0 {
					w := time.Duration(n) * time.Second
					return w, true, r.Now().Add(w), asked
				}
			}
			if h.Get("X-RateLimit-Remaining") == "0" {
				if n, perr := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); perr == nil {
					until = time.Unix(n, 0)
					return r.untilReset(until), true, until, asked
				}
			}
			return secondaryDefault, true, time.Time{}, asked
		}
		if code >= 500 && idempotent {
			return backoff, false, time.Time{}, server
		}
		return 0, false, time.Time{}, ""
	}
	if resp == nil && idempotent && unknownHost(err) == "" {
		// No answer at all (connection reset, timeout of one request). A
		// host that does not exist will not exist on the next try.
		return backoff, false, time.Time{}, noReply
	}
	return 0, false, time.Time{}, ""
}

// unknownHost is the host a DNS lookup found no record of, "" when err is
// something else.
func unknownHost(err error) string {
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return dns.Name
	}
	return ""
}

// untilReset is the wait until a reset time, plus a second: the reset is
// given in whole seconds.
func (r Retry) untilReset(t time.Time) time.Duration {
	return max(t.Sub(r.Now()), 0) + time.Second
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// IsRefused reports whether GitHub answered err with a 4xx other than a
// rate limit: the request itself is wrong (token, permission, repository,
// validation), so trying again will not help.
func IsRefused(err error) bool {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return false
	}
	c := er.Response.StatusCode
	return c >= 400 && c < 500 && c != http.StatusTooManyRequests
}
