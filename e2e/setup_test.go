package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSetup runs actions/setup under act: it copies /slipway out of the action image onto the runner's PATH
// (with podman, and with whichever CLI it finds first), the copy is byte for byte the image's binary, and an
// unknown container CLI fails the step.
func TestSetup(t *testing.T) {
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
	if got := r.Value(t, "bad-outcome"); got != "failure" {
		t.Errorf("container-cli: nerdctl: outcome %q, want failure", got)
	}
	if !r.Logged(`container-cli "nerdctl" is not supported`) {
		t.Errorf("the failing step does not say why")
	}
}

// TestOneImage checks that actions/setup (written by hand) copies the binary out of the image that every Docker
// action runs, and that the harness builds that image.
func TestOneImage(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "actions", "setup", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `SLIPWAY_IMAGE: "`+image+`"`) {
		t.Errorf("actions/setup/action.yml does not name the image %s", image)
	}
	actions, err := filepath.Glob(filepath.Join("..", "actions", "*", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range actions {
		data, err := os.ReadFile(a)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "using: docker") && !strings.Contains(string(data), `image: "docker://`+image+`"`) {
			t.Errorf("%s runs another image than %s", a, image)
		}
	}
}
