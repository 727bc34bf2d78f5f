package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
	"github.com/slipway/actions/internal/unitfile"
)

// runnerSystemdCommand is "slipway runner systemd": it prints a hardened systemd unit.
type runnerSystemdCommand struct {
	unit string
	o    unitfile.Options
}

func (c *runnerSystemdCommand) commandLineOnly() {}
func (c *runnerSystemdCommand) Name() string     { return "systemd" }
func (c *runnerSystemdCommand) Short() string {
	return "Print a hardened systemd unit for slipway serve or for the GitHub runner that runs slipway dispatch (a dedicated user, no capabilities, ProtectSystem=strict, write access only where needed)."
}

// Long is the rest of --help.
func (c *runnerSystemdCommand) Long() string {
	return `The unit goes to stdout; nothing is installed. For example:

  slipway runner systemd --unit serve > /etc/systemd/system/slipway-serve.service
  slipway runner systemd --unit runner --workdir /shared/slipway \
    > /etc/systemd/system/slipway-runner.service
  systemctl daemon-reload && systemctl enable --now slipway-serve slipway-runner

Create the users first (useradd --system ...); docs/hpc.md has the whole install.`
}

func (c *runnerSystemdCommand) Inputs() []input.Input {
	return []input.Input{
		input.String(&c.unit, input.Spec{Name: "unit", Required: true,
			Description: "Which unit: " + strings.Join(unitfile.Names, " (slipway-serve.service) or ") + " (slipway-runner.service, the GitHub Actions runner)."}),
		input.String(&c.o.User, input.Spec{Name: "user",
			Description: "The system user the service runs as (and its group); slipway for serve, slipway-runner for the runner when empty."}),
		input.String(&c.o.Binary, input.Spec{Name: "binary", Default: "/usr/local/bin/slipway",
			Description: "The slipway binary (serve)."}),
		input.String(&c.o.Data, input.Spec{Name: "data", Default: "/var/lib/slipway",
			Description: "slipway serve's data directory; under /var/lib systemd creates it (StateDirectory)."}),
		input.String(&c.o.Listen, input.Spec{Name: "listen", Default: "127.0.0.1:8080",
			Description: "slipway serve's address, host:port (a port above 1023: the unit grants no capabilities)."}),
		input.String(&c.o.Policy, input.Spec{Name: "policy", Default: "/etc/slipway/policy.yaml",
			Description: "slipway serve's trust policy file."}),
		input.String(&c.o.RunnerDir, input.Spec{Name: "runner-dir", Default: "/opt/actions-runner",
			Description: "Where the GitHub Actions runner is unpacked and configured (runner)."}),
		input.String(&c.o.WorkDir, input.Spec{Name: "workdir", Default: "/shared/slipway",
			Description: "The runner's directory on the shared filesystem, where releases are staged and jobs run (runner)."}),
		input.String(&c.o.Path, input.Spec{Name: "path", Default: "/usr/local/bin:/usr/bin:/bin",
			Description: "The runner's PATH: the directories of slipway and the Slurm commands (runner)."}),
	}
}

func (c *runnerSystemdCommand) Outputs() []input.Output { return nil }

func (c *runnerSystemdCommand) Run(_ context.Context, rt *Runtime) error {
	text, err := unitfile.Render(c.unit, c.o)
	if err != nil {
		return exitcode.BadInput(fmt.Errorf("runner systemd: %w", err))
	}
	_, err = io.WriteString(rt.Stdout, text)
	return err
}
