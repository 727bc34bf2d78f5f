package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/testutil/sigstoretest"
	"github.com/slipway/actions/internal/testutil/silent"
)

// Every stage that reaches the network gives up on a peer that accepts the
// connection and never answers, with the limit and the peer named, exit 3.
func TestStagesGiveUpOnSilentPeers(t *testing.T) {
	t.Parallel()
	key := sigstoretest.NewCosignKey(t, "pw")
	policy := "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys:\n  - name: release\n    path: cosign.pub\n"
	limits := []string{"--connect-timeout", "1s", "--timeout", "1s"}
	tests := []struct {
		name string
		env  map[string]string
		args func(addr string) []string
		want string // besides the address and the limit
		code int    // 0 means 3, an infrastructure failure
		// envLimits sets the limits through the environment, not flags.
		envLimits bool
	}{
		{name: "verify image", args: func(a string) []string {
			return []string{"verify", "--image", a + "/app:v1", "--policy", "policy.yaml"}
		}, want: "registry"}, // a registry that does not answer is an outage, not a failed check
		{name: "push", args: func(a string) []string {
			return []string{"push", "--subject", "app.bin", "--ref", a + "/app:v1"}
		}, want: "registry"},
		{name: "push, limits from the environment", envLimits: true, env: map[string]string{"SLIPWAY_NET_TIMEOUT": "1s", "SLIPWAY_CONNECT_TIMEOUT": "1s"},
			args: func(a string) []string { return []string{"push", "--subject", "app.bin", "--ref", a + "/app:v1"} }, want: "registry"},
		{name: "sbom of a registry image", args: func(a string) []string {
			return []string{"sbom", "--subject", "registry:" + a + "/app:v1"}
		}, want: "registry"},
		{name: "sign image", env: map[string]string{"COSIGN_PASSWORD": "pw"}, args: func(a string) []string {
			return []string{"sign", "--image", a + "/app:v1", "--key", key.PrivatePath, "--tlog=false"}
		}, want: "registry"},
		{name: "attest image", env: map[string]string{"COSIGN_PASSWORD": "pw"}, args: func(a string) []string {
			return []string{"attest", "--image", a + "/app:v1", "--key", key.PrivatePath, "--tlog=false", "--builder-id", "https://ci.example/b"}
		}, want: "registry"},
		{name: "build image base", args: func(a string) []string {
			return []string{"build", "--artifacts", "app.bin", "--image-base", a + "/base:v1"}
		}, want: "registry"},
		{name: "sign with Rekor", env: map[string]string{"COSIGN_PASSWORD": "pw"}, args: func(a string) []string {
			return []string{"sign", "--subject", "app.bin", "--key", key.PrivatePath, "--rekor-url", "http://" + a}
		}, want: "Rekor"},
		{name: "sign with a timestamp authority", env: map[string]string{"COSIGN_PASSWORD": "pw"}, args: func(a string) []string {
			return []string{"sign", "--subject", "app.bin", "--key", key.PrivatePath, "--tlog=false", "--tsa-url", "http://" + a + "/api/v1/timestamp"}
		}, want: "timestamp"},
		{name: "keyless token from GitHub", args: func(a string) []string {
			return []string{"sign", "--subject", "app.bin", "--keyless", "--fulcio-url", "http://" + a}
		}, env: map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": "http://%s/token", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t"}, want: "OIDC token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := silent.Listen(t)
			dir := t.TempDir()
			for name, content := range map[string]string{"app.bin": "hello\n", "policy.yaml": policy, "cosign.pub": string(key.PublicPEM)} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			env := map[string]string{}
			for k, v := range tt.env {
				env[k] = strings.ReplaceAll(v, "%s", s.Addr())
			}
			want := tt.code
			if want == 0 {
				want = 3
			}
			args := tt.args(s.Addr())
			if !tt.envLimits {
				args = append(args, limits...)
			}
			code, stdout, stderr := runCLI(t, dir, env, args...)
			if code != want || !strings.Contains(stderr, s.Addr()) || !strings.Contains(stderr, tt.want) ||
				!strings.Contains(stderr, "within 1s") && !strings.Contains(stderr, "within 2s") {
				t.Fatalf("exit %d, want %d and an error naming %s, %q and the limit\nstdout %s\nstderr %s", code, want, s.Addr(), tt.want, stdout, stderr)
			}
		})
	}
}

// The Vault provider reads VAULT_ADDR from the process environment and sets
// no timeout of its own: signing with a hashivault:// key against a silent
// Vault ends with the limit named.
func TestSignHashivaultSilentVault(t *testing.T) { // not parallel: sets environment variables
	s := silent.Listen(t)
	t.Setenv("VAULT_ADDR", "http://"+s.Addr())
	t.Setenv("VAULT_TOKEN", "not-a-real-token")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.bin"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"VAULT_ADDR": "http://" + s.Addr()}
	code, stdout, stderr := runSign(t, dir, env, "--subject", "app.bin", "--key", "hashivault://release", "--tlog=false",
		"--connect-timeout", "1s", "--timeout", "1s")
	if code != 3 || !strings.Contains(stderr, "no answer from Vault http://"+s.Addr()) || !strings.Contains(stderr, "within 2s") {
		t.Fatalf("exit %d, want 3 and an error naming Vault at %s and the limit\nstdout %s\nstderr %s", code, s.Addr(), stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "app.bin.sigstore.json")); err == nil {
		t.Error("a bundle was written")
	}
}
