package sbom

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/testutil/tools"
)

// TestSyftCLIInterop compares the components we find with those of the
// real syft CLI (the same version, built by scripts/setup) on the same
// inputs: a Go binary, a lock file and the fixture directory. Both must list
// the same name, version and purl for every component.
func TestSyftCLIInterop(t *testing.T) {
	t.Parallel()
	syftBin := tools.Require(t, "syft")
	dir := t.TempDir()
	buildGoBinary(t, dir)
	project, err := filepath.Abs(filepath.Join("testdata", "project"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, subject, syftInput string
	}{
		{"go binary", filepath.Join(dir, "tiny"), "file:" + filepath.Join(dir, "tiny")},
		{"lock file", filepath.Join(project, "package-lock.json"), "file:" + filepath.Join(project, "package-lock.json")},
		{"directory", project, "dir:" + project},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := t.TempDir()
			ours := filepath.Join(out, "ours.cdx.json")
			if _, err := Generate(context.Background(), Options{Subject: tc.subject, Output: ours, Dir: out}); err != nil {
				t.Fatal(err)
			}
			theirs := filepath.Join(out, "syft.cdx.json")
			cmd := syftCommand(t, syftBin, "scan", tc.syftInput, "-q", "-o", "cyclonedx-json="+theirs)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("syft scan %s: %v\n%s", tc.syftInput, err, b)
			}
			got, want := componentSet(t, ours), componentSet(t, theirs)
			if !slices.Equal(got, want) {
				t.Errorf("components differ from syft scan %s:\n ours: %v\nsyft: %v", tc.syftInput, got, want)
			}
			if len(want) == 0 {
				t.Errorf("syft found no components in %s; the fixture is wrong", tc.syftInput)
			}
		})
	}
}

// syftCommand runs the syft CLI as quiet and offline as our library use: no
// update check, and a configuration file of its own, so that none from the
// user's home or the working directory changes the catalogers.
func syftCommand(t testing.TB, bin string, args ...string) *exec.Cmd {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "syft.yaml")
	if err := os.WriteFile(cfg, []byte("check-for-app-update: false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"-c", cfg}, args...)...)
	cmd.Env = append(os.Environ(), "SYFT_CHECK_FOR_APP_UPDATE=false")
	return cmd
}

// componentSet returns "name version purl" of every component, sorted.
func componentSet(t testing.TB, path string) []string {
	t.Helper()
	bom := decodeCDX(t, path)
	var out []string
	if bom.Components != nil {
		for _, c := range *bom.Components {
			out = append(out, strings.Join([]string{c.Name, c.Version, c.PackageURL}, " "))
		}
	}
	slices.Sort(out)
	return out
}
