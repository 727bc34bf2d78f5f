package cli

import (
	"context"
	"fmt"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/tlog"
)

// logKeyCommand is "slipway log-key": it creates a transparency log's
// checkpoint signing key in a file, once, for the replicas of a log in a
// bucket (slipway serve --log-bucket), which must all be given the same
// key and never make their own. A command-line command, not an action.
type logKeyCommand struct{ keyFile, origin string }

func (c *logKeyCommand) commandLineOnly() {}
func (c *logKeyCommand) Name() string     { return "log-key" }
func (c *logKeyCommand) Short() string {
	return "Create a transparency log's checkpoint signing key (a note signing key, mode 0600) and its verifier key beside it; refuses to replace an existing key."
}

// Long is the rest of --help.
func (c *logKeyCommand) Long() string {
	return `slipway serve creates the key of a log in its data directory itself. The
replicas of a log in a bucket (--log-bucket) cannot: they must all sign with
one key. Create it once with this command, keep the file secret (a secret
store, mode 0600) and backed up, and give it to every replica with --log-key.
The verifier key (printed, and written to FILE with .key replaced by .pub)
is what trust policies name as log.verifierKey.`
}

func (c *logKeyCommand) Inputs() []input.Input {
	return []input.Input{
		input.String(&c.keyFile, input.Spec{Name: "log-key", Env: "SLIPWAY_LOG_KEY", Required: true,
			Description: "The file to create the signing key in (mode 0600); it must not exist."}),
		input.String(&c.origin, input.Spec{Name: "log-origin", Env: "SLIPWAY_LOG_ORIGIN", Required: true,
			Description: "The log's origin, its name in checkpoints, a schema-less URL such as slipway.example.org/log; it never changes."}),
	}
}

func (c *logKeyCommand) Outputs() []input.Output {
	return []input.Output{
		{Name: "verifier-key", Description: "The log's note verifier key, for trust policies (log.verifierKey)."},
		{Name: "verifier-file", Description: "The file the verifier key was written to."},
	}
}

func (c *logKeyCommand) Run(ctx context.Context, rt *Runtime) error {
	keyFile := rt.path(c.keyFile)
	vkey, err := tlog.CreateKey(keyFile, c.origin)
	if err != nil {
		return exitcode.BadInput(fmt.Errorf("input \"log-key\": %w", err))
	}
	if err := rt.Output("verifier-key", vkey); err != nil {
		return err
	}
	return rt.Output("verifier-file", tlog.VerifierFile(keyFile))
}
