package timeouts

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// DefaultBackoff is the retry schedule of RemoteOptions: three attempts,
// about a second apart.
var DefaultBackoff = remote.Backoff{Duration: time.Second, Jitter: 0.1, Steps: 3}

// RemoteOptions are the go-containerregistry options every registry client
// uses: c's transport for "registry", ctx, and retries of transient errors
// (as go-containerregistry's default predicate, never a timeout of ours)
// whose pauses end as soon as ctx is done. go-containerregistry sleeps
// between attempts without looking at any context, so the pause is taken
// in the predicate instead and the library's own backoff is zero.
func (c Config) RemoteOptions(ctx context.Context) []remote.Option {
	b, pred := RetryOptions(ctx, DefaultBackoff, isTransient)
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(c.Transport("registry")),
		remote.WithRetryBackoff(b),
		remote.WithRetryPredicate(pred),
	}
}

// RetryOptions turns pred into a go-containerregistry backoff and
// predicate pair for b.Steps attempts, b.Duration apart (plus up to
// b.Jitter of it), whose pauses end when ctx is done: the predicate waits
// before it says "retry", and says "stop" once ctx is done. The pauses do
// not grow (b.Factor is not used): the predicate cannot tell one request's
// attempts from another's.
func RetryOptions(ctx context.Context, b remote.Backoff, pred func(error) bool) (remote.Backoff, func(error) bool) {
	return remote.Backoff{Steps: b.Steps}, func(err error) bool {
		if err == nil || ctx.Err() != nil || !pred(err) {
			return false
		}
		wait := b.Duration
		if b.Jitter > 0 {
			wait += time.Duration(rand.Float64() * b.Jitter * float64(b.Duration))
		}
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
}

// isTransient is go-containerregistry's default retry predicate: a
// temporary error or a connection cut short. An *Error is neither.
func isTransient(err error) bool {
	var tmp interface{ Temporary() bool }
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	var te *Error
	if errors.As(err, &te) {
		return false
	}
	return (errors.As(err, &tmp) && tmp.Temporary()) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed)
}

// IsTransient reports whether err is worth another attempt: a temporary
// error or a connection cut short, never an *Error (a silent peer) nor a
// done context.
func IsTransient(err error) bool { return isTransient(err) }

// Sleep waits d, or until ctx is done (then it returns the context's
// cause): a pause between attempts that never outlasts a cancelled command.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
