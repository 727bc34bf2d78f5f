package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// Every path a stage writes, and every file it reads from user input, is
// resolved through symbolic links and refused when it leads out of the
// workspace: a link "outlink -> /elsewhere" must not receive a manifest,
// SBOM, bundle or report, nor give away a file to sign, describe or push.
func TestStagesRefusePathsOutsideWorkspace(t *testing.T) {
	t.Parallel()
	key := sigstoretest.NewCosignKey(t, "pw")
	pw := map[string]string{"COSIGN_PASSWORD": "pw"}
	keyArgs := []string{"--key", key.PrivatePath, "--tlog=false"}
	tests := []struct {
		name string
		env  map[string]string
		args []string
	}{
		{name: "build output-dir", args: []string{"build", "--artifacts", "app.bin", "--output-dir", "outlink"}},
		{name: "build output-dir below a link", args: []string{"build", "--artifacts", "app.bin", "--output-dir", "outlink/dist"}},
		{name: "build output-dir made a link by the command", args: []string{"build", "--command", "ln -s ../outside dist", "--artifacts", "app.bin"}},
		{name: "build image-layout", args: []string{"build", "--artifacts", "app.bin", "--image-base", "scratch", "--image-layout", "outlink/image"}},
		{name: "sbom subject through a link", args: []string{"sbom", "--subject", "outlink/secret"}},
		{name: "sbom subject absolute", args: []string{"sbom", "--subject", "/etc/passwd"}},
		{name: "sbom subject dot-dot", args: []string{"sbom", "--subject", "../outside/secret"}},
		{name: "sbom output", args: []string{"sbom", "--subject", "app.bin", "--output", "outlink/app.cdx.json"}},
		{name: "sign subject", env: pw, args: append([]string{"sign", "--subject", "outlink/secret"}, keyArgs...)},
		{name: "sign bundle", env: pw, args: append([]string{"sign", "--subject", "app.bin", "--bundle", "outlink/app.sigstore.json"}, keyArgs...)},
		{name: "attest subject", env: pw, args: append([]string{"attest", "--subject", "outlink/secret", "--builder-id", "https://ci.example/b"}, keyArgs...)},
		{name: "attest bundle", env: pw, args: append([]string{"attest", "--subject", "app.bin", "--bundle", "outlink/p.json", "--builder-id", "https://ci.example/b"}, keyArgs...)},
		{name: "push subject", args: []string{"push", "--subject", "outlink/secret", "--ref", "127.0.0.1:1/app:v1"}},
		{name: "push glob", args: []string{"push", "--subject", "outlink/*", "--ref", "127.0.0.1:1/app:v1"}},
		{name: "push dot-dot", args: []string{"push", "--subject", "../outside/secret", "--ref", "127.0.0.1:1/app:v1"}},
		{name: "verify report", args: []string{"verify", "--subject", "app.bin", "--policy", "policy.yaml", "--report", "outlink/report.json"}},
		{name: "verify subject", args: []string{"verify", "--subject", "outlink/secret", "--policy", "policy.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := t.TempDir()
			dir, outside := filepath.Join(base, "ws"), filepath.Join(base, "outside")
			for _, d := range []string{dir, outside} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			policy := "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys:\n  - name: release\n    path: cosign.pub\n"
			for p, content := range map[string]string{
				filepath.Join(dir, "app.bin"): "hello\n", filepath.Join(dir, "policy.yaml"): policy,
				filepath.Join(dir, "cosign.pub"): string(key.PublicPEM), filepath.Join(outside, "secret"): "not yours\n",
			} {
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Symlink(outside, filepath.Join(dir, "outlink")); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := runCLI(t, dir, tt.env, tt.args...)
			if code != 2 || !strings.Contains(stderr, "outside the workspace") && !strings.Contains(stderr, "climbs out of the workspace") {
				t.Errorf("exit %d, want 2 and an error saying the path leaves the workspace\nstdout %s\nstderr %s", code, stdout, stderr)
			}
			entries, _ := os.ReadDir(outside)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if !slices.Equal(names, []string{"secret"}) {
				t.Errorf("the directory outside the workspace now holds %v", names)
			}
		})
	}
}
