package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/slurm"
)

// Options configure the backend.
type Options struct {
	// Bin is the directory of sbatch, squeue and scancel; "" looks them up in PATH.
	Bin string
	// Cluster is passed as --clusters to every command when set (a spec's own
	// Cluster wins for its submission).
	Cluster string
	// Getenv reads the caller's environment (SLURM_CONF only); nil is os.Getenv.
	Getenv func(string) string
	// UID is the user whose jobs FindByComment returns; nil is os.Getuid().
	UID *int64
}

// Backend runs Slurm's commands. It is safe for concurrent use.
type Backend struct {
	o   Options
	uid int64
}

var _ slurm.Backend = (*Backend)(nil)

// New returns the backend.
func New(o Options) *Backend {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	uid := int64(os.Getuid())
	if o.UID != nil {
		uid = *o.UID
	}
	return &Backend{o: o, uid: uid}
}

// Limits on what the commands may write.
const (
	maxStdout = 256 << 20 // squeue --json of a very busy cluster
	maxStderr = 64 << 10
	waitDelay = 5 * time.Second
)

// baseEnv is the process environment of every command: SLURM_CONF when the
// caller has it, nothing else.
func (b *Backend) baseEnv() []string {
	if c := b.o.Getenv("SLURM_CONF"); c != "" {
		return []string{"SLURM_CONF=" + c}
	}
	return []string{}
}

func (b *Backend) path(name string) (string, error) {
	if b.o.Bin != "" {
		return filepath.Join(b.o.Bin, name), nil
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", exitcode.Infraf("slurm: %s is not on PATH: install Slurm's client commands (Debian: slurm-client) or set the directory of the Slurm commands", name)
	}
	return p, nil
}

// run runs one Slurm command and returns its standard output.
func (b *Backend) run(ctx context.Context, name string, args, env []string, stdin []byte) ([]byte, error) {
	p, err := b.path(name)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, p, args...)
	cmd.Env = env
	cmd.WaitDelay = waitDelay
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr limited
	stdout.max, stderr.max = maxStdout, maxStderr
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("slurm: %s: %w", name, context.Cause(ctx))
	}
	if stdout.over {
		return nil, exitcode.Infraf("slurm: %s wrote more than %d bytes: ask a Slurm administrator why", name, maxStdout)
	}
	if err != nil {
		return nil, commandError(name, err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// commandError says what failed and what to do, from what the command wrote.
func commandError(name string, err error, stderr string) error {
	msg := strings.TrimSpace(stderr)
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 && strings.Count(msg, "\n") > 4 {
		msg = "…" + msg[i+1:]
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return exitcode.Infraf("slurm: running %s: %v: check that the Slurm client commands are installed and executable", name, err)
	}
	detail := fmt.Sprintf("slurm: %s failed (%v)", name, err)
	if msg != "" {
		detail += ": " + msg
	}
	switch {
	case strings.Contains(msg, "Unable to contact slurm controller"), strings.Contains(msg, "Socket timed out"),
		strings.Contains(msg, "Connection refused"), strings.Contains(msg, "Zero Bytes were transmitted"):
		return exitcode.Infraf("%s: is slurmctld up and reachable from here? check with `scontrol ping`", detail)
	case strings.Contains(msg, "Munge"), strings.Contains(msg, "munge"), strings.Contains(msg, "Authentication"):
		return exitcode.Infraf("%s: check munged on this host and that its key matches the cluster's", detail)
	case strings.Contains(msg, "unrecognized option '--json'"):
		return exitcode.Infraf("%s: this Slurm has no JSON output; Slipway needs Slurm 21.08 or later (22.05+ tested)", detail)
	case strings.Contains(msg, "Batch job submission failed"):
		return exitcode.Failuref("%s: Slurm refused the job; check the partition, account, QOS and limits it asks for (sinfo, scontrol show partition)", detail)
	}
	return exitcode.Infraf("%s: run the command by hand to see more", detail)
}

// limited is a bytes.Buffer that keeps at most max bytes and notes the excess.
type limited struct {
	bytes.Buffer
	max  int
	over bool
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.max - l.Len(); len(p) > room {
		l.over = true
		if room > 0 {
			l.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return l.Buffer.Write(p)
}

var _ io.Writer = (*limited)(nil)
