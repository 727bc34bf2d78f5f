package build

import (
	"os"
	"path/filepath"
	"testing"
)

// TestImageRoot builds an image from a root tree (image-root) and an artifact: the tree is the first layer,
// with its links and its sticky directory; the artifact is the second; the tree's files are not artifacts.
func TestImageRoot(t *testing.T) {
	t.Parallel()
	dir := workspace(t, map[string]string{"build/app*": "app", "root/bin/busybox*": "bb", "root/etc/ca.crt": "ca"})
	for _, d := range []string{"root/tmp", "root/empty"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "root/tmp"), os.ModeSticky|0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("busybox", filepath.Join(dir, "root/bin/sh")); err != nil {
		t.Fatal(err)
	}
	o := options(dir, "build/app")
	o.Image = ImageOptions{Base: "scratch", Root: "root", Entrypoint: []string{"/app"}}
	res := run(t, o)
	if got := names(res.Manifest.Records); got != "build/app dist/image" {
		t.Errorf("records = %q: the root tree's files are not artifacts", got)
	}
	layers, _ := layoutImage(t, filepath.Join(dir, "dist", "image")).Layers()
	if len(layers) != 2 {
		t.Fatalf("image has %d layers, want the root tree's and the artifact's", len(layers))
	}
	if got, want := layerNames(t, layers[0]), "bin/ bin/busybox:755 bin/sh empty/ etc/ etc/ca.crt:644 tmp/"; got != want {
		t.Errorf("root layer = %q, want %q", got, want)
	}
	if got := layerNames(t, layers[1]); got != "app:755" {
		t.Errorf("files layer = %q, want app:755", got)
	}
}
