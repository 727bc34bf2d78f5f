package testrun

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"

	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/execenv"
	"github.com/slipway/actions/internal/exitcode"
)

// fallbackShells are tried when PATH has no shell (the action image's
// busybox sh is /bin/sh).
var fallbackShells = []string{"/bin/sh"}

// OutputFile is where the command's standard output is kept when it is the
// result stream (no results globs): "<manifest dir>/<manifest base>.test-output".
func OutputFile(manifest string) string {
	base := strings.TrimSuffix(filepath.Base(manifest), filepath.Ext(manifest))
	return filepath.Join(filepath.Dir(manifest), base+".test-output")
}

// runCommand runs the test command in the workspace with the allowed and
// named variables and a fresh TMPDIR. Without results globs its standard
// output goes to OutputFile as well as to Output; the path of that file is
// returned. A command that ran and failed is a non-OK Exit, not an error.
func (o *Options) runCommand(ctx context.Context) (execenv.Exit, string, error) {
	tmp, err := execenv.TempDir("slipway-test-")
	if err != nil {
		return execenv.Exit{}, "", exitcode.Infraf("creating TMPDIR for the test command: %w", err)
	}
	defer func() {
		if err := execenv.RemoveAll(tmp); err != nil {
			o.Log.Warn("removing the test command's TMPDIR", "dir", tmp, "error", err)
		}
	}()
	env := execenv.Environ(o.Getenv, o.PassEnv, map[string]string{"TMPDIR": tmp})
	argv, err := execenv.Shell(o.Command, env, fallbackShells)
	if err != nil {
		return execenv.Exit{}, "", exitcode.BadInputf("%w to run the test command; run the tests in a `run:` step before this one and give their result files with results, or run \"slipway test\" on the runner", err)
	}
	var out io.Writer = io.Discard
	if o.Output != nil {
		// Standard output and error are copied by two goroutines when they
		// go to different writers: one at a time into Output.
		out = &lockedWriter{w: o.Output}
	}
	end := o.Group("Test command")
	defer end()
	run := func(stdout io.Writer) (exit execenv.Exit, err error) {
		exit, err = execenv.Run(ctx, execenv.Command{Argv: argv, Dir: o.Workspace, Env: env, Stdout: stdout, Stderr: out, Grace: stopGrace})
		switch {
		case err != nil && ctx.Err() != nil:
			return exit, fmt.Errorf("the test command was stopped: %w", context.Cause(ctx))
		case err != nil:
			return exit, exitcode.Infraf("the test command: %w", err)
		}
		return exit, nil
	}
	var exit execenv.Exit
	saved := ""
	if len(o.Results) == 0 {
		saved = OutputFile(o.abs(o.Manifest))
		var runErr error
		err = atomicfile.Write(saved, 0o644, func(w io.Writer) error {
			exit, runErr = run(io.MultiWriter(w, out))
			return runErr
		})
		if err != nil && runErr == nil {
			err = exitcode.WithFile(exitcode.Infraf("saving the test command's output: %w", err), o.rel(saved))
		}
	} else {
		exit, err = run(out)
	}
	if err != nil {
		return exit, "", err
	}
	o.Log.Info("test command ended", "code", exit.Code, "signal", exit.Signal)
	return exit, saved, nil
}

// abs resolves p against the workspace.
func (o *Options) abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(o.Workspace, p)
}

// rel names an absolute path relative to the workspace, slash-separated,
// when it is inside it.
func (o *Options) rel(p string) string {
	if r, err := filepath.Rel(o.Workspace, p); err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return filepath.ToSlash(r)
	}
	return p
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
