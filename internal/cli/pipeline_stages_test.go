package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/scan/scantest"
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
	checkRecorded(t, dir, "dist/manifest.test-result.sigstore.json")
}

// lockfileBuild is a pipeline whose one artifact is an npm lock file: its
// SBOM lists left-pad 1.1.0, which the scan stage's tests declare
// vulnerable.
var lockfileBuild = []string{"pipeline", "--command", `mkdir -p dist && printf '%s' '{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,` +
	`"packages":{"":{"name":"app","version":"1.0.0","dependencies":{"left-pad":"1.1.0"}},"node_modules/left-pad":{"version":"1.1.0"}}}' > dist/package-lock.json`,
	"--artifacts", "dist/package-lock.json", "--tlog=false"}

// TestPipelineScanStage: with scan-db the pipeline scans the SBOMs right
// after the sbom stage. A missing key or a stale database is found before
// anything is built; with both, the findings are attested and recorded,
// the SARIF written, the outputs set under scan-, and the verify stage
// under a policy with vulnerabilities: {maxSeverity: medium} refuses the
// release, naming the finding.
func TestPipelineScanStage(t *testing.T) {
	t.Parallel()
	key := sigstoretest.NewCosignKey(t, "pw")
	env := map[string]string{"PATH": os.Getenv("PATH"), "COSIGN_PASSWORD": "pw"}
	leftPad := scantest.Vuln{ID: "GHSA-2099-left-pad", Severity: "high", Provider: "github", Ecosystem: "npm", Package: "left-pad",
		VersionType: "semver", Constraint: "< 1.3.0", FixedIn: "1.3.0", Description: "left-pad: a test advisory"}
	fresh := filepath.Join(t.TempDir(), "fresh")
	scantest.WriteDB(t, fresh, scantest.Options{Built: time.Now().Add(-time.Hour)}, leftPad)
	stale := filepath.Join(t.TempDir(), "stale")
	scantest.WriteDB(t, stale, scantest.Options{Built: time.Now().Add(-10 * 24 * time.Hour)}, leftPad)

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no key", []string{"--scan-db", fresh}, "slipway scan: no signing key"},
		{"stale database", []string{"--scan-db", stale, "--key", key.PrivatePath}, "older than the 120h0m0s allowed"},
		{"bad db-max-age", []string{"--scan-db", fresh, "--key", key.PrivatePath, "--scan-db-max-age", "soon"}, `input "db-max-age"`},
	} {
		dir := t.TempDir()
		code, stdout, stderr := runCLI(t, dir, env, append(slices.Clone(lockfileBuild), tc.args...)...)
		if code != 2 || !strings.Contains(stdout+stderr, tc.want) {
			t.Errorf("%s: exit %d, want 2 naming %q\n%s%s", tc.name, code, tc.want, stdout, stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "dist")); err == nil {
			t.Errorf("%s: the build ran although the scan stage's inputs were bad", tc.name)
		}
	}

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "cosign.pub"), string(key.PublicPEM))
	const strict = "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: cosign.pub}]\nbuilders: [" + releaseBuilder + "]\n" +
		"allowedPredicateTypes: [https://cyclonedx.org/bom]\nvulnerabilities: {required: true, maxSeverity: medium}\n"
	writeFile(t, filepath.Join(dir, "strict.yaml"), strict)
	writeFile(t, filepath.Join(dir, "policy.yaml"), strings.TrimSuffix(strict, "}\n")+
		", ignore: [{id: GHSA-2099-left-pad, reason: never called, expires: 2099-01-01}]}\n")
	code, stdout, stderr := runCLI(t, dir, env, append(slices.Clone(lockfileBuild), "--key", key.PrivatePath, "--scan-db", fresh,
		"--builder-id", releaseBuilder, "--policy", "policy.yaml")...)
	if code != 0 || !strings.Contains(stdout, "PASS vulnerabilities manifest.vulns.sigstore.json:") || !strings.Contains(stdout, "the 1 the policy ignores: GHSA-2099-left-pad") {
		t.Fatalf("a high finding the policy ignores: exit %d; want 0, the vulnerabilities check passed naming the ignore\n%s%s", code, stdout, stderr)
	}
	outs := parseOutputs(t, stdout)
	if outs["scan-findings"] != "1" || outs["scan-max-severity"] != "high" || outs["scan-attestation"] != "dist/manifest.vulns.sigstore.json" ||
		outs["scan-sarif"] != "dist/manifest.vulns.sarif" {
		t.Errorf("outputs %v; want scan-findings 1, scan-max-severity high, the bundle and SARIF paths", outs)
	}
	if _, err := os.Stat(filepath.Join(dir, "dist", "manifest.vulns.sarif")); err != nil {
		t.Error(err)
	}
	checkRecorded(t, dir, "dist/manifest.vulns.sigstore.json")
	code, stdout, stderr = runCLI(t, dir, env, "verify", "--manifest", "dist/manifest.json", "--policy", "strict.yaml")
	if code != 1 || !strings.Contains(stdout, "FAIL vulnerabilities manifest.vulns.sigstore.json: GHSA-2099-left-pad in pkg:npm/left-pad@1.1.0") {
		t.Errorf("the same release under maxSeverity medium without the ignore: exit %d; want 1, the finding named\n%s%s", code, stdout, stderr)
	}
}

// checkRecorded checks that dir's dist/manifest.json records the bundle as
// an attestation.
func checkRecorded(t *testing.T, dir, bundle string) {
	t.Helper()
	m, err := artifact.ReadManifest(filepath.Join(dir, "dist", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range m.ByRole(artifact.RoleAttestation) {
		if r.Path == bundle {
			return
		}
	}
	t.Errorf("the manifest records no attestation %s: %+v", bundle, m.Records)
}
