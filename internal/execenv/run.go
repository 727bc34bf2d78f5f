package execenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/slipway/actions/internal/interrupt"
)

// ErrNoShell is Shell's error when PATH has no shell.
var ErrNoShell = errors.New("no shell (bash or sh) on PATH")

// Shell returns the program and arguments that run script, like GitHub's
// `run:` steps: bash with -e and pipefail, else POSIX sh with -e, else one
// of fallbacks (absolute paths) with -e.
func Shell(script string, env, fallbacks []string) ([]string, error) {
	if bash, err := LookPath("bash", env); err == nil {
		return []string{bash, "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script}, nil
	}
	for _, sh := range append([]string{"sh"}, fallbacks...) {
		if p, err := LookPath(sh, env); err == nil {
			return []string{p, "-e", "-c", script}, nil
		}
	}
	return nil, fmt.Errorf("%w %q", ErrNoShell, Get(env, "PATH"))
}

// Command is a process to run in an environment made by Environ.
type Command struct {
	Argv []string
	Dir  string
	Env  []string
	// Stdout and Stderr receive the output; nil discards it.
	Stdout, Stderr io.Writer
	// Grace is how long a cancelled command gets between SIGTERM and
	// SIGKILL.
	Grace time.Duration
}

// Exit is how a command that ran ended: its exit code, or the signal that
// killed it.
type Exit struct {
	Code   int
	Signal string // "" when it exited
}

// OK reports whether the command exited with status 0.
func (e Exit) OK() bool { return e.Code == 0 && e.Signal == "" }

// Run runs c in a process group of its own and waits for it. Cancelling
// ctx sends SIGTERM to the group and SIGKILL after c.Grace; a forced exit
// of this process (a second signal) kills the group; whatever the command
// left running is killed once it was cancelled. The error is for a command
// that could not start or was stopped through ctx; a command that ran and
// failed is a non-OK Exit.
func Run(ctx context.Context, c Command) (Exit, error) {
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	cmd.Dir, cmd.Env = c.Dir, c.Env
	cmd.Stdout, cmd.Stderr = c.Stdout, c.Stderr
	ownProcessGroup(cmd)
	cmd.WaitDelay = c.Grace
	err := cmd.Start()
	if err == nil {
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
		return Exit{}, nil
	case ctx.Err() != nil:
		return Exit{}, fmt.Errorf("stopped: %w", ctx.Err())
	case errors.As(err, &exitErr):
		sig, _ := signalOf(exitErr)
		return Exit{Code: exitErr.ExitCode(), Signal: sig}, nil
	}
	return Exit{}, fmt.Errorf("starting %s: %w", c.Argv[0], err)
}

// TempDir makes a fresh directory for a command's TMPDIR.
func TempDir(prefix string) (string, error) {
	return os.MkdirTemp("", prefix)
}

// RemoveAll removes dir even when a command left read-only directories in
// it (as Go's module cache does).
func RemoveAll(dir string) error {
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
