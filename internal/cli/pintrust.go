package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"

	"github.com/slipway/actions/internal/atomicfile"
)

// PublicTUF is the public-good Sigstore's TUF repository, whose root sigstore-go embeds.
const PublicTUF = "https://tuf-repo-cdn.sigstore.dev"

// FetchTrustedRoot writes the trusted_root.json of the Sigstore whose TUF repository is at tufURL (PublicTUF:
// the public-good instance, verified from the root sigstore-go embeds) to out: what publish.yml's verify step
// trusts when no SLIPWAY_TRUSTED_ROOT is configured. Its TUF cache goes to a temporary directory.
func FetchTrustedRoot(out, tufURL string) error {
	cache, err := os.MkdirTemp("", "slipway-tuf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(cache)
	c, err := tuf.New(tuf.DefaultOptions().WithRepositoryBaseURL(tufURL).WithCachePath(cache))
	if err != nil {
		return fmt.Errorf("reading the Sigstore TUF repository %q: %w; check the URL and the network", tufURL, err)
	}
	data, err := c.GetTarget("trusted_root.json")
	if err != nil {
		return fmt.Errorf("fetching trusted_root.json from %q: %w", tufURL, err)
	}
	if _, err := root.NewTrustedRootFromJSON(data); err != nil {
		return fmt.Errorf("the trusted_root.json of %q does not parse: %w", tufURL, err)
	}
	return atomicfile.Write(out, 0o644, func(w io.Writer) error { _, err := w.Write(data); return err })
}
