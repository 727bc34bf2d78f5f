package cli

import (
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

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
// referenceSite is an image release admitted by reference by a real
// slipway serve, with the dispatcher's files in the cluster's shared
// directory.
type referenceSite struct {
	dir, url, tok, id, slipway, policy string
	c                                  *slurmtest.Cluster
}

// newReferenceSite builds, signs, attests and pushes the ocihello image
// (imageRelease), then pin (given the workspace, the repository and the
// image's artifact record) names the image to admit; it is signed and
// attested in the registry (sign --image, attest --image) and admitted by
// reference (upload --reference).
func newReferenceSite(t *testing.T, c *slurmtest.Cluster, addr, name string, pin func(t *testing.T, dir, repo string, image artifact.Record) string) *referenceSite {
	t.Helper()
	return newReferenceSiteWith(t, c, addr, name, pin, referenceOptions{})
}

// referenceOptions change a referenceSite: attestEnv is added to the
// environment of attest --image (a GitHub Actions run, so that the
// provenance names a source repository), policy to the server's policy,
// serveFlags to slipway serve's flags.
type referenceOptions struct {
	attestEnv  map[string]string
	policy     string
	serveFlags []string
}

func newReferenceSiteWith(t *testing.T, c *slurmtest.Cluster, addr, name string, pin func(t *testing.T, dir, repo string, image artifact.Record) string, o referenceOptions) *referenceSite {
	t.Helper()
	s := &referenceSite{dir: t.TempDir(), c: c}
	dir := s.dir
	var image string
	env := imageRelease(addr, &image)(t, dir)
	m, err := artifact.ReadManifest(filepath.Join(dir, "dist", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pinned string
	for _, a := range m.ByRole(artifact.RoleArtifact) {
		if a.Name == image {
			pinned = pin(t, dir, addr+"/ocidispatch/hello", a)
		}
	}
	for _, args := range [][]string{
		{"sign", "--image", pinned, "--tlog=false"},
		{"attest", "--image", pinned, "--manifest", "dist/manifest.json", "--tlog=false", "--builder-id", releaseBuilder},
	} {
		stepEnv := maps.Clone(env)
		maps.Copy(stepEnv, o.attestEnv)
		if code, stdout, stderr := runCLI(t, dir, stepEnv, args...); code != 0 {
			t.Fatalf("slipway %s: exit %d\n%s\n%s", strings.Join(args, " "), code, stdout, stderr)
		}
	}
	if o.policy != "" {
		writeFile(t, filepath.Join(dir, "policy.yaml"), string(mustRead(t, filepath.Join(dir, "policy.yaml")))+o.policy)
	}
	data := t.TempDir()
	s.tok = createToken(t, dir, data, "upload,read,dispatch")
	s.url = startServe(t, dir, data, "policy.yaml", append([]string{"--allow-private-registries"}, o.serveFlags...)...)
	env["SLIPWAY_TOKEN"] = s.tok
	code, stdout, stderr := runCLI(t, dir, env, "upload", "--server", s.url, "--reference", pinned)
	if s.id = nameValues(stdout)["release-id"]; code != 0 || s.id == "" {
		t.Fatalf("upload --reference: exit %d\n%s\n%s", code, stdout, stderr)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s.slipway = filepath.Join(c.Shared, name+"-slipway")
	writeFile(t, s.slipway, "#!/bin/sh\n"+asSlipwayEnv+"=1 exec '"+self+"' \"$@\"\n")
	os.Chmod(s.slipway, 0o755)
	writeFile(t, filepath.Join(c.Shared, name+"-release.pub"), string(mustRead(t, filepath.Join(dir, "cosign.pub"))))
	s.policy = filepath.Join(c.Shared, name+"-policy.yaml")
	writeFile(t, s.policy, "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: "+name+"-release.pub}]\nbuilders: ["+releaseBuilder+"]\nallowedPredicateTypes: [https://cyclonedx.org/bom]\n")
	return s
}

// dispatch runs slipway dispatch of the release by id into work.
func (s *referenceSite) dispatch(t *testing.T, policy, work, command string, extra ...string) (int, map[string]string, string) {
	t.Helper()
	env := map[string]string{"PATH": os.Getenv("PATH"), "HOME": s.dir, "SLIPWAY_TOKEN": s.tok, "GITHUB_RUN_ID": "byref-" + filepath.Base(work), "GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": "run"}
	args := []string{"dispatch", "--server", s.url, "--release", s.id, "--policy", policy,
		"--partition", s.c.Partition, "--time-limit", "2", "--mem", "256M", "--cpus-per-task", "1",
		"--slipway", s.slipway, "--workdir", work, "--backend", "cli", "--builder-id", headnodeBuilder, "--command", command}
	code, stdout, stderr := runCLI(t, s.dir, env, append(args, extra...)...)
	if strings.Contains(stdout+stderr, s.tok) {
		t.Errorf("dispatch printed the token")
	}
	return code, nameValues(stdout), stdout + stderr
}

func TestDispatchReferenceSlurm(t *testing.T) {
	t.Parallel()
	c := slurmtest.Require(t)
	addr := registry.Start(t)
	s := newReferenceSite(t, c, addr, "byref", func(t *testing.T, dir, repo string, image artifact.Record) string {
		return repo + "@" + image.Digest.String()
	})
	id, tok, dispatchRef := s.id, s.tok, s.dispatch
	t.Run("completed", func(t *testing.T) {
		t.Parallel()
		work := filepath.Join(c.Shared, "byref-ok")
		code, out, text := dispatchRef(t, s.policy, work, "/bin/sh -c 'echo by-reference > out.txt && exec /hello 0'")
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

// TestDispatchIndexSlurm: a multi-platform release: an OCI image index of
// the ocihello image (linux/amd64) and an arm64 variant of it, pushed to
// the real registry, signed and attested there and admitted by reference.
// slipway dispatch verifies the index (the admitted digest), picks the
// manifest of the platform the index names for linux/amd64, pulls it by
// that digest and its config and layers, and the node's exec-verified,
// given the same platform, checks index → manifest → config → layers
// before srun --container runs the command. A platform the index has no
// image for is refused before anything is submitted, naming the platforms
// it has.
func TestDispatchIndexSlurm(t *testing.T) {
	t.Parallel()
	c := slurmtest.Require(t)
	addr := registry.Start(t)
	var amd64 string
	s := newReferenceSite(t, c, addr, "index", func(t *testing.T, dir, repo string, image artifact.Record) string {
		r, err := name.ParseReference(repo+"@"+image.Digest.String(), name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		img, err := remote.Image(r)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cfg = cfg.DeepCopy()
		cfg.Architecture, cfg.Variant = "arm64", "v8"
		arm, err := mutate.ConfigFile(img, cfg)
		if err != nil {
			t.Fatal(err)
		}
		idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
			mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}},
			mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
		tag, err := name.NewTag(repo+":multi", name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.WriteIndex(tag, idx); err != nil {
			t.Fatal(err)
		}
		d, err := idx.Digest()
		if err != nil {
			t.Fatal(err)
		}
		amd64 = image.Digest.String()
		return repo + "@" + d.String()
	})

	t.Run("linux/amd64", func(t *testing.T) {
		t.Parallel()
		work := filepath.Join(c.Shared, "index-ok")
		code, out, text := s.dispatch(t, s.policy, work, "/bin/sh -c 'echo from-the-index > out.txt && exec /hello 0'", "--platform", "linux/amd64")
		if code != 0 || out["state"] != "COMPLETED" || out["exit-code"] != "0" {
			t.Fatalf("dispatch of an image index: exit %d\n%s", code, text)
		}
		jid, err := strconv.ParseUint(out["job-id"], 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(dispatch.JobDir(work, uint32(jid)), "out.txt")); err != nil || string(b) != "from-the-index\n" {
			t.Errorf("the container's output file: %q, %v", b, err)
		}
		layout := filepath.Join(work, ".slipway", "release-"+s.id, "image")
		// The index, the amd64 manifest, its config and two layers: nothing of the arm64 image.
		blobs, _ := filepath.Glob(filepath.Join(layout, "blobs", "sha256", strings.Repeat("[0-9a-f]", 64)))
		if len(blobs) != 5 {
			t.Errorf("the staged layout holds %d blobs, want 5 (index, the amd64 manifest, config, 2 layers): %v", len(blobs), blobs)
		}
		if _, err := os.Stat(filepath.Join(layout, "blobs", "sha256", strings.TrimPrefix(amd64, "sha256:"))); err != nil {
			t.Errorf("the amd64 manifest %s is not staged: %v", amd64, err)
		}
	})

	t.Run("no image for the platform", func(t *testing.T) {
		t.Parallel()
		work := filepath.Join(c.Shared, "index-s390x")
		code, out, text := s.dispatch(t, s.policy, work, "/hello 0", "--platform", "linux/s390x")
		if code == 0 || out["job-id"] != "" || !strings.Contains(text, "has no image for linux/s390x; its images are for linux/arm64/v8, linux/amd64") {
			t.Errorf("an index without the platform's image: exit %d, job %q; want a refusal naming the platforms and no job\n%s", code, out["job-id"], text)
		}
		if m, _ := filepath.Glob(filepath.Join(work, ".slipway", "dispatch-*.job")); len(m) != 0 {
			t.Errorf("a job was recorded for a refused dispatch: %v", m)
		}
	})
}

// TestServeSlurmReference: slipway serve --slurm dispatches a release it
// admitted by reference from its own copy of the image (every blob staged
// from its blob store), the node policy checking the manifest with the
// referrers' Sigstore bundles (signature and provenance), and every layer.
func TestServeSlurmReference(t *testing.T) {
	t.Parallel()
	c := slurmtest.Require(t)
	addr := registry.Start(t)
	work := filepath.Join(c.Shared, "serve-byref")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	slipway := filepath.Join(c.Shared, "serve-byref-slipway")
	writeFile(t, slipway, "#!/bin/sh\n"+asSlipwayEnv+"=1 exec '"+self+"' \"$@\"\n")
	os.Chmod(slipway, 0o755)
	s := newReferenceSiteWith(t, c, addr, "serve-byref", func(t *testing.T, dir, repo string, image artifact.Record) string {
		return repo + "@" + image.Digest.String()
	}, referenceOptions{
		attestEnv: map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/image", "GITHUB_SERVER_URL": "https://github.com",
			"GITHUB_WORKFLOW_REF": "acme/image/.github/workflows/release.yml@refs/tags/v1", "RUNNER_ENVIRONMENT": "self-hosted", "GITHUB_RUN_ID": "8",
			"GITHUB_OUTPUT": filepath.Join(t.TempDir(), "out")},
		policy: "dispatch:\n  - repositories: [github.com/acme/image]\n    partitions: [" + c.Partition + "]\n    maxTime: 5m\n    maxNodes: 1\n",
		serveFlags: []string{"--slurm", "cli", "--slurm-workdir", work, "--slurm-partition", c.Partition, "--slipway-path", slipway,
			"--slurm-node-policy", filepath.Join(c.Shared, "serve-byref-policy.yaml")}, // newReferenceSiteWith writes it
	})
	code, a := serveCall(t, http.MethodPost, s.url+"/api/v1/releases/"+s.id+"/dispatch", s.tok,
		map[string]any{"command": "/bin/sh -c 'echo served-by-reference > out.txt && exec /hello 0'", "timeLimit": 2, "cpusPerTask": 1, "mem": "256M"})
	if code != http.StatusAccepted || a.JobID == "" {
		t.Fatalf("enqueue: %d %+v", code, a)
	}
	got := waitDispatch(t, s.url, s.tok, a.DispatchID)
	logs, _ := filepath.Glob(filepath.Join(work, "*", ".slipway", "job-"+a.JobID+".*"))
	text := ""
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		text += string(b)
	}
	if got.State != "COMPLETED" || got.ExitCode == nil || *got.ExitCode != 0 || !strings.Contains(text, "hello from the verified image") {
		t.Fatalf("the job ended %+v, want COMPLETED with exit code 0 and the image's output\n%s", got, text)
	}
	outs, _ := filepath.Glob(filepath.Join(work, "*", "job-"+a.JobID, "out.txt"))
	if len(outs) != 1 {
		t.Fatalf("the container's output file: %q", outs)
	}
	blobs, _ := filepath.Glob(filepath.Join(work, "*", ".slipway", "release-"+s.id, "image", "blobs", "sha256", "*"))
	if len(blobs) < 6 {
		t.Errorf("the staged copy holds %d blobs, want the image's 4 and its referrers'", len(blobs))
	}
}
