package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/ocibundle"
	"github.com/slipway/actions/internal/testutil/registry"
	slurmtest "github.com/slipway/actions/internal/testutil/slurm"
	"github.com/slipway/actions/internal/testutil/tools"
)

// TestOCIImageSlurm: an image built FROM scratch (a static Go binary built
// here, and busybox as /bin/sh: Slurm 22.05 runs the batch script inside the
// container through its #! line) by slipway build, pushed by slipway push to
// a real registry, becomes a bundle with ocibundle.Build (by digest, each
// layer checked as it is read), which runc runs directly and Slurm runs with
// sbatch --container.
func TestOCIImageSlurm(t *testing.T) {
	t.Parallel()
	runc := tools.Require(t, "runc")
	c := slurmtest.Require(t)
	addr := registry.Start(t)
	ws := t.TempDir()
	env := map[string]string{"PATH": os.Getenv("PATH"), "HOME": ws}
	code, bout, stderr := runBuild(t, ws, env, ociHelloBuild(t, ws)...)
	if code != 0 {
		t.Fatalf("slipway build: exit %d\n%s", code, stderr)
	}
	layout := ""
	for _, l := range strings.Split(bout, "\n") {
		if v, ok := strings.CutPrefix(l, "image-layout="); ok {
			layout = v
		}
	}
	if layout == "" {
		t.Fatalf("slipway build printed no image-layout:\n%s", bout)
	}
	code, stdout, stderr := runPush(t, ws, env, "--subject", "oci-layout:"+layout, "--ref", addr+"/node/ocihello:v1")
	if code != 0 {
		t.Fatalf("slipway push: exit %d\n%s", code, stderr)
	}
	var pinned string
	for _, l := range strings.Split(stdout, "\n") {
		if v, ok := strings.CutPrefix(l, "pinned-ref="); ok {
			pinned = v
		}
	}
	if !strings.Contains(pinned, "@sha256:") {
		t.Fatalf("slipway push printed no pinned-ref:\n%s", stdout)
	}

	// runc, directly: the bundle in a fresh directory, the image's entrypoint.
	direct := filepath.Join(t.TempDir(), "bundle")
	b, err := ocibundle.Build(context.Background(), ocibundle.Options{Ref: pinned, Dir: direct})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(pinned, b.Digest) || b.Layers != 2 {
		t.Errorf("bundle %+v of %s", b, pinned)
	}
	var out bytes.Buffer
	run := exec.Command(runc, "--rootless=true", "--root="+filepath.Join(t.TempDir(), "runc"), "run", "-b", direct, "node-"+filepath.Base(filepath.Dir(direct)))
	run.Stdout, run.Stderr = &out, &out
	if err := run.Run(); err != nil || !strings.Contains(out.String(), `hello from the verified image: []`) {
		t.Fatalf("runc run: %v:\n%s", err, out.String())
	}

	// Slurm: sbatch --container with the bundle; the batch script runs inside.
	bundle := filepath.Join(c.Shared, "bundle")
	if _, err := ocibundle.Build(context.Background(), ocibundle.Options{Ref: pinned, Dir: bundle}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(bundle, 0o755); err != nil { // slurmstepd reads config.json as root; runc runs as the user
		t.Fatal(err)
	}
	script := filepath.Join(c.Shared, "job.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexec /hello 3 'it'\\''s'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	sb, err := exec.Command("sbatch", "--parsable", "--job-name=node-oci", "--partition="+c.Partition, "--container="+bundle,
		"--chdir=/", "--output="+filepath.Join(c.Shared, "oci-%j.out"), "--time=1", "--mem=64M", "--cpus-per-task=1", "--ntasks=1",
		script).CombinedOutput()
	if err != nil {
		t.Fatalf("sbatch --container: %v: %s", err, sb)
	}
	id := strings.TrimSpace(strings.Split(string(sb), ";")[0])
	t.Cleanup(func() { _ = exec.Command("scancel", id).Run() })
	ctl := waitFinal(t, id)
	if !strings.Contains(ctl, "JobState=FAILED") || !strings.Contains(ctl, "ExitCode=3:0") {
		t.Errorf("the container job: want JobState=FAILED ExitCode=3:0 (the image binary's exit code):\n%s", ctl)
	}
	got, _ := os.ReadFile(filepath.Join(c.Shared, "oci-"+id+".out"))
	if !strings.Contains(string(got), `hello from the verified image: ["3" "it's"]`) {
		t.Errorf("the container job's output:\n%s", got)
	}
}

// ociHelloBuild writes the workspace of a tiny image into ws: hello (the
// static binary of testdata/ocihello, built here) and root/bin with
// busybox as sh; it returns slipway build's arguments for an image FROM
// scratch of both, entrypoint /hello.
func ociHelloBuild(t *testing.T, ws string) []string {
	t.Helper()
	busybox := tools.Require(t, "busybox")
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(ws, "hello"), "./testdata/ocihello")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the image's binary: %v: %s", err, out)
	}
	root := filepath.Join(ws, "root", "bin")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	bb, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("busybox", filepath.Join(root, "sh")); err != nil {
		t.Fatal(err)
	}
	return []string{"--artifacts", "hello", "--source-date-epoch", "0", "--image-base", "scratch",
		"--image-root", "root", "--image-files", "hello", "--image-entrypoint", "/hello"}
}
