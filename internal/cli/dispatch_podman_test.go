package cli

import (
	"context"
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
	"github.com/slipway/actions/internal/testutil/tools"
)

// TestDispatchImagePodman: an OCI image release dispatched to the real
// cluster for a Podman site (container-runtime podman): the node's
// exec-verified checks the manifest and every layer again while unpacking
// a fresh bundle, then podman run --rootfs runs the verified root
// filesystem (nothing pulled, no image store): the command, or the
// image's entrypoint, runs in the job directory, with no network unless
// asked, the allow-listed variable passed, inside the job's memory limit;
// its output is attested and verifies back to the release. A layer changed
// after submit is refused on the node before Podman runs anything.
func TestDispatchImagePodman(t *testing.T) {
	t.Parallel()
	tools.Require(t, "podman")
	addr := registry.Start(t)
	var image string
	s := newSlurmSiteFrom(t, imageRelease(addr, &image))
	run := func(t *testing.T, work string, extra ...string) (int, map[string]string, string) {
		t.Helper()
		env := maps.Clone(s.env)
		env["ALLOWED"] = "the-allowed-value"
		args := []string{"dispatch", "--manifest", "dist/manifest.json", "--policy", s.policy, "--artifact", image,
			"--partition", s.cluster.Partition, "--time-limit", "2", "--mem", "256M", "--cpus-per-task", "1",
			"--slipway", s.slipway, "--workdir", work, "--backend", "cli", "--builder-id", headnodeBuilder, "--tlog=false",
			"--container-runtime", "podman", "--env", "ALLOWED"}
		code, stdout, stderr := runCLI(t, s.dir, env, append(args, extra...)...)
		out := nameValues(stdout)
		t.Cleanup(func() { removeJobCgroups(out["job-id"]) })
		return code, out, stdout + stderr
	}

	t.Run("completed", func(t *testing.T) {
		t.Parallel()
		work := filepath.Join(s.cluster.Shared, "podman-ok")
		code, out, text := run(t, work, "--command",
			`/bin/sh -c 'busybox ls /sys/class/net > net.txt && echo "$ALLOWED" > env.txt && exec /hello 0 "$SLIPWAY_JOB_DIR"'`,
			"--outputs", "net.txt,env.txt")
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
		for file, want := range map[string]string{"net.txt": "lo\n", "env.txt": "the-allowed-value\n"} {
			if b, err := os.ReadFile(filepath.Join(job, file)); err != nil || string(b) != want {
				t.Errorf("%s written in the container: %q, %v; want %q (no network but loopback; the allow-listed variable)", file, b, err, want)
			}
		}
		rel, _ := filepath.Rel(work, out["outputs-manifest"])
		staged := filepath.Join(".slipway", "release-"+s.id, "manifest.json")
		if vcode, vout, verr := runCLI(t, work, nil, "verify", "--manifest", rel, "--policy", s.verifyPolicy, "--release-manifest", staged); vcode != 0 || !strings.Contains(vout, "chain") {
			t.Errorf("verify of the Podman job's outputs: exit %d\n%s\n%s", vcode, vout, verr)
		}
		noSecrets(t, work, s.token, dispatcherPassword, "")
	})

	t.Run("entrypoint", func(t *testing.T) {
		t.Parallel()
		code, out, text := run(t, filepath.Join(s.cluster.Shared, "podman-entrypoint"), "--container-network", "host")
		if code != 0 || out["state"] != "COMPLETED" || !strings.Contains(text, "hello from the verified image: []") {
			t.Fatalf("the image's entrypoint with Podman: exit %d, state %q\n%s", code, out["state"], text)
		}
	})

	t.Run("over its memory", func(t *testing.T) {
		t.Parallel()
		code, out, text := run(t, filepath.Join(s.cluster.Shared, "podman-oom"), "--command", "busybox dd if=/dev/zero of=/dev/null bs=600M count=1")
		// The container's cgroup is below the job's: the kernel kills dd at
		// the job's --mem; Slurm 22.05 (cgroup v1) does not count an
		// OOM kill in a cgroup below the step's, so the job ends FAILED
		// with podman's 137 rather than OUT_OF_MEMORY (docs/hpc.md).
		if code != 1 || out["state"] == "COMPLETED" || (out["exit-code"] != "137" && out["exit-code"] != "253") {
			t.Fatalf("a container over the job's --mem: exit %d, state %q, exit-code %q; want it killed (137, or 253 with OUT_OF_MEMORY)\n%s", code, out["state"], out["exit-code"], text)
		}
		t.Logf("a container over the job's --mem: state %s, exit-code %s", out["state"], out["exit-code"])
	})

	t.Run("layer changed after submit", func(t *testing.T) {
		t.Parallel()
		p, err := policy.Load(s.policy)
		if err != nil {
			t.Fatal(err)
		}
		work := filepath.Join(s.cluster.Shared, "podman-tampered")
		res, err := dispatch.Run(context.Background(), dispatch.Options{
			Stage: dispatch.StageOptions{Source: dispatch.Source{Manifest: "dist/manifest.json", Dir: s.dir}, Workdir: work, Policy: p},
			Job: dispatch.Job{Command: "/bin/sh -c 'echo ran-anyway'", Artifact: image, Partition: s.cluster.Partition,
				CPUsPerTask: 1, Mem: "256M", TimeLimit: 2 * 60e9, Slipway: s.slipway, PolicyFile: s.policy, ContainerRuntime: "podman"},
			Backend: layerTamperer{Backend: slurmcli.New(slurmcli.Options{}), layout: filepath.Join(work, ".slipway", "release-"+s.id, image)},
			Out:     io.Discard,
		})
		if err == nil || res == nil || res.State != slurm.Failed || res.ExitCode != 65 || !strings.Contains(res.Reason, "check layer") {
			t.Fatalf("a changed layer with Podman: %v (%+v), want the node's refusal with check layer, exit code 65", err, res)
		}
	})
}

// removeJobCgroups removes the empty cgroup directories job id left: on
// cgroup v1 Podman creates the job's cgroup path in the controllers Slurm
// does not manage and leaves it behind (docs/node.md). Only empty cgroups
// can be removed; anything else stays.
func removeJobCgroups(id string) {
	if id == "" {
		return
	}
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/slurm*/uid_*/job_" + id)
	for _, d := range dirs {
		var all []string
		filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				all = append(all, p)
			}
			return nil
		})
		for i := len(all) - 1; i >= 0; i-- {
			os.Remove(all[i])
		}
	}
}
