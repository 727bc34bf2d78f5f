package sbom

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/exitcode"
)

func TestSubjects(t *testing.T) {
	t.Parallel()
	ws := t.TempDir()
	for _, f := range []string{"dist/a.bin", "dist/b.bin", "dist/sub/c.bin", "src/x.go"} {
		mustWrite(t, filepath.Join(ws, f), f)
	}
	manifest := writeManifest(t, ws, "dist/b.bin", "dist/a.bin")
	tests := []struct {
		name     string
		entries  []string
		manifest string
		want     []string
		err      string
	}{
		{"paths and schemes as given", []string{"dist", "registry:127.0.0.1:5000/a:v1", "src/x.go"}, "", []string{"dist", "registry:127.0.0.1:5000/a:v1", "src/x.go"}, ""},
		{"globs select files", []string{"dist/**/*.bin", "!dist/b.bin"}, "", []string{"file:dist/a.bin", "file:dist/sub/c.bin"}, ""},
		{"no repeats", []string{"file:dist/a.bin", "dist/*.bin"}, "", []string{"file:dist/a.bin", "file:dist/b.bin"}, ""},
		{"manifest: every artifact in its order", nil, manifest, []string{"file:dist/b.bin", "file:dist/a.bin"}, ""},
		{"nothing", nil, "", nil, "no subject given"},
		{"glob matching nothing", []string{"*.iso"}, "", nil, "matched no files"},
		{"glob leaving the workspace", []string{"../*"}, "", nil, "subject:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Subjects(context.Background(), tc.entries, tc.manifest, ws)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || exitcode.Of(err) != exitcode.Usage {
					t.Fatalf("Subjects() = %v, %v (exit %d); want exit 2 with %q", got, err, exitcode.Of(err), tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("Subjects() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
