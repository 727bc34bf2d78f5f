package pull

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/timeouts"
)

// classify marks an error of a registry call with its exit code and says
// what to do: bad input (2) for a reference or credentials the registry
// refuses, a failed check (1) for content that is not what its digest says,
// an infrastructure failure (3) for a registry that cannot be reached or
// keeps failing, and for a local disk that cannot be written.
func (c *client) classify(err error, op string) error {
	var coded *exitcode.Error
	var ce *contentError
	var nr *notReleaseError
	var fe *fileError
	var te *transport.Error
	var silent *timeouts.Error
	var ne net.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &coded):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return exitcode.Infra(fmt.Errorf("%s: %w", op, err))
	case errors.As(err, &ce):
		return exitcode.Failure(fmt.Errorf("%s: %w; the registry %s is broken or hostile: nothing was written", op, ce, c.registry))
	case errors.As(err, &nr):
		return exitcode.BadInput(fmt.Errorf("%s: %w; pull a reference that slipway push made (its pinned-ref output)", op, nr))
	case errors.As(err, &fe):
		return exitcode.Infra(fmt.Errorf("%s: writing the file: %w; check the disk (space, permissions)", op, fe))
	case errors.As(err, &silent):
		return exitcode.Infra(fmt.Errorf("%s: %w", op, silent))
	case errors.As(err, &te):
		switch te.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return exitcode.BadInput(fmt.Errorf("%s: registry %s refused access (%d %s): %w; give credentials that may read %q (registry-username and REGISTRY_PASSWORD, GITHUB_TOKEN with packages: read for ghcr.io, or docker login %s)",
				op, c.registry, te.StatusCode, http.StatusText(te.StatusCode), te, c.repo.Name(), c.registry))
		case http.StatusNotFound:
			return exitcode.BadInput(fmt.Errorf("%s: registry %s has no such release (404): %w; check the reference (the push's pinned-ref output)", op, c.registry, te))
		}
		if te.StatusCode >= 500 || te.StatusCode == http.StatusTooManyRequests || te.StatusCode == http.StatusRequestTimeout {
			return exitcode.Infra(fmt.Errorf("%s: registry %s kept failing (%d %s): %w; check its health, then run again", op, c.registry, te.StatusCode, http.StatusText(te.StatusCode), te))
		}
		return exitcode.Failure(fmt.Errorf("%s: registry %s refused the request (%d %s): %w", op, c.registry, te.StatusCode, http.StatusText(te.StatusCode), te))
	case errors.As(err, &ne):
		return exitcode.Infra(fmt.Errorf("%s: cannot reach registry %s: %w; check that it is running and reachable (host, port, proxy), and the timeouts", op, c.registry, err))
	}
	return exitcode.Infra(fmt.Errorf("%s at registry %s: %w; check that the registry is reachable and healthy", op, c.registry, err))
}
