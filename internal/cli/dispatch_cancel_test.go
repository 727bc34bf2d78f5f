package cli

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipway/actions/internal/slurm"
)

// TestDispatchCancelled: SIGTERM to a running slipway dispatch (this test
// binary run as slipway, with cmd/slipway's signal handling) while its job
// runs on the real cluster cancels the Slurm job, says so, and exits
// non-zero (143, as for any command stopped by SIGTERM).
func TestDispatchCancelled(t *testing.T) {
	t.Parallel()
	s := newSlurmSite(t)
	work := filepath.Join(s.cluster.Shared, "cancel")
	p := startDispatch(t, s, work, nil, "--manifest", "dist/manifest.json", "--policy", s.policy, "--artifact", "src/a.bin",
		"--partition", s.cluster.Partition, "--time-limit", "2", "--mem", "256M", "--cpus-per-task", "1",
		"--slipway", s.slipway, "--workdir", work, "--backend", "cli", "--tlog=false", "--command", "sleep 60")
	p.waitRunning(t)
	id := p.id

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.wait(t, 30*time.Second, "SIGTERM")
	text := p.out.String()
	if code := p.cmd.ProcessState.ExitCode(); code != 143 {
		t.Errorf("exit status %d after SIGTERM, want 143:\n%s", code, text)
	}
	if want := "cancelled job " + strconv.FormatUint(uint64(id), 10); !strings.Contains(text, want) {
		t.Errorf("the dispatcher does not say %q:\n%s", want, text)
	}
	var state slurm.State
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if state = p.state(ctx, t); state == slurm.Cancelled {
			break
		}
	}
	if state != slurm.Cancelled {
		t.Errorf("job %d is %q after the dispatcher's SIGTERM, want CANCELLED:\n%s", id, state, text)
	}
}
