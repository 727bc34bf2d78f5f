package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/dispatch"
	"github.com/slipway/actions/internal/testutil/registry"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
	slurmtest "github.com/slipway/actions/internal/testutil/slurm"
)

// TestDispatchReferenceSlurm: an OCI image pushed by the real stages and
// signed and attested in the registry (sign --image, attest --image), then
// admitted by reference by a real slipway serve (upload --reference), is
// dispatched by release id to the real cluster: slipway dispatch reads the
// release (its manifest is the reference), pulls the image manifest by
// digest from the registry the reference names, verifies it under the
// policy from its referrers with the release's receipt, pulls its config
// and layers, and the node's exec-verified checks the manifest with the
// bundles the dispatcher verified, and every layer, before srun
// --container runs the command. A policy that does not trust the image's
// signer submits nothing.
func TestDispatchReferenceSlurm(t *testing.T) {
	t.Parallel()
	c := slurmtest.Require(t)
	addr := registry.Start(t)
	dir := t.TempDir()
	var image string
	env := imageRelease(addr, &image)(t, dir)
	m, err := artifact.ReadManifest(filepath.Join(dir, "dist", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pinned string
	for _, a := range m.ByRole(artifact.RoleArtifact) {
		if a.Name == image {
			pinned = addr + "/ocidispatch/hello@" + a.Digest.String()
		}
	}
	for _, args := range [][]string{
		{"sign", "--image", pinned, "--tlog=false"},
		{"attest", "--image", pinned, "--manifest", "dist/manifest.json", "--tlog=false", "--builder-id", releaseBuilder},
	} {
		if code, stdout, stderr := runCLI(t, dir, env, args...); code != 0 {
			t.Fatalf("slipway %s: exit %d\n%s\n%s", strings.Join(args, " "), code, stdout, stderr)
		}
	}
	data := t.TempDir()
	tok := createToken(t, dir, data, "upload,read,dispatch")
	url := startServe(t, dir, data, "policy.yaml", "--allow-private-registries")
	env["SLIPWAY_TOKEN"] = tok
	code, stdout, stderr := runCLI(t, dir, env, "upload", "--server", url, "--reference", pinned)
	id := nameValues(stdout)["release-id"]
	if code != 0 || id == "" {
		t.Fatalf("upload --reference: exit %d\n%s\n%s", code, stdout, stderr)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	slipway := filepath.Join(c.Shared, "slipway")
	writeFile(t, slipway, "#!/bin/sh\n"+asSlipwayEnv+"=1 exec '"+self+"' \"$@\"\n")
	os.Chmod(slipway, 0o755)
	writeFile(t, filepath.Join(c.Shared, "release.pub"), string(mustRead(t, filepath.Join(dir, "cosign.pub"))))
	pol := filepath.Join(c.Shared, "policy.yaml")
	writeFile(t, pol, "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: release.pub}]\nbuilders: ["+releaseBuilder+"]\nallowedPredicateTypes: [https://cyclonedx.org/bom]\n")
	dispatchRef := func(t *testing.T, policy, work, command string) (int, map[string]string, string) {
		t.Helper()
		denv := map[string]string{"PATH": os.Getenv("PATH"), "HOME": dir, "SLIPWAY_TOKEN": tok, "GITHUB_RUN_ID": "byref-" + filepath.Base(work), "GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": "run"}
		code, stdout, stderr := runCLI(t, dir, denv, "dispatch", "--server", url, "--release", id, "--policy", policy,
			"--partition", c.Partition, "--time-limit", "2", "--mem", "256M", "--cpus-per-task", "1",
			"--slipway", slipway, "--workdir", work, "--backend", "cli", "--builder-id", headnodeBuilder, "--command", command)
		if strings.Contains(stdout+stderr, tok) {
			t.Errorf("dispatch printed the token")
		}
		return code, nameValues(stdout), stdout + stderr
	}

	t.Run("completed", func(t *testing.T) {
		t.Parallel()
		work := filepath.Join(c.Shared, "byref-ok")
		code, out, text := dispatchRef(t, pol, work, "/bin/sh -c 'echo by-reference > out.txt && exec /hello 0'")
		if code != 0 || out["state"] != "COMPLETED" || out["exit-code"] != "0" {
			t.Fatalf("dispatch of a release admitted by reference: exit %d\n%s", code, text)
		}
		jid, err := strconv.ParseUint(out["job-id"], 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(dispatch.JobDir(work, uint32(jid)), "out.txt")); err != nil || string(b) != "by-reference\n" {
			t.Errorf("the container's output file: %q, %v", b, err)
		}
		if !strings.Contains(text, "hello from the verified image") {
			t.Errorf("the container's output was not streamed:\n%s", text)
		}
		layout := filepath.Join(work, ".slipway", "release-"+id, "image")
		blobs, _ := filepath.Glob(filepath.Join(layout, "blobs", "sha256", strings.Repeat("[0-9a-f]", 64)))
		bundles, _ := filepath.Glob(filepath.Join(layout, "bundles", "*.sigstore.json"))
		if len(blobs) != 4 || len(bundles) < 2 {
			t.Errorf("the staged layout holds %d blobs (want manifest, config, 2 layers) and %d bundles (want the signature and the provenance)", len(blobs), len(bundles))
		}
		noSecrets(t, work, tok)
		t.Logf("dispatched:\n%s", text)
	})

	t.Run("untrusted signature", func(t *testing.T) {
		t.Parallel()
		other := sigstoretest.NewCosignKey(t, "x")
		writeFile(t, filepath.Join(c.Shared, "other.pub"), string(other.PublicPEM))
		pol := filepath.Join(c.Shared, "other-policy.yaml")
		writeFile(t, pol, "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: other, path: other.pub}]\nbuilders: ["+releaseBuilder+"]\n")
		work := filepath.Join(c.Shared, "byref-untrusted")
		code, out, text := dispatchRef(t, pol, work, "/hello 0")
		if code != 1 || out["job-id"] != "" || !strings.Contains(text, "nothing was submitted") {
			t.Errorf("an image signed by an untrusted key: exit %d, job %q; want 1 and no job\n%s", code, out["job-id"], text)
		}
		if m, _ := filepath.Glob(filepath.Join(work, ".slipway", "dispatch-*.job")); len(m) != 0 {
			t.Errorf("a job was recorded for a refused release: %v", m)
		}
	})
}
