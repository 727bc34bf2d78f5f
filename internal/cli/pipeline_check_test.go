package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// TestPipelineChecksBeforeBuilding runs the pipeline on a self-hosted
// runner with several bad inputs and environment problems: every one is
// reported in one error before the build command runs, and nothing is
// built, signed or attested.
func TestPipelineChecksBeforeBuilding(t *testing.T) {
	t.Parallel()
	key := sigstoretest.NewCosignKey(t, "pw")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte("apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [oops\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"PATH": os.Getenv("PATH"), "COSIGN_PASSWORD": "pw",
		"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "o/r", "GITHUB_WORKFLOW_REF": "o/r/.github/workflows/x.yml@refs/heads/main",
		"RUNNER_ENVIRONMENT": "self-hosted", "GITHUB_OUTPUT": filepath.Join(t.TempDir(), "out"),
	}
	code, stdout, stderr := runCLI(t, dir, env, "pipeline", "--command", "mkdir -p dist && echo app > dist/app && touch built",
		"--artifacts", "dist/app", "--tlog=false", "--key", key.PrivatePath,
		"--toolchains", "no-such-compiler-here", "--policy", "policy.yaml", "--ref", "localhost:1/Upper/Case:1")
	all := stdout + stderr
	if code != 2 {
		t.Fatalf("exit %d, want 2:\n%s", code, all)
	}
	for _, want := range []string{
		"the pipeline's inputs have 4 problem(s), found before any stage ran; nothing was built",
		`slipway build: toolchains: "no-such-compiler-here" not found on the build command's PATH`,
		"slipway attest: input \"builder-id\": cannot identify the builder: this job runs on a self-hosted runner",
		"slipway verify: ", // the policy file is not YAML
		`slipway push: input "ref"`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the output does not say %q:\n%s", want, all)
		}
	}
	for _, f := range []string{"built", "dist/app", "dist/manifest.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s exists: a stage ran before the inputs were checked", f)
		}
	}
}

// TestPipelineChecksKeys: a missing key file and a keyless run without a
// token are found before the build; a wrong password, which only decrypting
// the key tells, stops the build as soon as the key fails to decrypt,
// without waiting for it.
func TestPipelineChecksKeys(t *testing.T) {
	t.Parallel()
	key := sigstoretest.NewCosignKey(t, "pw")
	base := map[string]string{"PATH": os.Getenv("PATH")}
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    string
		maxTime time.Duration
	}{
		{"key file missing", base, []string{"--key", filepath.Join(t.TempDir(), "cosign.key")}, "slipway sign, attest: opening cosign key", 0},
		{"public key given", base, []string{"--key", key.PublicPath}, `slipway sign, attest: the cosign key file "` + key.PublicPath + `" holds a "PUBLIC KEY" PEM block`, 0},
		{"keyless without a token", base, []string{"--keyless"}, `slipway sign, attest: keyless signing: the job cannot request an OIDC token`, 0},
		{"wrong password", map[string]string{"PATH": os.Getenv("PATH"), "COSIGN_PASSWORD": "wrong"}, []string{"--key", key.PrivatePath},
			"the build was stopped: slipway sign: decrypting the cosign key file", 20 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			command := "touch built"
			if tc.maxTime > 0 {
				command = "sleep 60; touch built"
			}
			start := time.Now()
			args := append([]string{"pipeline", "--command", command, "--artifacts", "built", "--tlog=false"}, tc.args...)
			code, stdout, stderr := runCLI(t, dir, tc.env, args...)
			all := stdout + stderr
			if code != 2 || !strings.Contains(all, tc.want) {
				t.Errorf("exit %d, want 2 and %q:\n%s", code, tc.want, all)
			}
			if _, err := os.Stat(filepath.Join(dir, "built")); err == nil {
				t.Error("the build command ran to its end")
			}
			if tc.maxTime > 0 && time.Since(start) > tc.maxTime {
				t.Errorf("the pipeline took %s: the build was not stopped when the key failed", time.Since(start))
			}
		})
	}
}

// TestPipelineKeyAndPolicy signs with a key file and verifies against a
// policy that trusts its public key: the signing key given as key is not
// taken for verify's key (the public key to trust), which would refuse the
// policy as given twice.
func TestPipelineKeyAndPolicy(t *testing.T) {
	t.Parallel()
	key := sigstoretest.NewCosignKey(t, "pw")
	dir := t.TempDir()
	policy := "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys:\n  - name: release\n    path: " + key.PublicPath + "\nallowedPredicateTypes:\n  - https://slsa.dev/provenance/v1\n  - https://cyclonedx.org/bom\n"
	if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PATH": os.Getenv("PATH"), "COSIGN_PASSWORD": "pw"}
	code, stdout, stderr := runCLI(t, dir, env, "pipeline", "--command", "mkdir -p dist && echo app > dist/app",
		"--artifacts", "dist/app", "--tlog=false", "--key", key.PrivatePath, "--policy", "policy.yaml")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if outs := parseOutputs(t, stdout); outs["verified"] != "true" {
		t.Errorf("verified = %q, want true:\n%s", outs["verified"], stdout)
	}
}
