package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/testrun"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/testutil/tools"
)

var runTest = stageRunner("test")

var testOutputLine = regexp.MustCompile(`(?m)^(result|passed|failed|skipped|attestation)=(.*)$`)

// failingTAP is a test command whose output is TAP with one failure that
// its YAML block locates.
const failingTAP = `printf 'TAP version 13\n1..3\nok 1 - parses\nnot ok 2 - adds # a failure\n  ---\n  message: expected 3, got 4\n  at:\n    file: src/add.js\n    line: 12\n  ...\nok 3 - writes # SKIP read-only\n'`

// TestTestCommand runs slipway test through the CLI: a failing suite fails
// the step (exit 1) after the attestation is written and recorded, the
// contract's keys are printed, and the real cosign CLI verifies the bundle
// against the artifact; --allow-failure records the same result and exits 0.
func TestTestCommand(t *testing.T) {
	t.Parallel()
	dir, app := attestWorkspace(t)
	key := sigstoretest.NewCosignKey(t, "correct horse battery 9")
	env := map[string]string{"COSIGN_PASSWORD": key.Password, "PATH": "/usr/bin:/bin"}
	args := []string{"--manifest", "dist/manifest.json", "--command", failingTAP, "--key", key.PrivatePath, "--tlog=false"}
	code, stdout, stderr := runTest(t, dir, env, args...)
	if code != 1 || !strings.Contains(stderr, "1 test(s) failed (dist/manifest.test-output/adds)") || !strings.Contains(stderr, "set allow-failure") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	out := map[string]string{}
	for _, m := range testOutputLine.FindAllStringSubmatch(stdout, -1) {
		out[m[1]] = m[2]
	}
	want := map[string]string{"result": "FAILED", "passed": "1", "failed": "1", "skipped": "1", "attestation": "dist/manifest.test-result.sigstore.json"}
	for k, v := range want {
		if out[k] != v {
			t.Errorf("output %s = %q, want %q (stdout %s)", k, out[k], v, stdout)
		}
	}
	if !strings.Contains(stderr, "src/add.js:12") || !strings.Contains(stderr, "FAILED") || strings.Contains(stdout+stderr, key.Password) {
		t.Errorf("stderr does not locate the failure, or shows the password:\n%s", stderr)
	}
	m, err := artifact.ReadManifest(filepath.Join(dir, "dist", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if recs := m.ByRole(artifact.RoleAttestation); len(recs) != 1 || recs[0].Describes != app.Digest || recs[0].Path != want["attestation"] {
		t.Errorf("attestation records = %+v", recs)
	}
	cosign := tools.Require(t, "cosign")
	cmd := exec.Command(cosign, "verify-blob-attestation", "--key", key.PublicPath, "--new-bundle-format", "--bundle", filepath.Join(dir, want["attestation"]),
		"--trusted-root", sigstoretest.WriteKeyOnlyTrustedRoot(t), "--insecure-ignore-tlog", "--type", testrun.PredicateType, filepath.Join(dir, "dist", "app"))
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("cosign verify-blob-attestation: %v\n%s", err, b)
	}

	code, stdout, stderr = runTest(t, dir, env, append(args, "--allow-failure")...)
	if code != 0 || !strings.Contains(stdout, "result=FAILED") {
		t.Errorf("with allow-failure: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}

// TestTestCommandInActions: in GitHub Actions the outputs go to
// GITHUB_OUTPUT, each located failure becomes an ::error file=,line=::
// annotation, and the step summary has a table of the failures; the key's
// password is masked and never printed.
func TestTestCommandInActions(t *testing.T) {
	t.Parallel()
	dir, _ := attestWorkspace(t)
	key := sigstoretest.NewCosignKey(t, "correct horse battery 9")
	tmp := t.TempDir()
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(tmp, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(tmp, "summary"),
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "7", "PATH": "/usr/bin:/bin",
		"INPUT_MANIFEST": "dist/manifest.json", "INPUT_COMMAND": failingTAP, "INPUT_KEY": key.PrivatePath, "INPUT_TLOG": "false",
		"INPUT_COSIGN-PASSWORD": key.Password, "INPUT_ALLOW-FAILURE": "true",
	}
	code, stdout, stderr := runTest(t, dir, env)
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "::error file=src/add.js,line=12,title=test failed%3A dist/manifest.test-output/adds::expected 3, got 4") {
		t.Errorf("no annotation at the failure:\n%s", stdout)
	}
	if !strings.Contains(stdout, "::add-mask::"+key.Password) || strings.Count(stdout+stderr, key.Password) != 1 {
		t.Errorf("the password is not masked, or printed:\n%s", stdout)
	}
	outputs, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	summary, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	if !strings.Contains(string(outputs), "result<<") || !strings.Contains(string(outputs), "FAILED") {
		t.Errorf("GITHUB_OUTPUT = %s", outputs)
	}
	if !strings.Contains(string(summary), "| Test | Where | Message |") || !strings.Contains(string(summary), "| dist/manifest.test-output/adds | src/add.js:12 | expected 3, got 4 |") {
		t.Errorf("step summary = %s", summary)
	}
}

func TestTestCommandErrors(t *testing.T) {
	t.Parallel()
	dir, _ := attestWorkspace(t)
	key := sigstoretest.NewCosignKey(t, "correct horse battery 9")
	withKey := map[string]string{"COSIGN_PASSWORD": key.Password, "PATH": "/usr/bin:/bin"}
	if err := os.WriteFile(filepath.Join(dir, "bad.xml"), []byte("<testsuite name=\"s\">\n  <testcase name=\"a\">"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		code    int
		wantErr string
	}{
		{"no key", nil, []string{"--manifest", "dist/manifest.json", "--results", "bad.xml"}, 2, "no signing key"},
		{"no manifest", withKey, []string{"--results", "bad.xml", "--key", key.PrivatePath}, 2, `input "manifest"`},
		{"bad format", withKey, []string{"--manifest", "dist/manifest.json", "--results", "bad.xml", "--key", key.PrivatePath, "--format", "xunit"}, 2, `input "format"`},
		{"truncated results", withKey, []string{"--manifest", "dist/manifest.json", "--results", "bad.xml", "--key", key.PrivatePath, "--tlog=false"}, 2, "bad.xml:2:"},
		{"manifest outside", withKey, []string{"--manifest", "/etc/passwd", "--results", "bad.xml", "--key", key.PrivatePath}, 2, "outside"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runTest(t, dir, tc.env, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("exit %d, want %d with %q\nstdout %s\nstderr %s", code, tc.code, tc.wantErr, stdout, stderr)
			}
		})
	}
}
