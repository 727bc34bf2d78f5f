package cli

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/dispatch"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/slurm"
	slurmcli "github.com/slipway/actions/internal/slurm/cli"
	"github.com/slipway/actions/internal/testutil/registry"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// imageRelease returns a release maker for newSlurmSiteFrom: an image FROM
// scratch (testdata/ocihello as /hello, busybox as /bin/sh) built by slipway
// build into dist/image, signed and attested by the stages (the image
// manifest's blob is the artifact they sign), pushed by slipway push
// --manifest to the registry at addr (its registry record names the
// repository). *name receives the image's artifact name.
func imageRelease(addr string, name *string) func(t *testing.T, dir string) map[string]string {
	return imageReleaseWith(addr, name, nil)
}

// imageReleaseWith is imageRelease with attestEnv added to the attest
// step's environment (a GitHub Actions run, so that the provenance names
// a source repository).
func imageReleaseWith(addr string, name *string, attestEnv map[string]string) func(t *testing.T, dir string) map[string]string {
	return func(t *testing.T, dir string) map[string]string {
		t.Helper()
		key := sigstoretest.NewCosignKey(t, "pw")
		env := map[string]string{"PATH": os.Getenv("PATH"), "HOME": dir, "COSIGN_KEY": string(key.PrivatePEM), "COSIGN_PASSWORD": "pw"}
		const manifest = "dist/manifest.json"
		code, stdout, stderr := runBuild(t, dir, env, append([]string{"--command", "true"}, ociHelloBuild(t, dir)...)...)
		if code != 0 {
			t.Fatalf("slipway build: exit %d\n%s", code, stderr)
		}
		*name = nameValues(stdout)["image-layout"]
		for _, args := range [][]string{
			{"sign", "--manifest", manifest, "--tlog=false"},
			{"attest", "--manifest", manifest, "--tlog=false", "--builder-id", releaseBuilder},
			{"push", "--manifest", manifest, "--ref", addr + "/ocidispatch/hello:v1"},
		} {
			stepEnv := env
			if args[0] == "attest" && attestEnv != nil {
				stepEnv = maps.Clone(env)
				maps.Copy(stepEnv, attestEnv)
			}
			if code, stdout, stderr := runCLI(t, dir, stepEnv, args...); code != 0 {
				t.Fatalf("slipway %s: exit %d\n%s\n%s", strings.Join(args, " "), code, stdout, stderr)
			}
		}
		writeFile(t, filepath.Join(dir, "cosign.pub"), string(key.PublicPEM))
		writeFile(t, filepath.Join(dir, "policy.yaml"), "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: release, path: cosign.pub}]\nbuilders: ["+releaseBuilder+"]\nallowedPredicateTypes: [https://cyclonedx.org/bom]\n")
		return env
	}
}

// dispatchImage runs slipway dispatch of the site's image release (the
// local manifest with its receipt) into workdir.
func (s *slurmSite) dispatchImage(t *testing.T, image, pol, workdir string, extra ...string) (int, map[string]string, string) {
	t.Helper()
	args := []string{"dispatch", "--manifest", "dist/manifest.json", "--policy", pol, "--artifact", image,
		"--partition", s.cluster.Partition, "--time-limit", "2", "--mem", "256M", "--cpus-per-task", "1",
		"--slipway", s.slipway, "--workdir", workdir, "--backend", "cli", "--builder-id", headnodeBuilder, "--tlog=false"}
	code, stdout, stderr := runCLI(t, s.dir, s.env, append(args, extra...)...)
	return code, nameValues(stdout), stdout + stderr
}

