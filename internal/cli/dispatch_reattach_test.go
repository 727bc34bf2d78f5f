package cli

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/slurm"
)

// TestDispatchReattach: slipway dispatch (its own process, the release from
// the control plane, outputs declared) is killed with SIGKILL while its
// job runs: nothing cancels the job. The step run again with the same
// GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT reuses its authorization, finds the
// job by its comment instead of submitting a second (one job with that
// comment in Slurm), follows it to its end, attests and uploads its
// outputs once, and sets the step's outputs of that job.
func TestDispatchReattach(t *testing.T) {
	t.Parallel()
	s := newSlurmSite(t)
	work := filepath.Join(s.cluster.Shared, "reattach")
	stepEnv := func(name string) map[string]string {
		dir := t.TempDir()
		return map[string]string{"SLIPWAY_TOKEN": s.token, "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(dir, name+".out"),
			"GITHUB_STEP_SUMMARY": filepath.Join(dir, name+".summary")}
	}
	args := append(s.fromArgs(work), "--outputs", "out.txt",
		"--command", "/bin/sh -c 'sleep 8; cp a.bin out.txt; echo reattached-job-done'")

	first := stepEnv("first")
	p := startDispatch(t, s, work, first, args...)
	p.waitRunning(t)
	id := p.id
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.wait(t, 10*time.Second, "SIGKILL")
	firstText := p.out.String()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if st := p.state(ctx, t); st != slurm.Running {
		t.Fatalf("job %d is %q after its dispatcher was killed, want it still RUNNING:\n%s", id, st, firstText)
	}
	if b, _ := os.ReadFile(first["GITHUB_OUTPUT"]); len(b) != 0 {
		t.Fatalf("the killed step set outputs:\n%s", b)
	}

	// The same step again: same run, attempt and job.
	second := stepEnv("second")
	re := startDispatch(t, s, work, second, args...)
	re.wait(t, 2*time.Minute, "the re-run's start")
	text := re.out.String()
	if code := re.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("the re-run: exit %d\n%s", code, text)
	}
	jobID := strconv.FormatUint(uint64(id), 10)
	summary, _ := os.ReadFile(second["GITHUB_STEP_SUMMARY"])
	if !strings.Contains(text, "reattached=true") || !strings.Contains(string(summary), "found again by its idempotency key") ||
		!strings.Contains(text, "reattached-job-done") {
		t.Errorf("the re-run did not say it found job %s again, or did not stream it to its end:\n%s\n%s", jobID, text, summary)
	}
	if jobs := jobsWithComment(t, jobComment(t, jobID)); len(jobs) != 1 || jobs[0] != jobID {
		t.Errorf("jobs with the first job's comment: %q, want only job %s", jobs, jobID)
	}
	authorization := regexp.MustCompile(`authorization[=" ]+(a-[0-9a-f]{16})`)
	if a, b := authorization.FindStringSubmatch(firstText), authorization.FindStringSubmatch(text); a == nil || b == nil || a[1] != b[1] {
		t.Errorf("authorizations: killed run %q, re-run %q; want the first one reused\n%s\n%s", a, b, firstText, text)
	}

	outs, err := os.ReadFile(second["GITHUB_OUTPUT"])
	if err != nil {
		t.Fatal(err)
	}
	got := parseOutputs(t, string(outs))
	manifest := filepath.Join(work, ".slipway", "job-"+jobID+".outputs.json")
	provenance := filepath.Join(work, ".slipway", "job-"+jobID+".provenance.intoto.sigstore.json")
	for k, want := range map[string]string{"job-id": jobID, "state": "COMPLETED", "exit-code": "0", "outputs-manifest": manifest, "output-provenance": provenance} {
		if got[k] != want {
			t.Errorf("step output %s = %q, want %q\n%s", k, got[k], want, outs)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(work, ".slipway", "job-*.outputs.json")); len(m) != 1 {
		t.Errorf("outputs manifests in the workdir: %q, want the one of job %s", m, jobID)
	}
	if m, _ := filepath.Glob(filepath.Join(work, ".slipway", "job-*.provenance.intoto.sigstore.json")); len(m) != 1 {
		t.Errorf("output provenance bundles in the workdir: %q, want one", m)
	}
	if m, _ := filepath.Glob(filepath.Join(work, ".slipway", "r-*.receipt")); len(m) != 1 {
		t.Errorf("receipts of uploaded outputs: %q, want one (the outputs uploaded once)", m)
	}
	rel, _ := filepath.Rel(work, manifest)
	staged := filepath.Join(".slipway", "release-"+s.id, "manifest.json")
	if code, vout, verr := runCLI(t, work, nil, "verify", "--manifest", rel, "--policy", s.verifyPolicy, "--release-manifest", staged); code != 0 {
		t.Errorf("verify of the re-attached job's outputs back to the release: exit %d\n%s\n%s", code, vout, verr)
	}
}
