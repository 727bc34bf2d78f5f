package push

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/timeouts"
)

// DefaultBackoff spaces the attempts at a registry request: 5 attempts,
// 1, 2, 4 and 8 seconds apart (±10%), so at most about 15 s of waiting for
// one request before its error is reported.
var DefaultBackoff = remote.Backoff{Duration: time.Second, Factor: 2, Jitter: 0.1, Steps: 5}

// RetryStatusCodes are the HTTP statuses that are retried: request timeout,
// too many requests and the server errors that a proxy or an overloaded
// registry answers.
var RetryStatusCodes = []int{
	http.StatusRequestTimeout, http.StatusTooManyRequests,
	http.StatusInternalServerError, http.StatusBadGateway,
	http.StatusServiceUnavailable, http.StatusGatewayTimeout,
}

// NewTransport returns the HTTP transport used by default: no request
// waits forever for a registry that accepts connections but does not
// answer (package timeouts, with its default limits).
func NewTransport() http.RoundTripper {
	return timeouts.Config{}.Transport("registry")
}

// retryPredicate says which errors are worth another attempt: a transient
// status (RetryStatusCodes, or a registry error code marked temporary), a
// connection that was refused, reset or cut short, a timeout. It never
// retries once ctx is done, nor content that is not what it should be.
func retryPredicate(ctx context.Context, log *slog.Logger, registry string) func(error) bool {
	return func(err error) bool {
		if err == nil || ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return false
		}
		var ce *contentError
		var fe *fileError
		var cred *credentialsError
		var te *timeouts.Error // a silent registry: asking again only doubles the wait
		if errors.As(err, &ce) || errors.As(err, &fe) || errors.As(err, &cred) || errors.As(err, &te) {
			return false
		}
		var tmp interface{ Temporary() bool }
		var ne net.Error
		retry := (errors.As(err, &tmp) && tmp.Temporary()) ||
			(errors.As(err, &ne) && ne.Timeout()) ||
			errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
			errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
			errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
		if retry {
			log.Warn("retrying after a transient registry error", "registry", registry, "error", err)
		}
		return retry
	}
}
