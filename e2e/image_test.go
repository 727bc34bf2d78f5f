package e2e

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImage runs the action image under act the way every action runs it (a Docker action naming
// docker://ghcr.io/slipway/actions:main): its busybox shell builds the sample project as root (GitHub runs
// Docker actions as the image's default user, and the image sets no USER) in the workspace, /tmp is
// writable, and /slipway answers --version.
func TestImage(t *testing.T) {
	takeTurn(t)
	r := Run(t, Scenario{Workflow: "testdata/workflows/image.yml"})
	r.RequireSuccess(t)

	if got := r.Value(t, "uid"); got != "0:0" {
		t.Errorf("uid:gid in the action container = %q, want 0:0", got)
	}
	if got := r.Value(t, "shell"); got != "busybox" {
		t.Errorf("/bin/sh links to %q, want busybox", got)
	}
	if got := r.Value(t, "tmp"); !strings.HasPrefix(got, "/tmp/") {
		t.Errorf("mktemp made %q, want a file under /tmp", got)
	}
	if got, want := r.Value(t, "hello"), "Hello, e2e! (hello 1.0.0)"; got != want {
		t.Errorf("the built program printed %q, want %q", got, want)
	}
	if got := r.Value(t, "version"); !strings.HasPrefix(got, "slipway ") {
		t.Errorf("/slipway --version printed %q, want slipway <version> ...", got)
	}
	if got := r.Output("image", "shell", "uid"); got != "0:0" {
		t.Errorf("step output shell.uid parsed from act's log = %q, want 0:0", got)
	}
	// The program built in the container is exactly build.sh's concatenation of the sources.
	want := "#!/bin/sh\nHELLO_VERSION=1.0.0\n" + string(readFile(t, "testdata/sample/src/greet.sh")) + string(readFile(t, "testdata/sample/src/main.sh"))
	if got := string(readFile(t, r.OutPath("hello"))); got != want {
		t.Errorf("dist/hello built in the container = %q, want %q", got, want)
	}
}

// TestWorkspaceOwner runs the build action for a runner whose user is uid 4242, not the 1001 of GitHub-hosted
// runners (a self-hosted HPC headnode): act, the workspace, the run: steps and $GITHUB_OUTPUT are that user's,
// the action container starts as root. slipway becomes 4242:4242 before the stage runs, so the build command
// runs as the runner's user, the outputs reach $GITHUB_OUTPUT, nothing in the workspace belongs to root, and
// the next run: step can remove what the action wrote. (With the former USER 1001 the action could not write
// the workspace at all; as plain root, the run: step could not remove dist/.)
func TestWorkspaceOwner(t *testing.T) {
	takeTurn(t)
	const owner = "4242:4242"
	r := Run(t, Scenario{Workflow: "testdata/workflows/owner.yml", RunnerUID: 4242})
	r.RequireSuccess(t)
	for k, want := range map[string]string{"runner": owner, "command": owner, "owners": owner + " ", "root-owned": "", "removed": "yes"} {
		if got := r.Value(t, k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if r.Value(t, "manifest") == "" {
		t.Error("the build action's manifest output did not reach $GITHUB_OUTPUT")
	}
	if !r.Logged("slipway: running as " + owner + ", the owner of the workspace") {
		t.Error("slipway did not say it switched to the workspace's owner")
	}
}

// TestDockerfileAgrees builds the Dockerfile's prebuilt target from the files scripts/image prepared and checks
// that it is the image slipway build assembled: the same user (none: root), entrypoint, and tree of /bin, /usr,
// /etc/ssl, /tmp and /slipway (names, types, modes, owners, link targets).
func TestDockerfileAgrees(t *testing.T) {
	takeTurn(t)
	env := requireEnv(t)
	ensureImage(t, env)
	const tag = "localhost/slipway-e2e-dockerfile:prebuilt"
	unlock := lockMachine(t, false)
	out, err := exec.Command(env.podman, "build", "--quiet", "--target", "prebuilt", "-t", tag, env.repoRoot).CombinedOutput()
	unlock()
	if err != nil {
		t.Fatalf("podman build --target prebuilt: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command(env.podman, "rmi", tag).Run() })
	describe := func(img string) string {
		t.Helper()
		cfg, err := exec.Command(env.podman, "image", "inspect", "--format", "{{json .Config.User}} {{json .Config.Entrypoint}}", img).CombinedOutput()
		if err != nil {
			t.Fatalf("podman image inspect %s: %v\n%s", img, err, cfg)
		}
		tree, err := exec.Command(env.podman, "run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", img, "-c",
			"find /bin /usr /etc/ssl /tmp /slipway -exec stat -c '%n %F %a %u:%g %N' {} + | sort").CombinedOutput()
		if err != nil {
			t.Fatalf("listing %s: %v\n%s", img, err, tree)
		}
		return string(cfg) + string(tree)
	}
	got, want := describe(tag), describe(image)
	if got != want {
		t.Errorf("the Dockerfile's image differs from slipway build's:\n--- Dockerfile (prebuilt)\n%s\n--- scripts/image\n%s", got, want)
	}
	if !strings.Contains(want, "/tmp directory 1777 0:0") || !strings.Contains(want, "'/bin/sh' -> 'busybox'") {
		t.Errorf("the image tree lacks /tmp 1777 or the /bin/sh link:\n%s", want)
	}
}
