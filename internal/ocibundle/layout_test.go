package ocibundle

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// writeLayout writes a random image of two layers into a new OCI image
// layout and returns the layout, the manifest digest and a layer's digest.
func writeLayout(t *testing.T) (dir, manifest, layerHex string) {
	t.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(t.TempDir(), "image")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	ls, _ := img.Layers()
	ld, _ := ls[1].Digest()
	return dir, d.String(), ld.Hex
}

func TestBuildLayout(t *testing.T) {
	t.Parallel()
	dir, d, _ := writeLayout(t)
	work := t.TempDir()
	raw, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:")))
	if err != nil {
		t.Fatal(err)
	}
	for name, given := range map[string][]byte{"manifest read from the layout": nil, "manifest given": raw} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bdir := filepath.Join(t.TempDir(), "bundle")
			b, err := BuildLayout(context.Background(), LayoutOptions{Layout: dir, Digest: d, Manifest: given, Options: Options{
				Dir: bdir, Args: []string{"/run"}, Env: []string{"PATH=/opt/bin", "A=1"}, WorkDir: work}})
			if err != nil {
				t.Fatal(err)
			}
			if b.Digest != d || b.Layers != 2 || !slices.Equal(b.Args, []string{"/run"}) {
				t.Errorf("bundle %+v", b)
			}
			var s spec
			raw, _ := os.ReadFile(filepath.Join(bdir, "config.json"))
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatal(err)
			}
			last := s.Mounts[len(s.Mounts)-1]
			if s.Process.Cwd != work || last.Source != work || last.Destination != work || !slices.Contains(s.Process.Env, "PATH=/opt/bin") || !slices.Contains(s.Process.Env, "A=1") {
				t.Errorf("config.json: %s", raw)
			}
		})
	}
}

func TestBuildLayoutRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, check, want string
		change            func(t *testing.T, dir, layerHex string) // the layout
		digest            func(d string) string
	}{
		{name: "a layer changed", check: "layer", want: "the manifest says",
			change: func(t *testing.T, dir, hex string) {
				p := filepath.Join(dir, "blobs", "sha256", hex)
				os.Chmod(p, 0o644)
				if err := os.WriteFile(p, []byte("not the layer"), 0o644); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "a layer missing", check: "layer", want: "is not in the image layout",
			change: func(t *testing.T, dir, hex string) { os.Remove(filepath.Join(dir, "blobs", "sha256", hex)) }},
		{name: "another manifest digest", check: "manifest", want: "is not in the image layout",
			digest: func(string) string { return "sha256:" + strings.Repeat("0", 64) }},
		{name: "a layer is a directory", check: "layer", want: "not a regular file",
			change: func(t *testing.T, dir, hex string) {
				p := filepath.Join(dir, "blobs", "sha256", hex)
				os.Remove(p)
				os.Mkdir(p, 0o755)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, d, hex := writeLayout(t)
			if tc.change != nil {
				tc.change(t, dir, hex)
			}
			if tc.digest != nil {
				d = tc.digest(d)
			}
			bdir := filepath.Join(t.TempDir(), "bundle")
			_, err := BuildLayout(context.Background(), LayoutOptions{Layout: dir, Digest: d, Options: Options{Dir: bdir, Args: []string{"/x"}}})
			var e *Error
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &e) || e.Check != tc.check {
				t.Fatalf("got %v, want check %q saying %q", err, tc.check, tc.want)
			}
			if tc.name == "a layer changed" && !strings.Contains(err.Error(), "sha256:"+hex) {
				t.Errorf("the refusal does not name the manifest's layer digest: %v", err)
			}
			if _, err := os.Stat(bdir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the bundle directory stays after a refusal: %v", err)
			}
		})
	}
}
