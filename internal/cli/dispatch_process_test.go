package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/slurm"
	slurmcli "github.com/slipway/actions/internal/slurm/cli"
)

// dispatchProcess is slipway dispatch running as its own process (this
// test binary run as slipway, with cmd/slipway's signal handling), for the
// tests that signal or kill it while its job runs on the real cluster.
type dispatchProcess struct {
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan error
	// id is the job's id once the dispatcher wrote its job file.
	id   uint32
	work string
	b    slurm.Backend
}

// startDispatch starts slipway dispatch with args (and s's environment
// plus env) in s.dir; the process is killed and its job cancelled at the
// end of the test if they are still there.
func startDispatch(t *testing.T, s *slurmSite, work string, env map[string]string, args ...string) *dispatchProcess {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &dispatchProcess{cmd: exec.Command(self, append([]string{"dispatch"}, args...)...), done: make(chan error, 1), work: work,
		b: slurmcli.New(slurmcli.Options{})}
	p.cmd.Dir = s.dir
	p.cmd.Env = []string{asSlipwayEnv + "=1", "HOME=" + s.dir}
	for _, m := range []map[string]string{s.env, env} {
		for k, v := range m {
			p.cmd.Env = append(p.cmd.Env, k+"="+v)
		}
	}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.done
		}
		if p.id != 0 {
			c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			p.b.Cancel(c, p.id)
		}
	})
	return p
}

// waitRunning waits until the dispatcher's job (named by its job file in
// the workdir) is RUNNING.
func (p *dispatchProcess) waitRunning(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for state := slurm.State(""); state != slurm.Running; {
		select {
		case err := <-p.done:
			t.Fatalf("dispatch ended before its job ran (%v):\n%s", err, p.out.String())
		case <-ctx.Done():
			t.Fatalf("job %d not RUNNING in time (last state %q):\n%s", p.id, state, p.out.String())
		case <-time.After(200 * time.Millisecond):
		}
		if p.id == 0 {
			m, _ := filepath.Glob(filepath.Join(p.work, ".slipway", "dispatch-*.job"))
			if len(m) == 1 {
				if raw, err := os.ReadFile(m[0]); err == nil {
					n, _ := strconv.ParseUint(strings.TrimSpace(string(raw)), 10, 32)
					p.id = uint32(n)
				}
			}
			continue
		}
		state = p.state(ctx, t)
	}
}

// state is what Slurm says of the job now.
func (p *dispatchProcess) state(ctx context.Context, t *testing.T) slurm.State {
	t.Helper()
	jobs, err := p.b.Jobs(ctx, []uint32{p.id})
	if err != nil {
		t.Fatal(err)
	}
	return jobs[p.id].State
}

// wait waits up to limit for the process to end.
func (p *dispatchProcess) wait(t *testing.T, limit time.Duration, after string) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("dispatch did not stop within %s of %s:\n%s", limit, after, p.out.String())
	}
}
