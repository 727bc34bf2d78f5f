package ociimage

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/registryref"
	"github.com/slipway/actions/internal/testutil/registry"
)

var created = time.Unix(1700000000, 0).UTC()

type file struct {
	name    string
	exec    bool
	content string
}

var appFiles = []file{{"app", true, "#!/bin/sh\necho hi\n"}, {"etc/app.conf", false, "x=1\n"}}

// build writes an image of files on base into a new layout directory.
func build(t *testing.T, base *Base, files []file, entrypoint ...string) Result {
	t.Helper()
	out := filepath.Join(t.TempDir(), "dist", "image")
	b, err := NewBuilder(out, base, Options{Entrypoint: entrypoint, Created: created})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort()
	for _, f := range files {
		w, err := b.Layer().File(f.name, f.exec, int64(len(f.content)))
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, f.content)
	}
	res, err := b.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func resolveBase(t *testing.T, ref, platform string) *Base {
	t.Helper()
	b, err := ResolveBase(context.Background(), BaseOptions{Ref: ref, Platform: platform})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readImage reads the one image of a layout with go-containerregistry and
// validates every digest in it.
func readImage(t *testing.T, dir string) v1.Image {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("layout %s holds %d manifests, want 1", dir, len(im.Manifests))
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(img); err != nil {
		t.Fatalf("the image does not validate: %v", err)
	}
	return img
}

func TestScratchImageIsReproducible(t *testing.T) {
	t.Parallel()
	base := resolveBase(t, "scratch", "linux/arm64/v8")
	first := build(t, base, appFiles, "/app")
	second := build(t, base, appFiles, "/app")
	if first.Digest != second.Digest || first.Size != second.Size {
		t.Fatalf("two builds gave %s and %s", first.Digest, second.Digest)
	}
	img := readImage(t, first.Layout)
	if d, _ := img.Digest(); d.String() != first.Digest.String() {
		t.Errorf("layout image digest %s, Result.Digest %s", d, first.Digest)
	}
	raw, err := os.ReadFile(first.ManifestPath)
	if err != nil || int64(len(raw)) != first.Size {
		t.Errorf("manifest blob %s: %d bytes, %v; want %d", first.ManifestPath, len(raw), err, first.Size)
	}
	mt, _ := img.MediaType()
	cfg, _ := img.ConfigFile()
	m, _ := img.Manifest()
	if mt != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON || len(m.Layers) != 1 || m.Layers[0].MediaType != types.OCILayer {
		t.Errorf("manifest types: %s, config %s, layers %+v; want OCI", mt, m.Config.MediaType, m.Layers)
	}
	if !slices.Equal(cfg.Config.Entrypoint, []string{"/app"}) || !cfg.Created.Time.Equal(created) ||
		cfg.OS != "linux" || cfg.Architecture != "arm64" || cfg.Variant != "v8" || len(cfg.History) != 1 || !cfg.History[0].Created.Time.Equal(created) {
		t.Errorf("config = %+v", cfg)
	}
	got := layerFiles(t, img)
	want := map[string]string{"app": "#!/bin/sh\necho hi\n", "etc/": "", "etc/app.conf": "x=1\n"}
	if len(got) != len(want) {
		t.Errorf("layer holds %q, want %q", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("layer file %q = %q, want %q", k, got[k], v)
		}
	}
}

// layerFiles returns the content of every entry in the image's last layer,
// checking the normalized headers.
func layerFiles(t *testing.T, img v1.Image) map[string]string {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for name, e := range readLayer(t, layers[len(layers)-1]) {
		out[name] = e.content
	}
	return out
}

// layerEntry is one entry of a layer's tar.
type layerEntry struct {
	typ     byte
	mode    int64
	link    string
	content string
}

// readLayer returns every entry of a layer, checking the normalized headers.
func readLayer(t *testing.T, l v1.Layer) map[string]layerEntry {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := map[string]layerEntry{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(created) || h.Uid != 0 || h.Gid != 0 {
			t.Errorf("layer entry %s: mtime %v owner %d:%d", h.Name, h.ModTime, h.Uid, h.Gid)
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = layerEntry{h.Typeflag, h.Mode, h.Linkname, string(b)}
	}
}

func TestLayoutBase(t *testing.T) {
	t.Parallel()
	base := build(t, resolveBase(t, "scratch", ""), appFiles, "/app", "--base")
	for _, ref := range []string{LayoutPrefix + base.Layout, base.Layout} {
		b := resolveBase(t, ref, "linux/amd64")
		res := build(t, b, []file{{"tool", true, "tool"}}, "/tool")
		img := readImage(t, res.Layout)
		layers, _ := img.Layers()
		cfg, _ := img.ConfigFile()
		if len(layers) != 2 || len(cfg.History) != 2 || !slices.Equal(cfg.Config.Entrypoint, []string{"/tool"}) {
			t.Errorf("%s: %d layers, history %d, entrypoint %q; want 2, 2, [/tool]", ref, len(layers), len(cfg.History), cfg.Config.Entrypoint)
		}
	}
	if _, err := ResolveBase(context.Background(), BaseOptions{Ref: base.Layout, Platform: "linux/arm64"}); err == nil || !strings.Contains(err.Error(), "no image for linux/arm64") {
		t.Errorf("ResolveBase(wrong platform) error = %v", err)
	}
}

// TestRegistryBase builds on Docker-typed images in a real registry over
// plain HTTP on loopback: a single image and a multi-platform index.
func TestRegistryBase(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	docker := mutate.MediaType(empty.Image, types.DockerManifestSchema2)
	docker = mutate.ConfigMediaType(docker, types.DockerConfigJSON)
	layer, err := random.Layer(1024, types.DockerLayer)
	if err != nil {
		t.Fatal(err)
	}
	docker, err = mutate.Append(docker, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: "base layer"}})
	if err != nil {
		t.Fatal(err)
	}
	docker, err = mutate.ConfigFile(docker, &v1.ConfigFile{OS: "linux", Architecture: "amd64", RootFS: v1.RootFS{Type: "layers", DiffIDs: mustDiffIDs(t, layer)},
		Config: v1.Config{Env: []string{"PATH=/bin"}, Cmd: []string{"sh"}}, History: []v1.History{{CreatedBy: "base layer"}}})
	if err != nil {
		t.Fatal(err)
	}
	push(t, addr+"/base:single", docker)
	arm, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	arm, _ = mutate.ConfigFile(arm, withPlatform(t, arm, "arm64"))
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: docker, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	ref, _ := registryref.Parse(addr + "/base:multi")
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}

	var digests []string
	for _, name := range []string{"single", "multi"} {
		res := build(t, resolveBase(t, addr+"/base:"+name, "linux/amd64"), appFiles, "/app")
		img := readImage(t, res.Layout)
		m, _ := img.Manifest()
		cfg, _ := img.ConfigFile()
		if len(m.Layers) != 2 || m.Layers[0].MediaType != types.OCILayer || m.Layers[0].Digest != mustDigest(t, layer) {
			t.Errorf("%s: layers %+v; want the base layer as OCI, then ours", name, m.Layers)
		}
		if !slices.Equal(cfg.Config.Env, []string{"PATH=/bin"}) || cfg.Config.Cmd != nil || len(cfg.History) != 2 {
			t.Errorf("%s: config %+v; want the base's env, no cmd, two history entries", name, cfg.Config)
		}
		digests = append(digests, res.Digest.String())
	}
	if digests[0] != digests[1] {
		t.Errorf("the same base by tag and through an index gave %s and %s", digests[0], digests[1])
	}
	if _, err := ResolveBase(context.Background(), BaseOptions{Ref: addr + "/base:single", Platform: "linux/arm64"}); err == nil ||
		!strings.Contains(err.Error(), "is for linux/amd64, not linux/arm64") || exitcode.Of(err) != exitcode.Usage {
		t.Errorf("ResolveBase(wrong platform) error = %v", err)
	}
	if _, err := ResolveBase(context.Background(), BaseOptions{Ref: addr + "/base:missing"}); err == nil || exitcode.Of(err) != exitcode.Usage {
		t.Errorf("ResolveBase(missing tag) error = %v (code %v), want bad input", err, exitcode.Of(err))
	}
}

