package upload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/timeouts"
)

// client sends requests to one server with a bearer token.
type client struct {
	base  *url.URL
	http  *http.Client
	token func(context.Context) (string, error)
	retry Retry
	log   *slog.Logger
}

// Retry bounds how often a request that failed for a transient reason is
// sent again.
type Retry struct {
	// Attempts is how many times a request is sent at most (3 by default,
	// as timeouts.DefaultBackoff).
	Attempts int
	// Pause is the wait between attempts (timeouts.DefaultBackoff's by
	// default); a 429's Retry-After is honoured up to MaxPause.
	Pause, MaxPause time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = timeouts.DefaultBackoff.Steps
	}
	if r.Pause <= 0 {
		r.Pause = timeouts.DefaultBackoff.Duration
	}
	if r.MaxPause < r.Pause {
		r.MaxPause = 30 * time.Second
	}
	return r
}

// url resolves ref (a path, or a Location header) against the server. A
// Location on another origin is refused: the token must not go there.
func (c *client) url(ref string) (*url.URL, error) {
	u, err := c.base.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("the server's location %q is not a URL: %w", clean(trimTo(ref, 200)), err)
	}
	if u.Scheme != c.base.Scheme || u.Host != c.base.Host {
		return nil, fmt.Errorf("the server sent the upload to %q, another origin than %q; the token is only sent to the server given (check --server, or the server's --public-url)", clean(u.Redacted()), c.base.Scheme+"://"+c.base.Host)
	}
	return u, nil
}

// do sends one request, with the bearer token, once.
func (c *client) do(req *http.Request) (*http.Response, error) {
	tok, err := c.token(req.Context())
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.netError(req, err)
	}
	return resp, nil
}

// transientStatus are the answers worth another attempt.
func transientStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// send sends the request mk builds until it gets an answer that is not
// transient, or c.retry.Attempts are used up (the last answer or error is
// returned). mk is called for every attempt, so a body is sent afresh.
func (c *client) send(ctx context.Context, mk func(context.Context) (*http.Request, error)) (*http.Response, error) {
	r := c.retry.withDefaults()
	for attempt := 1; ; attempt++ {
		req, err := mk(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := c.do(req)
		pause := r.Pause
		switch {
		case err != nil && (!transient(err) || attempt >= r.Attempts):
			return nil, err
		case err == nil && (!transientStatus(resp.StatusCode) || attempt >= r.Attempts):
			return resp, nil
		case err == nil:
			if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 {
				pause = min(time.Duration(s)*time.Second, r.MaxPause)
			}
			c.log.Info("server busy, trying again", "method", req.Method, "url", req.URL.Redacted(), "status", resp.StatusCode, "attempt", attempt, "pause", pause)
			drain(resp)
		default:
			c.log.Info("request failed, trying again", "method", req.Method, "url", req.URL.Redacted(), "error", err, "attempt", attempt, "pause", pause)
		}
		if err := sleep(ctx, pause); err != nil {
			return nil, err
		}
	}
}

// transient reports whether err is worth another attempt: a connection
// cut, reset or refused (a server restarting). A limit of package timeouts
// (a silent server) is not: waiting again only doubles the wait.
func transient(err error) bool {
	var te *timeouts.Error
	if errors.As(err, &te) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return timeouts.IsTransient(err) || errors.Is(err, syscall.ECONNREFUSED)
}

// netError explains a request that got no answer. It never quotes the
// request's headers (the token).
func (c *client) netError(req *http.Request, err error) error {
	if cause := context.Cause(req.Context()); cause != nil && req.Context().Err() != nil {
		return cause
	}
	var te *timeouts.Error
	if errors.As(err, &te) {
		return exitcode.Infra(fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), te))
	}
	return exitcode.Infra(fmt.Errorf("%s %s: %w; check that the server is up and that --server %q is its address", req.Method, req.URL.Redacted(), unwrapURL(err), c.base.Redacted()))
}

// unwrapURL drops the *url.Error around err: the caller names the request.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// drain reads a little of a body we do not use, so that the connection can
// be reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error { return timeouts.Sleep(ctx, d) }
