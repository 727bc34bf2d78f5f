package scan

import (
	"os"
	"testing"

	"golang.org/x/mod/modfile"
)

// TestGrypeVersion: the version the statement names is the one go.mod
// requires (and so the one linked).
func TestGrypeVersion(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	f, err := modfile.ParseLax("go.mod", b, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range f.Require {
		if r.Mod.Path == grypeModule {
			if r.Mod.Version != grypeVersion {
				t.Fatalf("go.mod requires %s %s, grypeVersion says %s: update predicate.go", grypeModule, r.Mod.Version, grypeVersion)
			}
			return
		}
	}
	t.Fatalf("go.mod does not require %s", grypeModule)
}
