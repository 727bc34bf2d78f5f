package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// A FIFO given where a stage reads a file is refused at once (it would block
// the open, or never end), with exit code 2 and the kind of file named.
func TestStagesRefuseFIFOs(t *testing.T) {
	t.Parallel()
	key := sigstoretest.NewCosignKey(t, "pw")
	pw := map[string]string{"COSIGN_PASSWORD": "pw"}
	tests := []struct {
		name string
		env  map[string]string
		args []string
	}{
		{name: "sign subject", env: pw, args: []string{"sign", "--subject", "pipe", "--key", key.PrivatePath, "--tlog=false"}},
		{name: "sign key", env: pw, args: []string{"sign", "--subject", "app.bin", "--key", "pipe", "--tlog=false"}},
		{name: "attest subject", env: pw, args: []string{"attest", "--subject", "pipe", "--key", key.PrivatePath, "--tlog=false", "--builder-id", "https://ci.example/b"}},
		{name: "attest SBOM", env: pw, args: []string{"attest", "--subject", "app.bin", "--predicate-type", "cyclonedx", "--sbom", "pipe", "--key", key.PrivatePath, "--tlog=false"}},
		{name: "push subject", args: []string{"push", "--subject", "pipe", "--ref", "127.0.0.1:1/app:v1"}},
		{name: "sbom subject", args: []string{"sbom", "--subject", "pipe"}},
		{name: "verify subject", args: []string{"verify", "--subject", "pipe", "--policy", "policy.yaml"}},
		{name: "build artifact", args: []string{"build", "--artifacts", "pipe"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
				t.Fatal(err)
			}
			policy := "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys:\n  - name: release\n    path: cosign.pub\n"
			for name, content := range map[string]string{"app.bin": "hello\n", "policy.yaml": policy, "cosign.pub": string(key.PublicPEM)} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			type result struct {
				code           int
				stdout, stderr string
			}
			done := make(chan result, 1)
			go func() {
				code, stdout, stderr := runCLI(t, dir, tt.env, tt.args...)
				done <- result{code, stdout, stderr}
			}()
			select {
			case r := <-done:
				if r.code != 2 || !strings.Contains(r.stderr, "pipe") ||
					!strings.Contains(r.stderr, "named pipe (FIFO)") && !strings.Contains(r.stderr, "not a regular file") {
					t.Fatalf("exit %d, want 2 and an error naming the FIFO\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("still blocked on the FIFO after 20s")
			}
		})
	}
}
