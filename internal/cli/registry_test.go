package cli

import (
	"strings"
	"testing"

	"github.com/slipway/actions/internal/testutil/registry"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// TestImageSigningCredentials: sign --image and attest --image reach a registry that requires authentication
// with the same credential inputs as push (here REGISTRY_USERNAME/REGISTRY_PASSWORD, in a workflow the job's
// github-token for ghcr.io by default); without them the registry's 401 fails the step.
func TestImageSigningCredentials(t *testing.T) { // not parallel: empties the Docker config through the environment
	const user, password = "bob", "image signing password"
	addr := registry.Start(t, registry.WithHtpasswd(user, password))
	empty := t.TempDir()
	t.Setenv("DOCKER_CONFIG", empty)
	t.Setenv("XDG_RUNTIME_DIR", empty)
	t.Setenv("XDG_CONFIG_HOME", empty)
	t.Setenv("REGISTRY_AUTH_FILE", "")

	dir, _ := attestWorkspace(t)
	creds := map[string]string{"REGISTRY_USERNAME": user, "REGISTRY_PASSWORD": password, "RUNNER_ENVIRONMENT": "self-hosted"}
	code, stdout, stderr := runPush(t, dir, creds, "--manifest", "dist/manifest.json", "--ref", addr+"/slipway/signed:v1")
	pinned := outputs(stdout)["pinned-ref"]
	if code != 0 || pinned == "" {
		t.Fatalf("push: exit %d, stderr:\n%s", code, stderr)
	}
	key := sigstoretest.NewCosignKey(t, "pa55word")
	keyArgs := []string{"--key", key.PrivatePath, "--tlog=false"}
	withPassword := func(env map[string]string) map[string]string {
		out := map[string]string{"COSIGN_PASSWORD": "pa55word"}
		for k, v := range env {
			out[k] = v
		}
		return out
	}

	code, _, stderr = runSign(t, dir, withPassword(nil), append([]string{"--image", pinned}, keyArgs...)...)
	if code == 0 || !strings.Contains(stderr, "401") && !strings.Contains(strings.ToLower(stderr), "unauthorized") {
		t.Errorf("sign --image without credentials: exit %d, stderr:\n%s", code, stderr)
	}
	code, stdout, stderr = runSign(t, dir, withPassword(creds), append([]string{"--image", pinned}, keyArgs...)...)
	if code != 0 || !strings.Contains(stdout, "image="+pinned) {
		t.Errorf("sign --image with credentials: exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	args := append([]string{"--image", pinned, "--manifest", "dist/manifest.json", "--builder-id", "https://hpc.example.org/pool"}, keyArgs...)
	code, stdout, stderr = runAttest(t, dir, withPassword(creds), args...)
	if code != 0 || attestOutputs(stdout)["image"] != pinned {
		t.Errorf("attest --image with credentials: exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, password) {
		t.Error("the registry password was printed")
	}
	code, _, stderr = runSign(t, dir, withPassword(map[string]string{"REGISTRY_USERNAME": user}), append([]string{"--image", pinned}, keyArgs...)...)
	if code != 2 || !strings.Contains(stderr, "no password") {
		t.Errorf("sign --image with a username and no password: exit %d, stderr:\n%s", code, stderr)
	}
}
