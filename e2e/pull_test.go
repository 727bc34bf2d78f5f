package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/slipway/actions/internal/cli"
	"github.com/slipway/actions/internal/testutil/registry"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// makeRelease makes a release with the real stages (slipway build → sbom → sign → attest provenance and SBOM →
// push of every file) in a fresh workspace, in this process, and returns its pinned reference.
func makeRelease(t *testing.T, reg string, key sigstoretest.CosignKey) string {
	t.Helper()
	ws := t.TempDir()
	env := map[string]string{"COSIGN_PASSWORD": key.Password}
	signed := []string{"--manifest", "dist/manifest.json", "--key", key.PrivatePath, "--tlog=false"}
	var stdout bytes.Buffer
	for _, args := range [][]string{
		{"build", "--command", "mkdir -p out && printf 'echo hello from the release\\n' >out/hello.sh", "--artifacts", "out/hello.sh"},
		{"sbom", "--manifest", "dist/manifest.json"},
		append([]string{"sign"}, signed...),
		append([]string{"attest", "--builder-id", "https://e2e.slipway.invalid/builder"}, signed...),
		append([]string{"attest", "--predicate-type", "cyclonedx"}, signed...),
		{"push", "--ref", reg + "/e2e/pulled:1.0.0", "--manifest", "dist/manifest.json", "--subject", "out/*", "--subject", "dist/*"},
	} {
		stdout.Reset()
		var stderr bytes.Buffer
		code := cli.Main(context.Background(), cli.Env{Args: args, Stdout: &stdout, Stderr: &stderr,
			Getenv: func(k string) string { return env[k] }, Getwd: func() (string, error) { return ws, nil }})
		if code != 0 {
			t.Fatalf("slipway %s: exit %d\n%s\n%s", args[0], code, stdout.String(), stderr.String())
		}
	}
	m := regexp.MustCompile(`(?m)^pinned-ref=(.*)$`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("slipway push printed no pinned-ref:\n%s", stdout.String())
	}
	return m[1]
}

// TestPullAction runs the pull action under act as a consumer's job would: the release, made by the real stages
// and pushed to a real registry, is pulled by digest, verified against the repository's trust policy (key,
// builder, required provenance and SBOM) and restored; a pull with an untrusted key fails and leaves nothing.
func TestPullAction(t *testing.T) {
	takeTurn(t)
	reg := registry.Start(t)
	key := sigstoretest.NewCosignKey(t, "pw")
	other := sigstoretest.NewCosignKey(t, "")
	pinned := makeRelease(t, reg, key)

	r := Run(t, Scenario{
		Workflow: "testdata/workflows/pull.yml",
		Inputs:   map[string]string{"ref": pinned},
		Files: map[string]string{
			"trust/cosign.pub": string(key.PublicPEM),
			"trust/other.pub":  string(other.PublicPEM),
			"trust/policy.yaml": "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: cosign.pub}]\n" +
				"builders: [https://e2e.slipway.invalid/builder]\n" +
				"requiredPredicateTypes: [https://slsa.dev/provenance/v1, https://cyclonedx.org/bom]\n",
		},
	})
	r.RequireSuccess(t)
	for name, want := range map[string]string{
		"manifest": "release/dist/manifest.json", "verified": "true", "pinned-ref": pinned,
		"untrusted": "failure", "refused-dir": "absent",
	} {
		if got := r.Value(t, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for _, f := range []string{"out/hello.sh", "out/hello.sh.sigstore.json", "out/hello.sh.cdx.json", "dist/manifest.json", "dist/provenance.intoto.sigstore.json"} {
		if _, err := os.Stat(filepath.Join(r.OutPath("release"), filepath.FromSlash(f))); err != nil {
			t.Errorf("%s was not restored: %v", f, err)
		}
	}
	for _, want := range []string{"PASS builder", "hello from the release", "the release failed verification"} {
		if !r.Logged(want) {
			t.Errorf("act's log lacks %q", want)
		}
	}
}