// TestDispatchImageSlurm: an OCI image release (slipway build, sign, attest,
// push, upload to a real slipway serve) dispatched to the real cluster:
// the dispatcher verifies it, pulls its layers by digest from the real
// registry into an OCI image layout in the workdir, and the node's
// exec-verified checks the manifest and every layer again while unpacking
// a fresh bundle, then srun --container runs the command in it; the output
// the container wrote into its job directory is attested and verifies back
// to the release. A layer changed in the staged layout after the
// dispatcher's checks fails the job on the node (check layer, both
// digests); a release whose signature the policy does not trust submits
// nothing.
func TestDispatchImageSlurm(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	var image string
	s := newSlurmSiteFrom(t, imageRelease(addr, &image))

	t.Run("completed", func(t *testing.T) {
		t.Parallel()
		work := filepath.Join(s.cluster.Shared, "image-ok")
		code, out, text := s.dispatchImage(t, image, s.policy, work,
			"--command", "/bin/sh -c 'echo made-in-the-container > out.txt && exec /hello 0 \"$SLIPWAY_JOB_DIR\"'", "--outputs", "out.txt")
		if code != 0 || out["state"] != "COMPLETED" || out["exit-code"] != "0" || out["output-provenance"] == "" {
			t.Fatalf("dispatch: exit %d\n%s", code, text)
		}
		id, err := strconv.ParseUint(out["job-id"], 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		job := dispatch.JobDir(work, uint32(id))
		if !strings.Contains(text, `hello from the verified image: ["0" "`+job+`"]`) {
			t.Errorf("the container's output was not streamed:\n%s", text)
		}
		if b, err := os.ReadFile(filepath.Join(job, "out.txt")); err != nil || string(b) != "made-in-the-container\n" {
			t.Errorf("the container's output file: %q, %v", b, err)
		}
		manifest := out["outputs-manifest"]
		rel, _ := filepath.Rel(work, manifest)
		staged := filepath.Join(".slipway", "release-"+s.id, "manifest.json")
		vcode, vout, verr := runCLI(t, work, nil, "verify", "--manifest", rel, "--policy", s.verifyPolicy, "--release-manifest", staged)
		if vcode != 0 || !strings.Contains(vout, "chain") {
			t.Errorf("verify of the image job's outputs: exit %d\n%s\n%s", vcode, vout, verr)
		}
		// The manifest's signature bundle and receipt are beside its blob.
		blobs, _ := filepath.Glob(filepath.Join(work, ".slipway", "release-"+s.id, image, "blobs", "sha256", strings.Repeat("[0-9a-f]", 64)))
		if len(blobs) != 4 {
			t.Errorf("the staged layout holds %d blobs, want 4 (manifest, config, 2 layers): %v", len(blobs), blobs)
		}
		noSecrets(t, work, s.token, dispatcherPassword, "")
	})

	t.Run("layer changed after submit", func(t *testing.T) {
		t.Parallel()
		p, err := policy.Load(s.policy)
		if err != nil {
			t.Fatal(err)
		}
		work := filepath.Join(s.cluster.Shared, "image-tampered")
		res, err := dispatch.Run(context.Background(), dispatch.Options{
			Stage: dispatch.StageOptions{Source: dispatch.Source{Manifest: "dist/manifest.json", Dir: s.dir}, Workdir: work, Policy: p},
			Job: dispatch.Job{Command: "/bin/sh -c 'echo ran-anyway'", Artifact: image, Partition: s.cluster.Partition,
				CPUsPerTask: 1, Mem: "256M", TimeLimit: 2 * 60e9, Slipway: s.slipway, PolicyFile: s.policy},
			Backend: layerTamperer{Backend: slurmcli.New(slurmcli.Options{}), layout: filepath.Join(work, ".slipway", "release-"+s.id, image)},
			Out:     io.Discard,
		})
		if err == nil || res == nil || res.State != slurm.Failed || !strings.Contains(res.Reason, "check layer") {
			t.Fatalf("a changed layer: %v (%+v), want the node's refusal with check layer", err, res)
		}
		if !strings.Contains(err.Error(), "exec-verified refused") || strings.Count(err.Error(), "sha256:") < 2 {
			t.Errorf("the dispatch's error does not name the refusal and both digests: %v", err)
		}
		if res.ExitCode != 65 {
			t.Errorf("exit code %d, want 65", res.ExitCode)
		}
		t.Logf("refused: %v", err)
	})

	t.Run("untrusted signature", func(t *testing.T) {
		t.Parallel()
		other := sigstoretest.NewCosignKey(t, "x")
		writeFile(t, filepath.Join(s.cluster.Shared, "other.pub"), string(other.PublicPEM))
		logKey := strings.SplitN(string(mustRead(t, s.policy)), "log: ", 2)[1]
		pol := filepath.Join(s.cluster.Shared, "other-policy.yaml")
		writeFile(t, pol, "apiVersion: slipway.dev/v1\nkind: TrustPolicy\nkeys: [{name: other, path: other.pub}]\nbuilders: ["+releaseBuilder+"]\nlog: "+logKey)
		work := filepath.Join(s.cluster.Shared, "image-untrusted")
		code, out, text := s.dispatchImage(t, image, pol, work, "--command", "/hello 0")
		if code != 1 || out["job-id"] != "" || !strings.Contains(text, "nothing was submitted") {
			t.Errorf("an image signed by an untrusted key: exit %d, job %q; want 1 and no job\n%s", code, out["job-id"], text)
		}
		if m, _ := filepath.Glob(filepath.Join(work, ".slipway", "dispatch-*.job")); len(m) != 0 {
			t.Errorf("a job was recorded for a refused release: %v", m)
		}
	})
}

// layerTamperer rewrites the last layer of the staged image after the
// dispatcher verified and staged it, as the job is submitted.
type layerTamperer struct {
	slurm.Backend
	layout string
}

func (b layerTamperer) Submit(ctx context.Context, spec slurm.JobSpec) (uint32, error) {
	idx, err := os.ReadFile(filepath.Join(b.layout, "index.json"))
	if err != nil {
		return 0, err
	}
	var ix struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	if err := json.Unmarshal(idx, &ix); err != nil || len(ix.Manifests) != 1 {
		return 0, err
	}
	raw, err := os.ReadFile(filepath.Join(b.layout, "blobs", "sha256", strings.TrimPrefix(ix.Manifests[0].Digest, "sha256:")))
	if err != nil {
		return 0, err
	}
	var m struct {
		Layers []struct{ Digest string } `json:"layers"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return 0, err
	}
	p := filepath.Join(b.layout, "blobs", "sha256", strings.TrimPrefix(m.Layers[len(m.Layers)-1].Digest, "sha256:"))
	if err := os.WriteFile(p, []byte("not the layer that was verified\n"), 0o644); err != nil {
		return 0, err
	}
	return b.Backend.Submit(ctx, spec)
}
