package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// TestPipelineTestStage: with a test command the pipeline runs slipway
// test right after the build. Without a signing key that is found before
// anything is built; a failing suite stops the pipeline before anything
// is signed; with test-allow-failure the failed result is attested and
// recorded, and the verify stage under a policy with tests: {required:
// true} refuses the release, naming the failed test.
func TestPipelineTestStage(t *testing.T) {
	t.Parallel()
	key := sigstoretest.NewCosignKey(t, "pw")
	env := map[string]string{"PATH": os.Getenv("PATH"), "COSIGN_PASSWORD": "pw"}
	const failing = "printf 'TAP version 13\\n1..2\\nok 1 - parses\\nnot ok 2 - runs\\n'"
	build := []string{"pipeline", "--command", "mkdir -p dist && echo app > dist/app", "--artifacts", "dist/app", "--tlog=false"}

	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, dir, env, append(build, "--test-command", failing)...)
	if code != 2 || !strings.Contains(stdout+stderr, "slipway test: no signing key") {
		t.Errorf("a test command without a key: exit %d, want 2 naming slipway test's missing key\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "dist", "app")); err == nil {
		t.Error("the build ran although the test stage's inputs were bad")
	}

	dir = t.TempDir()
	code, stdout, stderr = runCLI(t, dir, env, append(build, "--key", key.PrivatePath, "--test-command", failing)...)
	if code != 1 || !strings.Contains(stdout+stderr, "1 test(s) failed") {
		t.Errorf("a failing suite: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "dist", "app.sigstore.json")); err == nil {
		t.Error("the pipeline signed after the tests failed")
	}

	dir = t.TempDir()
	writeFile(t, filepath.Join(dir, "cosign.pub"), string(key.PublicPEM))
	writeFile(t, filepath.Join(dir, "policy.yaml"), "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: cosign.pub}]\n"+
		"allowedPredicateTypes: [https://cyclonedx.org/bom]\ntests: {required: true}\n")
	code, stdout, stderr = runCLI(t, dir, env, append(build, "--key", key.PrivatePath, "--test-command", failing, "--test-allow-failure",
		"--builder-id", releaseBuilder, "--policy", "policy.yaml")...)
	if code != 1 || !strings.Contains(stdout, "FAIL tests") || !strings.Contains(stdout, "the tests FAILED (1 passed, 0 warned, 1 failed; failed: ") ||
		!strings.Contains(stdout, "runs") {
		t.Fatalf("allow-failure under a policy requiring tests: exit %d; want 1, the tests check failed naming the failed test\n%s%s", code, stdout, stderr)
	}
	m, err := artifact.ReadManifest(filepath.Join(dir, "dist", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range m.ByRole(artifact.RoleAttestation) {
		found = found || strings.HasSuffix(r.Path, ".test-result.sigstore.json")
	}
	if !found {
		t.Errorf("the manifest records no test-result attestation: %+v", m.Records)
	}
}
