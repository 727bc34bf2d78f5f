package cli

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/digestcache"
	"github.com/slipway/actions/internal/mediatype"
	"github.com/slipway/actions/internal/testutil/registry"
)

var outputLine = regexp.MustCompile(`(?m)^(digest|pinned-ref)=(.*)$`)

func outputs(stdout string) map[string]string {
	out := map[string]string{}
	for _, m := range outputLine.FindAllStringSubmatch(stdout, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// TestPushCommand pushes through the CLI to a real registry and checks the
// outputs against what the registry serves.
func TestPushCommand(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "dist"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dist", "app"), []byte("the app"), 0o755); err != nil {
		t.Fatal(err)
	}
	ref := addr + "/slipway/cli:v1"
	code, stdout, stderr := runPush(t, dir, nil, "--subject", "dist/app", "--ref", ref)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	out := outputs(stdout)
	r, _ := name.ParseReference(ref, name.Insecure)
	desc, err := remote.Head(r)
	if err != nil {
		t.Fatal(err)
	}
	if out["digest"] != desc.Digest.String() || out["pinned-ref"] != addr+"/slipway/cli@"+desc.Digest.String() {
		t.Errorf("outputs = %v, registry has %s", out, desc.Digest)
	}
	if !strings.Contains(stderr, "Pushed "+out["pinned-ref"]) {
		t.Errorf("summary lacks the pinned reference:\n%s", stderr)
	}

	// In Actions, with the build manifest: outputs go to GITHUB_OUTPUT and
	// the manifest gets the push record; identical content is a no-op.
	m := artifact.NewManifest()
	// As the build stage records it: the same media type as push detects.
	m.Add(artifact.Record{Name: "dist/app", Path: "dist/app", Digest: mustDigest(t, filepath.Join(dir, "dist", "app")), Size: 7,
		MediaType: mediatype.Detect("dist/app", []byte("the app")), Role: artifact.RoleArtifact})
	if err := m.WriteFile(filepath.Join(dir, "dist", "manifest.json")); err != nil {
		t.Fatal(err)
	}
	ghOut := filepath.Join(t.TempDir(), "output")
	env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": ghOut, "INPUT_REF": ref, "INPUT_MANIFEST": "dist/manifest.json"}
	code, stdout, _ = runPush(t, dir, env)
	if code != 0 {
		t.Fatalf("in Actions: exit %d: %s", code, stdout)
	}
	b, _ := os.ReadFile(ghOut)
	if !strings.Contains(string(b), out["pinned-ref"]) || !strings.Contains(string(b), "digest<<") {
		t.Errorf("GITHUB_OUTPUT = %q", b)
	}
	got, err := artifact.ReadManifest(filepath.Join(dir, "dist", "manifest.json"))
	if err != nil || len(got.Records) != 2 || got.Records[1].URI != out["pinned-ref"] {
		t.Errorf("manifest after push = %+v, %v", got, err)
	}

	// Other content under the same tag: exit 1, both digests named.
	if err := os.WriteFile(filepath.Join(dir, "dist", "app"), []byte("new app"), 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runPush(t, dir, nil, "--subject", "dist/app", "--ref", ref)
	if code != 1 || !strings.Contains(stderr, out["digest"]) || strings.Count(stderr, "sha256:") < 2 || !strings.Contains(stderr, "allow-overwrite") {
		t.Errorf("push of other content: exit %d, stderr:\n%s", code, stderr)
	}
	code, stdout, stderr = runPush(t, dir, nil, "--subject", "dist/app", "--ref", ref, "--allow-overwrite")
	if code != 0 || outputs(stdout)["digest"] == out["digest"] || !strings.Contains(stderr, "Replaced") {
		t.Errorf("overwrite: exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}

	code, _, stderr = runPush(t, dir, nil, "--subject", "oci-layout:a,b", "--ref", ref)
	if code != 2 || !strings.Contains(stderr, `input "subject"`) {
		t.Errorf("bad subject: exit %d, stderr:\n%s", code, stderr)
	}
}

// TestPushCommandMountAndCache: the second push of a file to another
// repository, with the digest cache of the first (SLIPWAY_DIGEST_CACHE),
// mounts it from the first one; the summary says so.
func TestPushCommandMountAndCache(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app"), []byte("the app"), 0o755); err != nil {
		t.Fatal(err)
	}
	time.Sleep(digestcache.RacyWindow + 100*time.Millisecond) // settled file times: cacheable
	env := map[string]string{"SLIPWAY_DIGEST_CACHE": filepath.Join(t.TempDir(), "cache")}
	code, _, stderr := runPush(t, dir, env, "--subject", "app", "--ref", addr+"/slipway/one:v1")
	if code != 0 || !strings.Contains(stderr, "Blobs: 2 uploaded") {
		t.Fatalf("first push: exit %d, stderr:\n%s", code, stderr)
	}
	code, _, stderr = runPush(t, dir, env, "--subject", "app", "--ref", addr+"/slipway/two:v1")
	if code != 0 || !strings.Contains(stderr, "mounted from "+addr+"/slipway/one") || !strings.Contains(stderr, "Blobs: 0 uploaded (0 B), 2 mounted") {
		t.Errorf("second push: exit %d, stderr:\n%s", code, stderr)
	}
	code, _, stderr = runPush(t, dir, nil, "--subject", "app", "--ref", addr+"/slipway/three:v1", "--mount-from", "example.com/other")
	if code != 2 || !strings.Contains(stderr, `input "mount-from"`) {
		t.Errorf("mount-from on another registry: exit %d, stderr:\n%s", code, stderr)
	}
}

func mustDigest(t *testing.T, path string) digest.SHA256 {
	t.Helper()
	d, _, err := digest.File(path)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestPushCommandAuth: a registry with basic authentication accepts
// credentials from REGISTRY_USERNAME/REGISTRY_PASSWORD and from a Docker
// config.json; none, or a wrong password, is bad input (exit 2) with the
// registry's 401 and where the credentials came from, never the secret.
func TestPushCommandAuth(t *testing.T) { // not parallel: sets environment variables
	const user, password = "alice", "correct horse battery staple"
	addr := registry.Start(t, registry.WithHtpasswd(user, password))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app"), []byte("app"), 0o644); err != nil {
		t.Fatal(err)
	}
	// No Docker or Podman credentials of this machine.
	empty := t.TempDir()
	t.Setenv("DOCKER_CONFIG", empty)
	t.Setenv("XDG_RUNTIME_DIR", empty)
	t.Setenv("XDG_CONFIG_HOME", empty)
	t.Setenv("REGISTRY_AUTH_FILE", "")

	code, _, stderr := runPush(t, dir, nil, "--subject", "app", "--ref", addr+"/slipway/auth:anonymous")
	if code != 2 || !strings.Contains(stderr, "needs credentials and none were found (401 Unauthorized)") {
		t.Errorf("anonymous: exit %d, stderr:\n%s", code, stderr)
	}

	env := map[string]string{"REGISTRY_USERNAME": user, "REGISTRY_PASSWORD": "wrong password"}
	code, stdout, stderr := runPush(t, dir, env, "--subject", "app", "--ref", addr+"/slipway/auth:wrong")
	if code != 2 || !strings.Contains(stderr, `refused the credentials from REGISTRY_USERNAME/REGISTRY_PASSWORD (user "alice") (401 Unauthorized)`) {
		t.Errorf("wrong password: exit %d, stderr:\n%s", code, stderr)
	}
	if strings.Contains(stdout+stderr, "wrong password") {
		t.Errorf("the password is in the output:\n%s%s", stdout, stderr)
	}

	env["REGISTRY_PASSWORD"] = password
	code, stdout, stderr = runPush(t, dir, env, "--subject", "app", "--ref", addr+"/slipway/auth:env")
	if code != 0 || outputs(stdout)["pinned-ref"] == "" {
		t.Errorf("credentials from the environment: exit %d, stderr:\n%s", code, stderr)
	}

	cfg, _ := json.Marshal(map[string]any{"auths": map[string]any{addr: map[string]string{
		"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password)),
	}}})
	dockerDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dockerDir, "config.json"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dockerDir)
	code, stdout, stderr = runPush(t, dir, nil, "--subject", "app", "--ref", addr+"/slipway/auth:docker-config")
	if code != 0 || outputs(stdout)["pinned-ref"] == "" {
		t.Errorf("credentials from DOCKER_CONFIG: exit %d, stderr:\n%s", code, stderr)
	}
}
