package build

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/execenv"
	"github.com/slipway/actions/internal/exitcode"
)

// stopGrace is how long a cancelled command gets between SIGTERM and
// SIGKILL.
const stopGrace = 10 * time.Second

// commandEnv returns the environment of the build command: the allowed and
// named variables, SOURCE_DATE_EPOCH and TMPDIR.
func (p *plan) commandEnv(tmp string) []string {
	return execenv.Environ(p.Getenv, p.PassEnv, map[string]string{
		"SOURCE_DATE_EPOCH": strconv.FormatInt(p.epoch, 10),
		"TMPDIR":            tmp,
	})
}

// fallbackShells are tried when PATH has no shell (the action image's PATH
// may be unset; its busybox sh is /bin/sh).
var fallbackShells = []string{"/bin/sh"}

// shell returns the program and arguments that run script (execenv.Shell).
func shell(script string, env, fallbacks []string) ([]string, error) {
	argv, err := execenv.Shell(script, env, fallbacks)
	if err != nil {
		return nil, exitcode.BadInputf("%w to run the build command; run the build in a `run:` step before this one and leave \"command\" empty, or run \"slipway build\" on the runner", err)
	}
	return argv, nil
}

// runCommand runs the build command in the workspace and streams its
// output, traced when p.Trace. A non-zero exit is a build failure (exit
// code 1).
func (p *plan) runCommand(ctx context.Context, env []string, out io.Writer, info *artifact.BuildInfo) error {
	argv, err := shell(p.Command, env, fallbackShells)
	if err != nil {
		return err
	}
	if p.Trace {
		return p.runTraced(ctx, argv, env, out, info)
	}
	exit, err := execenv.Run(ctx, execenv.Command{Argv: argv, Dir: p.Workspace, Env: env, Stdout: out, Stderr: out, Grace: stopGrace})
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("the build command was stopped: %w", ctx.Err())
	case err != nil:
		return exitcode.Infraf("the build command: %w", err)
	case !exit.OK():
		return p.failed(exit.Code, exit.Signal, env)
	}
	return nil
}

// failed is the error of a command that exited with code, or was killed by
// signal sig (when not "").
func (p *plan) failed(code int, sig string, env []string) error {
	switch {
	case sig != "":
		return exitcode.Failuref("the build command was killed by signal %s; its output is above", sig)
	case code == 127 && p.InActionImage:
		return exitcode.Failuref("the build command exited with status 127: a program it runs (its output above names it) is not in this container. The build action runs its command in slipway's action image, which has a busybox shell and no compilers or other toolchains: build on the runner instead, with build-mode: runner in the release workflow, or with slipway/actions/actions/setup@v1 and then `slipway build` in a run: step of your job")
	case code == 127:
		return exitcode.Failuref("the build command exited with status 127: a program it runs was not found (its output above names it) on PATH %q; install it or add its directory to PATH, then run again", execenv.Get(env, "PATH"))
	}
	return exitcode.Failuref("the build command exited with status %d; its output is above: fix the build, then run again", code)
}

// newTempDir makes the command's TMPDIR.
func newTempDir() (string, error) {
	dir, err := execenv.TempDir("slipway-build-")
	if err != nil {
		return "", exitcode.Infraf("creating TMPDIR for the build command: %w", err)
	}
	return dir, nil
}