func push(t *testing.T, ref string, img v1.Image) {
	t.Helper()
	r, err := registryref.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
}

func withPlatform(t *testing.T, img v1.Image, arch string) *v1.ConfigFile {
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", arch
	return cfg
}

func mustDiffIDs(t *testing.T, l v1.Layer) []v1.Hash {
	d, err := l.DiffID()
	if err != nil {
		t.Fatal(err)
	}
	return []v1.Hash{d}
}

func mustDigest(t *testing.T, l v1.Layer) v1.Hash {
	d, err := l.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestResolveBaseErrors(t *testing.T) {
	t.Parallel()
	notLayout := t.TempDir()
	tests := []struct{ ref, platform, want string }{
		{"scratch", "linux", `platform "linux" is not os/arch`},
		{"app:v1", "", `names no registry`},
		{LayoutPrefix + notLayout, "", "reading the OCI image layout"},
		{"127.0.0.1:1/base:v1", "", "fetching base image"},
	}
	for _, tc := range tests {
		_, err := ResolveBase(context.Background(), BaseOptions{Ref: tc.ref, Platform: tc.platform})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ResolveBase(%q) error = %v, want it to contain %q", tc.ref, err, tc.want)
		}
	}
}

func TestCommitReplacesAndAbortCleans(t *testing.T) {
	t.Parallel()
	base := resolveBase(t, "scratch", "")
	dir := t.TempDir()
	out := filepath.Join(dir, "image")
	if err := os.MkdirAll(filepath.Join(out, "stale"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := NewBuilder(out, base, Options{Created: created})
	if err != nil {
		t.Fatal(err)
	}
	w, _ := b.Layer().File("f", false, 1)
	io.WriteString(w, "x")
	if _, err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	b.Abort() // after Commit: must not touch the result
	if _, err := os.Stat(filepath.Join(out, "stale")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the old layout was not replaced: %v", err)
	}
	readImage(t, out)

	b, err = NewBuilder(filepath.Join(dir, "other"), base, Options{Created: created})
	if err != nil {
		t.Fatal(err)
	}
	w, _ = b.Layer().File("f", false, 1)
	io.WriteString(w, "x")
	b.Abort()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "image" {
		t.Errorf("after Abort the directory holds %v, want only image", entries)
	}
}
