package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/slipway/actions/internal/action"
	"github.com/slipway/actions/internal/runas"
)

// asWorkspaceOwnerFlag is the hidden flag the action image's entrypoint passes (/slipway --as-workspace-owner):
// a root slipway in a job's container becomes the owner of the workspace before any stage runs (package runas).
const asWorkspaceOwnerFlag = "as-workspace-owner"

// addRunAs registers the flag on root and switches users, when it is set, before the subcommand runs.
func addRunAs(root *cobra.Command, env Env) {
	var on bool
	root.PersistentFlags().BoolVar(&on, asWorkspaceOwnerFlag, false,
		"as root in a GitHub Actions job, run as the owner of GITHUB_WORKSPACE (the action image sets it)")
	_ = root.PersistentFlags().MarkHidden(asWorkspaceOwnerFlag)
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if !on {
			return nil
		}
		res, err := runas.ToWorkspaceOwner(runas.OS(env.Getenv))
		switch {
		case err != nil:
			action.New(action.Config{Getenv: env.Getenv, Stdout: env.Stdout, Stderr: env.Stderr}).Warning(
				fmt.Sprintf("%v; slipway goes on as root, so what it writes in the workspace belongs to root: a non-root runner may fail to remove it later", err))
		case res.Switched:
			fmt.Fprintf(env.Stderr, "slipway: running as %d:%d, the owner of the workspace %s (Docker actions start as root)\n", res.UID, res.GID, res.Workspace)
		}
		return nil
	}
}
