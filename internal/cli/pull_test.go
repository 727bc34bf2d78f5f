package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/testutil/registry"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

var runPull = stageRunner("pull")

// releaseWorkspace makes a release with the real stages, as the release
// workflow does: build (two artifacts), an SBOM of each, signatures,
// provenance and SBOM attestations with a cosign key, and a push of every
// file (artifacts, SBOMs, bundles, manifest, subjects file) to a real
// registry. It returns the pinned reference and the key.
func releaseWorkspace(t *testing.T, addr string) (string, sigstoretest.CosignKey) {
	t.Helper()
	ws := t.TempDir()
	key := sigstoretest.NewCosignKey(t, "pw")
	env := map[string]string{"COSIGN_PASSWORD": "pw"}
	signed := []string{"--manifest", "dist/manifest.json", "--key", key.PrivatePath, "--tlog=false"}
	for _, step := range [][]string{
		{"build", "--command", "mkdir -p out && printf 'the app\\n' >out/app && printf 'a library\\n' >out/libx.so", "--artifacts", "out/*"},
		{"sbom", "--manifest", "dist/manifest.json"},
		append([]string{"sign"}, signed...),
		append([]string{"attest", "--builder-id", "https://ci.example.org/runners/pool"}, signed...),
		append([]string{"attest", "--predicate-type", "cyclonedx"}, signed...),
	} {
		if code, stdout, stderr := runCLI(t, ws, env, step...); code != 0 {
			t.Fatalf("slipway %s: exit %d\n%s\n%s", step[0], code, stdout, stderr)
		}
	}
	code, stdout, stderr := runPush(t, ws, nil, "--ref", addr+"/team/app:v1", "--manifest", "dist/manifest.json", "--subject", "out/*", "--subject", "dist/*")
	if code != 0 {
		t.Fatalf("slipway push: exit %d\n%s\n%s", code, stdout, stderr)
	}
	pinned := regexp.MustCompile(`(?m)^pinned-ref=(.*)$`).FindStringSubmatch(stdout)
	if pinned == nil {
		t.Fatalf("push printed no pinned-ref:\n%s", stdout)
	}
	return pinned[1], key
}

// TestPullCommand pulls a release made by the real stages from a real
// registry, with a policy that requires its provenance and SBOM: every
// file is restored at its path, and slipway verify accepts the restored
// manifest again.
func TestPullCommand(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	pinned, key := releaseWorkspace(t, addr)
	ws := t.TempDir()
	other := sigstoretest.NewCosignKey(t, "")
	for name, content := range map[string]string{
		"cosign.pub": string(key.PublicPEM), "other.pub": string(other.PublicPEM),
		"policy.yaml": "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: cosign.pub}]\n" +
			"builders: [https://ci.example.org/runners/pool]\nrequiredPredicateTypes: [https://slsa.dev/provenance/v1, https://cyclonedx.org/bom]\n",
	} {
		if err := os.WriteFile(filepath.Join(ws, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	code, stdout, stderr := runPull(t, ws, nil, "--ref", pinned, "--output-dir", "release", "--policy", "policy.yaml")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"manifest=release/dist/manifest.json\n", "verified=true\n", "pinned-ref=" + pinned + "\n",
		"PASS builder    provenance.intoto.sigstore.json", "PASS predicate  app.cdx.json.intoto.sigstore.json",
		"PASS digest     app.sigstore.json", "PASS digest     libx.so.sigstore.json",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	for _, name := range []string{"out/app", "out/libx.so", "out/app.cdx.json", "out/app.sigstore.json", "out/app.cdx.json.intoto.sigstore.json",
		"dist/manifest.json", "dist/subjects.sha256", "dist/provenance.intoto.sigstore.json"} {
		if _, err := os.Stat(filepath.Join(ws, "release", filepath.FromSlash(name))); err != nil {
			t.Errorf("%s was not restored: %v", name, err)
		}
	}
	// The restored directory is a workspace slipway verify accepts as is.
	if code, stdout, stderr := runCLI(t, filepath.Join(ws, "release"), nil, "verify", "--manifest", "dist/manifest.json", "--policy", "../policy.yaml"); code != 0 {
		t.Errorf("slipway verify of the pulled release: exit %d\n%s\n%s", code, stdout, stderr)
	}

	t.Run("refusals", func(t *testing.T) {
		t.Parallel()
		tag := pinned[:strings.LastIndex(pinned, "@")] + ":v1"
		for _, tc := range []struct {
			name   string
			args   []string
			code   int
			stdout string
			stderr string
		}{
			{"another key", []string{"--ref", pinned, "--key", "other.pub", "--insecure-ignore-tlog"}, 1,
				"FAIL signature  app.sigstore.json", "the release failed verification"},
			{"a tag", []string{"--ref", tag, "--policy", "policy.yaml"}, 2, "", "is a tag, which whoever can push may move"},
			{"no policy", []string{"--ref", pinned}, 2, "", "no one to trust is given"},
			{"a policy and no verification", []string{"--ref", pinned, "--policy", "policy.yaml", "--insecure-skip-verify"}, 2, "", "drop one"},
			{"outside the workspace", []string{"--ref", pinned, "--policy", "policy.yaml", "--output-dir", "../elsewhere"}, 2, "", `input "output-dir"`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				args := tc.args
				if !strings.Contains(strings.Join(args, " "), "--output-dir") {
					args = append(args, "--output-dir", "refused")
				}
				code, stdout, stderr := runPull(t, ws, nil, args...)
				if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
					t.Errorf("exit %d, want %d\nstdout %s\nstderr %s\nwant %q and %q", code, tc.code, stdout, stderr, tc.stdout, tc.stderr)
				}
				if _, err := os.Stat(filepath.Join(ws, "refused")); !os.IsNotExist(err) {
					t.Errorf("a refused pull left the output directory: %v", err)
				}
			})
		}
	})
	t.Run("a tag, allowed, without verification", func(t *testing.T) {
		t.Parallel()
		tag := pinned[:strings.LastIndex(pinned, "@")] + ":v1"
		code, stdout, stderr := runPull(t, ws, nil, "--ref", tag, "--allow-tag", "--insecure-skip-verify", "--output-dir", "unverified")
		if code != 0 || !strings.Contains(stdout, "verified=false\n") || !strings.Contains(stdout, "pinned-ref="+pinned+"\n") ||
			!strings.Contains(stderr, "insecure-skip-verify") || !strings.Contains(stderr, "pin that digest") {
			t.Errorf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
		}
	})
}
