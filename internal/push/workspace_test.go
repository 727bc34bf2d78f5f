package push

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
)

// TestPathsOutsideTheWorkspace: no subject, manifest or file a manifest
// names is read from outside the workspace, however it gets there (a "..",
// an absolute path, a symbolic link, a glob match that is a link, a
// manifest record): bad input (exit 2) before anything is sent. Before the
// paths were resolved through package workspace, each of these was pushed
// (the registry here is unreachable, so it failed with exit 3 instead).
func TestPathsOutsideTheWorkspace(t *testing.T) {
	t.Parallel()
	top := t.TempDir()
	outside := writeFile(t, top, "outside/secret.txt", []byte("not yours"))
	ws := filepath.Join(top, "ws")
	writeFile(t, ws, "dist/app", []byte("app"))
	if err := os.Symlink(outside, filepath.Join(ws, "dist", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(ws, "links"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(ws, "links", "secret")); err != nil {
		t.Fatal(err)
	}
	lp, err := layout.Write(filepath.Join(top, "outside", "layout"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(testImage(t, 100)); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(top, "outside", "layout"), filepath.Join(ws, "layout")); err != nil {
		t.Fatal(err)
	}
	// A manifest inside the workspace whose record points outside it.
	d, n, err := digest.File(outside)
	if err != nil {
		t.Fatal(err)
	}
	m := artifact.NewManifest()
	m.Add(artifact.Record{Name: "dist/app", Path: "../outside/secret.txt", Digest: d, Size: n, MediaType: "text/plain", Role: artifact.RoleArtifact})
	// Written by hand, as an attacker would: WriteFile refuses it.
	evil, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, ws, "evil.json", evil)
	m.Records[0].Path = "dist/app"
	if err := m.WriteFile(filepath.Join(top, "outside", "manifest.json")); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		subject  []string
		manifest string
		want     string
	}{
		{"dot-dot subject", []string{"../outside/secret.txt"}, "", `subject "../outside/secret.txt"`},
		{"absolute subject", []string{outside}, "", "is outside the workspace"},
		{"symbolic link subject", []string{"dist/link"}, "", `subject "dist/link"`},
		{"glob matching a link", []string{"links/*"}, "", `subject "links/*"`},
		{"layout through a link", []string{"oci-layout:layout"}, "", `subject "oci-layout:layout"`},
		{"manifest outside", nil, filepath.Join(top, "outside", "manifest.json"), `input "manifest"`},
		{"manifest record outside", nil, "evil.json", `record "dist/app": field "path" "../outside/secret.txt" leaves the workspace`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := opts(t, ws, "127.0.0.1:1/slipway/exfiltrate:v1")
			var err error
			if o.Subject, err = ParseSubject(tc.subject); err != nil {
				t.Fatal(err)
			}
			o.Manifest = tc.manifest
			_, err = Push(context.Background(), o)
			if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Push() = exit %d, %v; want exit 2 naming %q", exitcode.Of(err), err, tc.want)
			}
			if !strings.Contains(err.Error(), "workspace") {
				t.Errorf("error %q should say that the path leaves the workspace", err)
			}
		})
	}
}

// TestLinksInsideTheWorkspace: a symbolic link that stays inside the
// workspace is followed; the file keeps the name it was given.
func TestLinksInsideTheWorkspace(t *testing.T) {
	t.Parallel()
	addr := startRegistry(t)
	ws := t.TempDir()
	writeFile(t, ws, "build/app", []byte("app"))
	if err := os.MkdirAll(filepath.Join(ws, "dist"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../build/app", filepath.Join(ws, "dist", "app")); err != nil {
		t.Fatal(err)
	}
	res, err := Push(context.Background(), opts(t, ws, addr+"/slipway/links:v1", "dist/app"))
	if err != nil {
		t.Fatal(err)
	}
	if f := res.Files[0]; f.Name != "dist/app" || f.Path != filepath.Join(ws, "build", "app") {
		t.Errorf("file = %q read from %q, want dist/app read from build/app", f.Name, f.Path)
	}
}
