package push

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/timeouts"
)

// retrier repeats registry requests and operations that failed for a
// transient reason, o.Backoff apart. Unlike go-containerregistry's own
// retries, whose waits are time.Sleep, every wait ends as soon as the
// context is done: a cancelled push stops within one request, never a
// backoff step later.
//
// A request is retried where it is sent (retryTransport), when it can be
// sent again: it has no body, or one that GetBody recreates. A request that
// cannot (a blob streamed by PATCH) is sent once, and when it fails the
// operation around it (the blob upload: HEAD, POST, PATCH, PUT) is retried
// whole by do. A failure that the transport already retried is not retried
// again by do, so attempts never multiply.
type retrier struct {
	backoff   remote.Backoff
	retryable func(error) bool
	statuses  []int
}

// opKey holds the *opState of the operation a request belongs to.
type opKey struct{}

// opState records whether an operation's failed request was one the
// transport could not send again.
type opState struct{ streamFailed atomic.Bool }

// do runs op until it succeeds, fails in a way not worth another attempt
// (an error that is not transient, or a request the transport already
// retried), has been tried backoff.Steps times, or ctx is done.
func (r *retrier) do(ctx context.Context, op func(context.Context) error) error {
	b, steps := r.backoff, r.backoff.Steps // b.Step() counts Steps down
	for attempt := 1; ; attempt++ {
		st := &opState{}
		err := op(context.WithValue(ctx, opKey{}, st))
		if err == nil || attempt >= steps || !st.streamFailed.Load() || !r.retryable(err) {
			return err
		}
		if werr := sleep(ctx, b.Step()); werr != nil {
			return fmt.Errorf("%w (while waiting to try again after: %v)", werr, err)
		}
	}
}

// sleep waits d, or until ctx is done (then it returns ctx's error).
func sleep(ctx context.Context, d time.Duration) error { return timeouts.Sleep(ctx, d) }

// retryTransport retries a request that failed for a transient reason, or
// whose answer has one of the retrier's statuses (the last answer is
// returned when attempts run out). A request whose body cannot be sent
// again (no GetBody) is sent once; its failure is noted in its operation's
// opState, for retrier.do.
type retryTransport struct {
	inner http.RoundTripper
	r     *retrier
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		resp, err := t.inner.RoundTrip(req)
		if err != nil || slices.Contains(t.r.statuses, resp.StatusCode) {
			if st, ok := ctx.Value(opKey{}).(*opState); ok {
				st.streamFailed.Store(true)
			}
		}
		return resp, err
	}
	b, steps := t.r.backoff, t.r.backoff.Steps // b.Step() counts Steps down
	for attempt := 1; ; attempt++ {
		send := req
		if attempt > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			send = req.Clone(ctx)
			send.Body = body
		}
		resp, err := t.inner.RoundTrip(send)
		again := false
		switch {
		case err != nil:
			again = t.r.retryable(err)
		case slices.Contains(t.r.statuses, resp.StatusCode):
			again = t.r.retryable(&statusError{method: req.Method, url: req.URL.Redacted(), status: resp.Status})
		}
		if !again || attempt >= steps {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if werr := sleep(ctx, b.Step()); werr != nil {
			if err == nil {
				err = &statusError{method: req.Method, url: req.URL.Redacted(), status: resp.Status}
			}
			return nil, fmt.Errorf("%w (while waiting to try again after: %v)", werr, err)
		}
	}
}

// statusError is a transient HTTP status, as the retry predicate sees it.
type statusError struct{ method, url, status string }

func (e *statusError) Error() string { return fmt.Sprintf("%s %s: %s", e.method, e.url, e.status) }

// Temporary marks the status as worth another attempt.
func (e *statusError) Temporary() bool { return true }
