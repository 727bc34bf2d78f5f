package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/execenv"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/interrupt"
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

// shell returns the program and arguments that run script, like GitHub's
// `run:` steps: bash with -e and pipefail, else POSIX sh with -e, else one
// of fallbacks with -e.
func shell(script string, env, fallbacks []string) ([]string, error) {
	if bash, err := execenv.LookPath("bash", env); err == nil {
		return []string{bash, "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script}, nil
	}
	for _, sh := range append([]string{"sh"}, fallbacks...) {
		if p, err := execenv.LookPath(sh, env); err == nil {
			return []string{p, "-e", "-c", script}, nil
		}
	}
	return nil, exitcode.BadInputf("no shell (bash or sh) on PATH %q to run the build command; run the build in a `run:` step before this one and leave \"command\" empty, or run \"slipway build\" on the runner", execenv.Get(env, "PATH"))
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
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = p.Workspace
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	ownProcessGroup(cmd)
	cmd.WaitDelay = stopGrace
	if err = cmd.Start(); err == nil {
		// A process that must exit at once (a second signal) takes the
		// command's group with it; a cancelled command's group is killed
		// once its shell has gone, so that nothing it started lingers.
		remove := interrupt.OnForcedExit(func() { killGroup(cmd) })
		err = cmd.Wait()
		remove()
		if ctx.Err() != nil {
			killGroup(cmd)
		}
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("the build command was stopped: %w", ctx.Err())
	case errors.As(err, &exitErr):
		sig, _ := signalOf(exitErr)
		return p.failed(exitErr.ExitCode(), sig, env)
	}
	return exitcode.Infraf("starting the build command with %s: %w", argv[0], err)
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
	dir, err := os.MkdirTemp("", "slipway-build-")
	if err != nil {
		return "", exitcode.Infraf("creating TMPDIR for the build command: %w", err)
	}
	return dir, nil
}

// removeAll removes dir even when the command left read-only directories
// in it (as Go's module cache does).
func removeAll(dir string) error {
	if err := os.RemoveAll(dir); err == nil {
		return nil
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
