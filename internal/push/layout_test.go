package push

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/slipway/actions/internal/exitcode"
)

// testImage is an OCI image with two layers: gzipped tarballs of random
// files.
func testImage(t testing.TB, size int64) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	var layers []v1.Layer
	for _, n := range []int64{size, 100} {
		l, err := random.Layer(n, types.OCILayer)
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, l)
	}
	img, err := mutate.AppendLayers(img, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func digestOf(t testing.TB, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestPushLayoutImage pushes an image from an OCI layout; the registry then
// serves the same image, byte for byte.
func TestPushLayoutImage(t *testing.T) {
	t.Parallel()
	addr := startRegistry(t)
	dir := t.TempDir()
	p, err := layout.Write(filepath.Join(dir, "image"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	img := testImage(t, 2<<20)
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	o := opts(t, dir, addr+"/slipway/image:v1")
	o.Subject, err = ParseSubject([]string{"oci-layout:image"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Push(context.Background(), o)
	if err != nil {
		t.Fatalf("Push() error = %v", err)
	}
	want := digestOf(t, img)
	if res.Digest.String() != want.String() || res.MediaType != string(types.OCIManifestSchema1) || res.Files != nil {
		t.Errorf("result = %s %s, want %s", res.Digest, res.MediaType, want)
	}
	ref, _ := name.ParseReference(res.Tag, name.Insecure)
	got, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	if d := digestOf(t, got); d != want {
		t.Errorf("remote.Image digest = %s, want the layout's %s", d, want)
	}
	// Reads every blob back and checks it against its digest and size.
	if err := validate.Image(got); err != nil {
		t.Errorf("pulled image does not validate: %v", err)
	}

	again, err := Push(context.Background(), o)
	if err != nil || again.Status != AlreadyPresent {
		t.Errorf("second push = %+v, %v; want %q", again, err, AlreadyPresent)
	}
}

// TestPushLayoutIndex pushes an index (two images) from an OCI layout.
func TestPushLayoutIndex(t *testing.T) {
	t.Parallel()
	addr := startRegistry(t)
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: testImage(t, 1000), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: testImage(t, 2000), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	if err := p.AppendIndex(idx); err != nil {
		t.Fatal(err)
	}
	o := opts(t, dir, addr+"/slipway/index:v1")
	o.Subject = Subject{Layout: "."}
	res, err := Push(context.Background(), o)
	if err != nil {
		t.Fatalf("Push() error = %v", err)
	}
	want := digestOf(t, idx)
	ref, _ := name.ParseReference(res.Tag, name.Insecure)
	got, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	if d := digestOf(t, got); d != want || res.Digest.String() != want.String() || res.MediaType != string(types.OCIImageIndex) {
		t.Errorf("remote.Index digest = %s, result %s, want %s", d, res.Digest, want)
	}
	im, _ := got.IndexManifest()
	for _, m := range im.Manifests {
		child, err := got.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate.Image(child); err != nil {
			t.Errorf("child %s: %v", m.Digest, err)
		}
	}
}

// TestLayoutSelection: a layout with several manifests needs a selector.
func TestLayoutSelection(t *testing.T) {
	t.Parallel()
	addr := startRegistry(t)
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	one, two := testImage(t, 10), testImage(t, 20)
	if err := p.AppendImage(one, layout.WithAnnotations(map[string]string{AnnotationRefName: "one"})); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(two, layout.WithAnnotations(map[string]string{AnnotationRefName: "two"})); err != nil {
		t.Fatal(err)
	}
	push := func(sel string) (*Result, error) {
		o := opts(t, dir, addr+"/slipway/select:"+strings.NewReplacer(":", "-", "@", "").Replace(sel+"x"))
		o.Subject = Subject{Layout: ".", Select: sel}
		return Push(context.Background(), o)
	}
	_, err = push("")
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "lists 2 manifests") ||
		!strings.Contains(err.Error(), digestOf(t, one).String()) || !strings.Contains(err.Error(), "ref.name=two") {
		t.Errorf("no selector: exit %d, %v", exitcode.Of(err), err)
	}
	if res, err := push("two"); err != nil || res.Digest.String() != digestOf(t, two).String() {
		t.Errorf("select by name = %v, %v; want %s", res, err, digestOf(t, two))
	}
	if res, err := push(digestOf(t, one).String()); err != nil || res.Digest.String() != digestOf(t, one).String() {
		t.Errorf("select by digest = %v, %v; want %s", res, err, digestOf(t, one))
	}
	if _, err := push("three"); exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), `has no manifest "three"; it lists`) {
		t.Errorf("unknown selector: exit %d, %v", exitcode.Of(err), err)
	}
}

// TestLayoutIncomplete: a missing blob is found before anything is pushed.
func TestLayoutIncomplete(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	img := testImage(t, 10)
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	h := digestOf(t, layers[0])
	if err := os.Remove(filepath.Join(dir, "blobs", "sha256", h.Hex)); err != nil {
		t.Fatal(err)
	}
	o := opts(t, dir, "127.0.0.1:1/slipway/broken:v1") // never contacted
	o.Subject = Subject{Layout: "."}
	_, err = Push(context.Background(), o)
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "is incomplete: blob "+h.String()) {
		t.Errorf("exit %d, %v; want exit 2 naming the missing blob", exitcode.Of(err), err)
	}
	if f := exitcode.FileOf(err); !strings.HasSuffix(f, h.Hex) {
		t.Errorf("error file = %q, want the blob's path", f)
	}
}
