package cli

import (
	"net/http"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/timeouts"
)

// netFlags are the network limits, one definition for every stage that
// reaches the network (registries, KMS, Fulcio, Rekor, a timestamp
// authority, GitHub's token endpoint).
type netFlags struct {
	cfg timeouts.Config
}

func (n *netFlags) inputs() []input.Input {
	return []input.Input{
		input.Duration(&n.cfg.Connect, input.Spec{Name: timeouts.ConnectInput, Env: timeouts.ConnectEnv,
			Default:     timeouts.Format(timeouts.DefaultConnect),
			Description: "How long to wait for a network connection (name lookup, TCP connect, TLS handshake) to a registry, KMS, Fulcio, Rekor, timestamp authority or GitHub's token endpoint."}),
		input.Duration(&n.cfg.Response, input.Spec{Name: timeouts.TimeoutInput, Env: timeouts.TimeoutEnv,
			Default:     timeouts.Format(timeouts.DefaultResponse),
			Description: "How long a connected network peer may stay silent: for its answer, the next bytes of a download, or taking the next bytes of an upload; a transfer that keeps moving is never cut."}),
	}
}

// useNet gives rt the limits n holds: its HTTP client (Sigstore services,
// GitHub's token endpoint) and registry transport honour them.
func (rt *Runtime) useNet(n netFlags) error {
	for _, l := range []struct {
		name string
		v    int64
	}{{timeouts.ConnectInput, int64(n.cfg.Connect)}, {timeouts.TimeoutInput, int64(n.cfg.Response)}} {
		if l.v < 0 {
			return exitcode.BadInputf("input %q is negative; give a duration such as \"30s\" (or leave it empty for the default)", l.name)
		}
	}
	rt.Net = n.cfg.WithDefaults()
	rt.HTTP = rt.Net.Client("")
	return nil
}

// registry is the transport for OCI registries, bounded by rt.Net.
func (rt *Runtime) registry() http.RoundTripper {
	return rt.Net.Transport("registry")
}
