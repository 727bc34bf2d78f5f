package cli

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
	slurmtest "github.com/slipway/actions/internal/testutil/slurm"
)

// TestDispatchRefusesFailedTests: a release whose verified test result
// FAILED, admitted by a control plane whose policy accepts test results
// without judging them, is refused by slipway dispatch under a policy with
// tests: {required: true}: exit 1, the failed test named, nothing submitted
// to the machine's real Slurm.
func TestDispatchRefusesFailedTests(t *testing.T) {
	t.Parallel()
	c := slurmtest.Require(t)
	kp, pub := policytest.NewKeypair(t)
	sr := serveReleaseEdited(t, "", "upload,read", func(dir, pol string) string {
		policytest.AddAttestation(t, dir, "dist/manifest.json", kp, "dist/tests.test-result.sigstore.json", policy.TestResultV01,
			policytest.TestResult("FAILED", "example.com/app/TestRun"))
		return strings.Replace(pol, "allowedPredicateTypes: [", "allowedPredicateTypes: ["+policy.TestResultV01+", ", 1)
	}, pub)
	writeFile(t, filepath.Join(c.Shared, "release.pub"), string(mustRead(t, filepath.Join(sr.dir, "cosign.pub"))))
	writeFile(t, filepath.Join(c.Shared, "tests.pub"), string(pub))
	pol := filepath.Join(c.Shared, "policy.yaml")
	writeFile(t, pol, "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: release.pub}, {name: tests, path: tests.pub}]\n"+
		"builders: ["+releaseBuilder+"]\nallowedPredicateTypes: [https://cyclonedx.org/bom]\ntests: {required: true}\n")
	work := filepath.Join(c.Shared, "refused")
	env := map[string]string{"SLIPWAY_TOKEN": sr.token}
	for k, v := range sr.env {
		env[k] = v
	}
	code, stdout, stderr := runCLI(t, sr.dir, env, "dispatch", "--server", sr.url, "--release", sr.id, "--policy", pol, "--artifact", "src/a.bin",
		"--partition", c.Partition, "--time-limit", "1", "--mem", "256M", "--cpus-per-task", "1", "--workdir", work, "--command", "true")
	text := stdout + stderr
	if code != 1 || nameValues(stdout)["job-id"] != "" || !strings.Contains(text, "nothing was submitted") ||
		!strings.Contains(text, "FAIL tests") || !strings.Contains(text, "failed: example.com/app/TestRun") {
		t.Fatalf("dispatch of a release whose tests failed: exit %d; want 1, no job, the tests check naming the failed test\n%s", code, text)
	}
	if m, _ := filepath.Glob(filepath.Join(work, ".slipway", "dispatch-*.job")); len(m) != 0 {
		t.Errorf("a job was recorded for a refused release: %v", m)
	}
	out, err := exec.Command("squeue", "--noheader", "--name", "slipway-"+sr.id, "--format", "%i").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("squeue --name slipway-%s: %q %v; want no job", sr.id, out, err)
	}
}
