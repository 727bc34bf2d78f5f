package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/slipway/actions/internal/doctor"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/input"
)

// runnerCommands is "slipway runner": what the admin of an HPC headnode runs to set up and check the dispatcher
// (docs/hpc.md). Command-line commands, not actions.
func runnerCommands(env Env) *cobra.Command {
	rc := &cobra.Command{
		Use:   "runner",
		Short: "Check and set up an HPC headnode that dispatches releases to Slurm (docs/hpc.md)",
		Args:  cobra.NoArgs,
	}
	for _, c := range []Command{&runnerDoctorCommand{}, &runnerSystemdCommand{}} {
		rc.AddCommand(cobraCommand(env, c))
	}
	return rc
}

// runnerDoctorCommand is "slipway runner doctor".
type runnerDoctorCommand struct {
	o          doctor.Options
	jobTimeout time.Duration
}

func (c *runnerDoctorCommand) commandLineOnly() {}
func (c *runnerDoctorCommand) Name() string     { return "doctor" }
func (c *runnerDoctorCommand) Short() string {
	return "Check this headnode: Slurm's commands and version, munge, slurmctld, the partition, slurmrestd and its JWT auth, the control plane and its log key, the trust policy, the shared working directory (from a compute node too) and free space; one problem: …; fix: … line per thing wrong, exit 1 if any."
}

// Long is the rest of --help.
func (c *runnerDoctorCommand) Long() string {
	return `Each check that passes prints an ok: line; each thing wrong prints one line
"problem: WHAT; fix: WHAT TO DO" on stdout, and the exit status is 1. With
--workdir a tiny job (one CPU, 16 MiB, one minute, named slipway-doctor) runs
in that directory on a compute node to show it is the same directory there; it
is cancelled after --job-timeout. The Slurm commands, munge and slurmctld are
always checked; slurmrestd with --backend rest or --rest-url, the control
plane with --server, the policy with --policy.`
}

func (c *runnerDoctorCommand) Inputs() []input.Input {
	return []input.Input{
		input.String(&c.o.Server, input.Spec{Name: "server", Env: "SLIPWAY_SERVER",
			Description: "The control plane's base URL: checks GET /readyz and the log key GET /api/v1/log/key."}),
		input.String(&c.o.Policy, input.Spec{Name: "policy", Env: "SLIPWAY_POLICY",
			Description: "The trust policy file the dispatcher verifies with: it must parse (and name the control plane's log key)."}),
		input.String(&c.o.WorkDir, input.Spec{Name: "workdir", Env: "SLIPWAY_WORKDIR",
			Description: "The shared working directory jobs run in: it must exist, be writable and be the same directory on a compute node."}),
		input.String(&c.o.Partition, input.Spec{Name: "partition", Env: "SLIPWAY_PARTITION",
			Description: "The partition jobs go to; the cluster's default partition when empty."}),
		input.String(&c.o.Backend, input.Spec{Name: "backend", Env: "SLIPWAY_SLURM_BACKEND", Default: "cli",
			Description: "How the dispatcher reaches Slurm: cli (sbatch, squeue, scancel) or rest (slurmrestd, checked too)."}),
		input.String(&c.o.RESTURL, input.Spec{Name: "rest-url", Env: "SLURM_REST_URL",
			Description: "slurmrestd's URL (http://HOST:6820); checked when given."}),
		input.String(&c.o.RESTUser, input.Spec{Name: "rest-user", Env: "SLURM_REST_USER",
			Description: "The user slurmrestd acts for (X-SLURM-USER-NAME); the current user when empty."}),
		input.String(&c.o.JWT, input.Spec{Name: "jwt", Env: "SLURM_JWT", Secret: true,
			Description: "A token for slurmrestd; one from scontrol token when unset."}),
		input.Duration(&c.jobTimeout, input.Spec{Name: "job-timeout", Default: "60s",
			Description: "How long the working directory's test job may take, from submission to its end."}),
	}
}

func (c *runnerDoctorCommand) Outputs() []input.Output { return nil }

func (c *runnerDoctorCommand) Run(ctx context.Context, rt *Runtime) error {
	o := c.o
	o.JobTimeout = c.jobTimeout
	o.HTTP = rt.HTTP
	if o.WorkDir != "" {
		o.WorkDir = rt.path(o.WorkDir)
	}
	if o.Policy != "" {
		o.Policy = rt.path(o.Policy)
	}
	r, err := doctor.Run(ctx, o)
	if err != nil {
		return exitcode.BadInput(fmt.Errorf("runner doctor: %w", err))
	}
	for _, line := range r.OK {
		fmt.Fprintln(rt.Stdout, "ok: "+line)
	}
	for _, p := range r.Problems {
		fmt.Fprintln(rt.Stdout, p.String())
	}
	if !r.Healthy() {
		return exitcode.Failuref("runner doctor found %d problem(s) on this headnode; fix them as each problem: line says, then run slipway runner doctor again", len(r.Problems))
	}
	return nil
}
