package ociimage

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/slipway/actions/internal/exitcode"
)

// rootTree lays out what scripts/image-root puts in the action image, in small: a sticky /tmp, an executable
// and links to it, a link out of the tree (resolved in the image only), a CA file.
func rootTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"tmp", "bin", "usr/bin", "etc/ssl/certs", "empty"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), os.ModeSticky|0o777); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "bin", "busybox"), []byte("#!busybox\n"), 0o700))
	must(os.WriteFile(filepath.Join(dir, "etc/ssl/certs/ca-certificates.crt"), []byte("CA\n"), 0o600))
	must(os.Symlink("busybox", filepath.Join(dir, "bin", "sh")))
	must(os.Symlink("../../bin/busybox", filepath.Join(dir, "usr/bin/env")))
	must(os.Symlink("/etc/hostname", filepath.Join(dir, "etc", "hostname")))
	return dir
}

// TestAddRoot builds an image from a root tree and a file: the tree is a layer of its own below the files',
// keeping links, the sticky /tmp and empty directories, with normalized modes; and two builds give one digest.
func TestAddRoot(t *testing.T) {
	t.Parallel()
	tree := rootTree(t)
	buildWithRoot := func() Result {
		out := filepath.Join(t.TempDir(), "image")
		b, err := NewBuilder(out, resolveBase(t, "scratch", "linux/amd64"), Options{Entrypoint: []string{"/app"}, Created: created})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Abort()
		if err := b.AddRoot(context.Background(), tree); err != nil {
			t.Fatal(err)
		}
		w, err := b.Layer().File("app", true, 2)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, "hi")
		res, err := b.Commit()
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first, second := buildWithRoot(), buildWithRoot()
	if first.Digest != second.Digest {
		t.Fatalf("two builds gave %s and %s", first.Digest, second.Digest)
	}
	img := readImage(t, first.Layout)
	layers, err := img.Layers()
	if err != nil || len(layers) != 2 {
		t.Fatalf("image has %d layers (%v), want the root tree's and the files'", len(layers), err)
	}
	cfg, _ := img.ConfigFile()
	if len(cfg.History) != 2 || cfg.History[0].CreatedBy != "slipway build: image root" || cfg.History[1].CreatedBy != "slipway build" {
		t.Errorf("history = %+v", cfg.History)
	}
	got := readLayer(t, layers[0])
	want := map[string]layerEntry{
		"bin/":                              {tar.TypeDir, 0o755, "", ""},
		"bin/busybox":                       {tar.TypeReg, 0o755, "", "#!busybox\n"},
		"bin/sh":                            {tar.TypeSymlink, 0o777, "busybox", ""},
		"empty/":                            {tar.TypeDir, 0o755, "", ""},
		"etc/":                              {tar.TypeDir, 0o755, "", ""},
		"etc/hostname":                      {tar.TypeSymlink, 0o777, "/etc/hostname", ""},
		"etc/ssl/":                          {tar.TypeDir, 0o755, "", ""},
		"etc/ssl/certs/":                    {tar.TypeDir, 0o755, "", ""},
		"etc/ssl/certs/ca-certificates.crt": {tar.TypeReg, 0o644, "", "CA\n"},
		"tmp/":                              {tar.TypeDir, 0o1777, "", ""},
		"usr/":                              {tar.TypeDir, 0o755, "", ""},
		"usr/bin/":                          {tar.TypeDir, 0o755, "", ""},
		"usr/bin/env":                       {tar.TypeSymlink, 0o777, "../../bin/busybox", ""},
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("root layer %s = %+v, want %+v", name, got[name], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("root layer holds %d entries, want %d: %v", len(got), len(want), got)
	}
	if files := layerFiles(t, img); len(files) != 1 || files["app"] != "hi" {
		t.Errorf("files layer = %v, want only app", files)
	}
}

func TestAddRootRefuses(t *testing.T) {
	t.Parallel()
	fifoTree := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(fifoTree, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, dir, want string }{
		{"fifo", fifoTree, `"pipe" is a p---------, not a file, directory or symbolic link`},
		{"not a directory", notDir, "it must be a directory"},
		{"missing", filepath.Join(t.TempDir(), "nope"), "it must be a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := NewBuilder(filepath.Join(t.TempDir(), "image"), resolveBase(t, "scratch", "linux/amd64"), Options{Created: created})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Abort()
			err = b.AddRoot(context.Background(), tc.dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("AddRoot = %v, want an error containing %q", err, tc.want)
			}
			if exitcode.Of(err) != exitcode.Usage {
				t.Errorf("exit code of %v is %v, want bad input", err, exitcode.Of(err))
			}
		})
	}
}
