package cli

import (
	"crypto/sha256"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/jobscript"
	slurmtest "github.com/slipway/actions/internal/testutil/slurm"
)

// sbatch submits a rendered job script held (--hold) and returns its id;
// the job is cancelled when the test ends.
func sbatch(t *testing.T, c *slurmtest.Cluster, name string, script []byte) string {
	t.Helper()
	path := filepath.Join(c.Shared, name+".sh")
	if err := os.WriteFile(path, script, 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sbatch", "--parsable", "--hold", "--job-name=node-"+name, "--partition="+c.Partition,
		"--chdir="+c.Shared, "--output="+filepath.Join(c.Shared, name+"-%j.out"), "--time=1", "--mem=256M",
		"--cpus-per-task=1", "--ntasks=1", "--export=ALL,"+asSlipwayEnv+"=1", path).CombinedOutput()
	if err != nil {
		t.Fatalf("sbatch: %v: %s", err, out)
	}
	id := strings.TrimSpace(strings.Split(string(out), ";")[0])
	t.Cleanup(func() { _ = exec.Command("scancel", id).Run() })
	return id
}

// waitStatus waits for the job's status file (the job script writes it at
// its end) and returns it.
func waitStatus(t *testing.T, path string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(180 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil {
			var st map[string]any
			if err := json.Unmarshal(b, &st); err != nil {
				t.Fatalf("status file %s: %v: %q", path, err, b)
			}
			return st
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no status file %s after 180 s (is the cluster busy? squeue)", path)
	return nil
}

// waitFinal waits until Slurm has the job in a final state and returns what
// scontrol show job says of it.
func waitFinal(t *testing.T, id string) string {
	t.Helper()
	var out []byte
	for deadline := time.Now().Add(180 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		out, _ = exec.Command("scontrol", "show", "job", id).CombinedOutput()
		for _, st := range []string{"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL"} {
			if strings.Contains(string(out), "JobState="+st+" ") {
				return string(out)
			}
		}
	}
	t.Fatalf("job %s did not end within 180 s (is the cluster busy? squeue):\n%s", id, out)
	return ""
}

// TestExecVerifiedSlurm runs two real Slurm jobs whose first command is
// exec-verified in the mode slipway dispatch uses for a file (scripts from
// internal/jobscript: --in-place, the staging root the shared directory):
// one whose artifact is replaced on the shared filesystem after submit and
// before start (the job is held until the swap is done), which fails with
// the digest reason in its status file; and one left alone, which runs the
// checked file through the descriptor it was hashed from (/dev/fd/N).
func TestExecVerifiedSlurm(t *testing.T) {
	t.Parallel()
	c := slurmtest.Require(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(c.Shared, ".slipway"), 0o755); err != nil {
		t.Fatal(err)
	}
	admitted := []byte("#!/bin/sh\necho \"ran the checked file: $0 $1\"\n")
	want := digest.SHA256(sha256.Sum256(admitted)).String()
	jobs := map[string]string{}
	for _, name := range []string{"tampered", "intact"} {
		art := filepath.Join(c.Shared, name+".sh.artifact")
		if err := os.WriteFile(art, admitted, 0o755); err != nil {
			t.Fatal(err)
		}
		script, err := jobscript.Render(jobscript.Spec{
			Slipway: self, Artifact: art, Digest: want, Argv: []string{art, "it's $HOME"},
			StatusFile: filepath.Join(c.Shared, ".slipway", "job-%j.status"),
			JobDir:     filepath.Join(c.Shared, name+"-job-%j"), StagingRoot: c.Shared,
		})
		if err != nil {
			t.Fatal(err)
		}
		jobs[name] = sbatch(t, c, name, script)
	}
	// The swap: another file renamed over the staged one while the job is held.
	swapped := []byte("#!/bin/sh\necho swapped\n")
	tmp := filepath.Join(c.Shared, "swap.tmp")
	if err := os.WriteFile(tmp, swapped, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(c.Shared, "tampered.sh.artifact")); err != nil {
		t.Fatal(err)
	}
	for _, id := range jobs {
		if out, err := exec.Command("scontrol", "release", id).CombinedOutput(); err != nil {
			t.Fatalf("scontrol release %s: %v: %s", id, err, out)
		}
	}

	st := waitStatus(t, filepath.Join(c.Shared, ".slipway", "job-"+jobs["tampered"]+".status"))
	if st["verified"] != false || st["check"] != "digest" || st["exitCode"] != float64(65) || st["jobId"] != jobs["tampered"] {
		t.Errorf("tampered job's status %v, want verified false, check digest, exit code 65", st)
	}
	got := digest.SHA256(sha256.Sum256(swapped)).String()
	// exec-verified writes the status file before its message: read the
	// output once the job has ended.
	ctl := waitFinal(t, jobs["tampered"])
	out, _ := os.ReadFile(filepath.Join(c.Shared, "tampered-"+jobs["tampered"]+".out"))
	if !strings.Contains(string(out), want) || !strings.Contains(string(out), got) || strings.Contains(string(out), "swapped") {
		t.Errorf("the tampered job's output does not name both digests, or the swapped file ran:\n%s", out)
	}

	st = waitStatus(t, filepath.Join(c.Shared, ".slipway", "job-"+jobs["intact"]+".status"))
	waitFinal(t, jobs["intact"])
	if st["verified"] != true || st["exitCode"] != float64(0) {
		t.Errorf("intact job's status %v, want verified true, exit code 0", st)
	}
	out, _ = os.ReadFile(filepath.Join(c.Shared, "intact-"+jobs["intact"]+".out"))
	// The checked file, exec'd through the descriptor it was hashed from, is what ran: the script's $0 is /dev/fd/N.
	if !strings.Contains(string(out), "ran the checked file: /dev/fd/") || !strings.Contains(string(out), " it's $HOME") {
		t.Errorf("the intact job did not run the checked file with its argument:\n%s", out)
	}
	if !strings.Contains(ctl, "JobState=FAILED") || !strings.Contains(ctl, "ExitCode=65:0") {
		t.Errorf("Slurm's view of the tampered job: want JobState=FAILED ExitCode=65:0:\n%s", ctl)
	}
}
