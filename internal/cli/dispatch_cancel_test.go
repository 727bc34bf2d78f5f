package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipway/actions/internal/slurm"
	slurmcli "github.com/slipway/actions/internal/slurm/cli"
)

// TestDispatchCancelled: SIGTERM to a running slipway dispatch (this test
// binary run as slipway, with cmd/slipway's signal handling) while its job
// runs on the real cluster cancels the Slurm job, says so, and exits
// non-zero (143, as for any command stopped by SIGTERM).
func TestDispatchCancelled(t *testing.T) {
	t.Parallel()
	s := newSlurmSite(t)
	work := filepath.Join(s.cluster.Shared, "cancel")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "dispatch", "--manifest", "dist/manifest.json", "--policy", s.policy, "--artifact", "src/a.bin",
		"--partition", s.cluster.Partition, "--time-limit", "2", "--mem", "256M", "--cpus-per-task", "1",
		"--slipway", s.slipway, "--workdir", work, "--backend", "cli", "--tlog=false", "--command", "sleep 60")
	cmd.Dir = s.dir
	cmd.Env = []string{asSlipwayEnv + "=1", "HOME=" + s.dir}
	for k, v := range s.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	b := slurmcli.New(slurmcli.Options{})
	var id uint32
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
		if id != 0 {
			c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			b.Cancel(c, id)
		}
	})

	// The job id is in the workdir's job file once submitted; wait for RUNNING.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	for state := slurm.State(""); state != slurm.Running; {
		select {
		case err := <-done:
			t.Fatalf("dispatch ended before its job ran (%v):\n%s", err, out.String())
		case <-ctx.Done():
			t.Fatalf("job %d not RUNNING in time (last state %q):\n%s", id, state, out.String())
		case <-time.After(200 * time.Millisecond):
		}
		if id == 0 {
			m, _ := filepath.Glob(filepath.Join(work, ".slipway", "dispatch-*.job"))
			if len(m) == 1 {
				if raw, err := os.ReadFile(m[0]); err == nil {
					n, _ := strconv.ParseUint(strings.TrimSpace(string(raw)), 10, 32)
					id = uint32(n)
				}
			}
			continue
		}
		jobs, err := b.Jobs(ctx, []uint32{id})
		if err != nil {
			t.Fatal(err)
		}
		state = jobs[id].State
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("dispatch did not stop within 30 s of SIGTERM:\n%s", out.String())
	}
	text := out.String()
	if code := cmd.ProcessState.ExitCode(); code != 143 {
		t.Errorf("exit status %d after SIGTERM, want 143:\n%s", code, text)
	}
	if want := "cancelled job " + strconv.FormatUint(uint64(id), 10); !strings.Contains(text, want) {
		t.Errorf("the dispatcher does not say %q:\n%s", want, text)
	}
	var state slurm.State
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		jobs, err := b.Jobs(ctx, []uint32{id})
		if err != nil {
			t.Fatal(err)
		}
		if state = jobs[id].State; state == slurm.Cancelled {
			break
		}
	}
	if state != slurm.Cancelled {
		t.Errorf("job %d is %q after the dispatcher's SIGTERM, want CANCELLED:\n%s", id, state, text)
	}
}
