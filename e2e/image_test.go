package e2e

import (
	"strings"
	"testing"
)

// TestImage runs the action image under act the way every action runs it (a Docker action naming
// docker://ghcr.io/slipway/actions:v1): its busybox shell builds the sample project as uid 1001 in the
// workspace, /tmp is writable, and /slipway answers --version.
func TestImage(t *testing.T) {
	r := Run(t, Scenario{Workflow: "testdata/workflows/image.yml"})
	r.RequireSuccess(t)

	if got := r.Value(t, "uid"); got != "1001:1001" {
		t.Errorf("uid:gid in the action container = %q, want 1001:1001", got)
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
	if got := r.Output("image", "shell", "uid"); got != "1001:1001" {
		t.Errorf("step output shell.uid parsed from act's log = %q, want 1001:1001", got)
	}
	// The program built in the container is exactly build.sh's concatenation of the sources.
	want := "#!/bin/sh\nHELLO_VERSION=1.0.0\n" + string(readFile(t, "testdata/sample/src/greet.sh")) + string(readFile(t, "testdata/sample/src/main.sh"))
	if got := string(readFile(t, r.OutPath("hello"))); got != want {
		t.Errorf("dist/hello built in the container = %q, want %q", got, want)
	}
}
