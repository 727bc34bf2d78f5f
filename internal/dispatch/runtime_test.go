package dispatch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlanJobContainerRuntime: container-runtime and container-network are
// for image releases: a file artifact with either is refused before
// anything is submitted, naming the inputs to drop.
func TestPlanJobContainerRuntime(t *testing.T) {
	t.Parallel()
	for _, j := range []Job{{ContainerRuntime: "podman"}, {ContainerNetwork: "host"}} {
		work := t.TempDir()
		st := staged(t)
		st.Dir = filepath.Join(work, StateDir, "release-"+st.Release.ID)
		if err := os.MkdirAll(st.Dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(st.Dir, "run.sh"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		j.Slipway, j.Partition, j.Command, j.Artifact = "/opt/slipway", "debug", "true", "run.sh"
		if _, err := PlanJob(st, j, work); err == nil || !strings.Contains(err.Error(), "is not an OCI image: container-runtime and container-network") {
			t.Errorf("%+v for a file: %v, want it refused", j, err)
		}
	}
}
