package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/cli"
)

// TestSetup runs actions/setup under act: it copies /slipway out of the action image onto the runner's PATH
// (with podman, and with whichever CLI it finds first), the copy is byte for byte the image's binary, and an
// unknown container CLI fails the step.
func TestSetup(t *testing.T) {
	takeTurn(t)
	r := Run(t, Scenario{Workflow: "testdata/workflows/setup.yml"})
	r.RequireSuccess(t)

	want := fileDigest(t, filepath.Join("..", "bin", "slipway")).String() // what scripts/image put in the image
	for _, k := range []string{"podman-sha256", "auto-sha256", "file-sha256"} {
		if got := r.Value(t, k); got != want {
			t.Errorf("%s = %q, want %q (the image's /slipway)", k, got, want)
		}
	}
	path := r.Value(t, "auto-path")
	if got := r.Value(t, "which"); got != path {
		t.Errorf("command -v slipway = %q, want the installed %q", got, path)
	}
	if tmp := r.Value(t, "runner-temp"); tmp == "" || !strings.HasPrefix(path, tmp+"/") {
		t.Errorf("installed at %q, want under RUNNER_TEMP %q", path, tmp)
	}
	if got := r.Value(t, "runs"); !strings.HasPrefix(got, "slipway ") || got != r.Value(t, "auto-version") {
		t.Errorf("slipway --version on the runner = %q, version output %q", got, r.Value(t, "auto-version"))
	}
	out, err := exec.Command(requireEnv(t).podman, "image", "inspect", "--format", "{{.Id}}", image).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimPrefix(r.Value(t, "auto-image-id"), "sha256:"), strings.TrimSpace(string(out)); got != want {
		t.Errorf("image-id = %q, want %q", got, want)
	}
	if got := r.Value(t, "auto-checked"); got != "false" {
		t.Errorf("checked = %q on main, want false (a moving tag cannot be checked)", got)
	}
	if !r.Logged("is a moving tag (this is main, not a release)") {
		t.Errorf("setup does not warn that main's binary is not checked")
	}
	if got := r.Value(t, "bad-outcome"); got != "failure" {
		t.Errorf("container-cli: nerdctl: outcome %q, want failure", got)
	}
	if !r.Logged(`container-cli "nerdctl" is not supported`) {
		t.Errorf("the failing step does not say why")
	}
}

// TestOneImage checks that actions/setup and every Docker action take their image from actions/image.env, that
// on main it is the image the harness builds, and that the image is configured as GitHub needs: no USER (root),
// and an entrypoint that switches to the workspace's owner.
func TestOneImage(t *testing.T) {
	takeTurn(t)
	pin, err := cli.ReadPin("..")
	if err != nil {
		t.Fatal(err)
	}
	if pin.Image != image || pin.Pinned() {
		t.Errorf("actions/image.env names %q; on main it must be %s (what scripts/image builds)", pin.Image, image)
	}
	data, err := os.ReadFile(filepath.Join("..", "actions", "setup", "install.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `pin="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}/../image.env"`) {
		t.Errorf("actions/setup/install.sh does not read actions/image.env")
	}
	actions, err := filepath.Glob(filepath.Join("..", "actions", "*", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range append(actions, filepath.Join("..", "action.yml")) {
		data, err := os.ReadFile(a)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "using: docker") && !strings.Contains(string(data), `image: "docker://`+pin.Image+`"`) {
			t.Errorf("%s runs another image than %s", a, pin.Image)
		}
	}

	env := requireEnv(t)
	ensureImage(t, env)
	out, err := exec.Command(env.podman, "image", "inspect", "--format", "{{json .Config.User}} {{json .Config.Entrypoint}}", image).CombinedOutput()
	if err != nil {
		t.Fatalf("podman image inspect: %v\n%s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), `"" ["/slipway","--as-workspace-owner"]`; got != want {
		t.Errorf("image user and entrypoint = %s, want %s", got, want)
	}
}

// TestSetupChecksBinary runs actions/setup's install.sh as a release commit has it: actions/image.env pins the
// image by digest and records its binary's SHA-256. The right digest installs the binary (checked=true); a
// wrong one fails the step, says why, and installs nothing; a digest without a binary digest is refused.
func TestSetupChecksBinary(t *testing.T) {
	takeTurn(t)
	env := requireEnv(t)
	ensureImage(t, env)
	out, err := exec.Command(env.podman, "image", "inspect", "--format", "{{.Digest}}", image).Output()
	if err != nil {
		t.Fatal(err)
	}
	pinned := strings.SplitN(image, ":", 2)[0] + "@" + strings.TrimSpace(string(out)) // ghcr.io/slipway/actions@sha256:…
	binary := fileDigest(t, filepath.Join("..", "bin", "slipway")).String()
	other := "sha256:" + strings.Repeat("0", 64)

	for _, tc := range []struct {
		name, pin, want string
		ok              bool
	}{
		{"release", "image=" + pinned + "\nslipway-sha256=" + binary + "\n", "checked=true", true},
		{"wrong binary", "image=" + pinned + "\nslipway-sha256=" + other + "\n",
			"has " + binary + ", but this release recorded " + other + " in actions/image.env", false},
		{"no binary digest", "image=" + pinned + "\nslipway-sha256=\n", "records no slipway-sha256", false},
		{"unknown line", "image=" + pinned + "\nslipway-sha256=" + binary + "\nuser=1001\n", `unexpected line "user=1001"`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			action := filepath.Join(dir, "actions", "setup")
			mustMkdir(t, action)
			copyFile(t, filepath.Join("..", "actions", "setup", "install.sh"), filepath.Join(action, "install.sh"), 0o755)
			if err := os.WriteFile(filepath.Join(dir, "actions", "image.env"), []byte(tc.pin), 0o644); err != nil {
				t.Fatal(err)
			}
			log, installed, err := setupStep(t, env, action)
			if (err == nil) != tc.ok {
				t.Fatalf("install.sh: %v, want success %v\n%s", err, tc.ok, log)
			}
			if !strings.Contains(log, tc.want) {
				t.Errorf("install.sh said and output %q, want %q", log, tc.want)
			}
			if _, err := os.Stat(installed); (err == nil) != tc.ok {
				t.Errorf("installed binary: %v, want it only on success", err)
			}
			if !tc.ok && !strings.Contains(log, "::error title=slipway setup::") {
				t.Errorf("the failure is not an error annotation: %s", log)
			}
		})
	}
}

// setupStep runs actions/setup's install.sh from the action directory action, as the runner runs the step, with
// podman. It returns what the step printed followed by what it wrote to $GITHUB_OUTPUT, the path the binary is
// installed at, and the step's error.
func setupStep(t *testing.T, m machine, action string) (string, string, error) {
	t.Helper()
	dir := t.TempDir()
	temp, output := filepath.Join(dir, "temp"), filepath.Join(dir, "output")
	cmd := exec.Command(filepath.Join(action, "install.sh"))
	cmd.Env = []string{"PATH=" + filepath.Dir(m.podman) + ":" + systemPath, "HOME=" + dir,
		"GITHUB_ACTION_PATH=" + action, "RUNNER_TEMP=" + temp, "GITHUB_OUTPUT=" + output,
		"GITHUB_PATH=" + filepath.Join(dir, "path"), "SLIPWAY_CONTAINER_CLI=podman"}
	log, err := cmd.CombinedOutput()
	got, _ := os.ReadFile(output)
	return string(log) + string(got), filepath.Join(temp, "slipway", "bin", "slipway"), err
}
