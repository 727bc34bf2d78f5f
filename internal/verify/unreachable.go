package verify

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/slipway/actions/internal/timeouts"
)

// unreachable reports whether a registry read failed without a verdict from
// the registry: no HTTP answer at all (refused, reset, DNS, a network
// limit), a connection cut short, or a server error (5xx, 429). A 4xx
// answer (not found, unauthorized) is the registry's verdict on the
// request, and content that does not parse is the content's fault: both are
// failed checks.
func unreachable(err error) bool {
	if err == nil {
		return false
	}
	var te *transport.Error
	if errors.As(err, &te) {
		return te.StatusCode >= 500 || te.StatusCode == http.StatusTooManyRequests
	}
	var (
		limit *timeouts.Error
		ue    *url.Error
		ne    net.Error
		oe    *net.OpError
	)
	return errors.As(err, &limit) || errors.As(err, &ue) || errors.As(err, &ne) || errors.As(err, &oe) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF)
}
