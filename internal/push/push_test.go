package push

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/exitcode"
)

func sha(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }

// TestPushFilesRoundTrip pushes files as an artifact to a real registry and
// pulls everything back: manifest, config, layers, annotations and blobs.
func TestPushFilesRoundTrip(t *testing.T) {
	t.Parallel()
	addr := startRegistry(t)
	dir := t.TempDir()
	files := map[string][]byte{
		"dist/app":              randomBytes(t, 3<<20+17), // several read buffers, odd size
		"dist/app.cdx.json":     []byte(`{"bomFormat":"CycloneDX"}`),
		"dist/empty.txt":        {},
		"dist/sub/notes.tar.gz": randomBytes(t, 1000),
	}
	for n, b := range files {
		writeFile(t, dir, n, b)
	}
	o := opts(t, dir, addr+"/slipway/files:v1", "dist/app", "dist/app.cdx.json", "dist/empty.txt", "dist/sub/*.tar.gz")
	res, err := Push(context.Background(), o)
	if err != nil {
		t.Fatalf("Push() error = %v", err)
	}
	if res.Status != Pushed {
		t.Errorf("Status = %q, want %q", res.Status, Pushed)
	}
	wantPinned := addr + "/slipway/files@" + res.Digest.String()
	if res.PinnedRef != wantPinned || res.Tag != addr+"/slipway/files:v1" {
		t.Errorf("PinnedRef, Tag = %q, %q; want %q", res.PinnedRef, res.Tag, wantPinned)
	}

	desc, m := getManifest(t, res.Tag)
	if desc.Digest.String() != res.Digest.String() || sha(desc.Manifest) != res.Digest.String() || desc.Size != res.Size {
		t.Errorf("registry has %s (%d bytes), push reported %s (%d bytes)", desc.Digest, desc.Size, res.Digest, res.Size)
	}
	if desc.MediaType != types.OCIManifestSchema1 || m.ArtifactType != ArtifactType {
		t.Errorf("mediaType, artifactType = %q, %q", desc.MediaType, m.ArtifactType)
	}
	if m.Config.MediaType != types.OCIEmptyJSON || m.Config.Size != 2 || m.Config.Digest.String() != sha([]byte("{}")) {
		t.Errorf("config = %+v, want the empty descriptor", m.Config)
	}
	if len(m.Annotations) != 0 {
		t.Errorf("manifest annotations = %v, want none without a build manifest", m.Annotations)
	}
	wantOrder := []struct{ name, mediaType string }{
		{"dist/app", "application/octet-stream"},
		{"dist/app.cdx.json", "application/vnd.cyclonedx+json"},
		{"dist/empty.txt", "text/plain; charset=utf-8"},
		{"dist/sub/notes.tar.gz", "application/gzip"},
	}
	if len(m.Layers) != len(wantOrder) {
		t.Fatalf("%d layers, want %d", len(m.Layers), len(wantOrder))
	}
	repo, _ := name.NewRepository(addr+"/slipway/files", name.Insecure)
	for i, w := range wantOrder {
		l := m.Layers[i]
		want := sha(files[w.name])
		if l.Digest.String() != want || l.Size != int64(len(files[w.name])) || string(l.MediaType) != w.mediaType {
			t.Errorf("layer %d = %s %d %s, want %s %d %s", i, l.Digest, l.Size, l.MediaType, want, len(files[w.name]), w.mediaType)
		}
		wantAnn := map[string]string{AnnotationTitle: filepath.Base(w.name), AnnotationName: w.name, AnnotationDigest: want}
		if fmt.Sprint(l.Annotations) != fmt.Sprint(wantAnn) {
			t.Errorf("layer %d annotations = %v, want %v", i, l.Annotations, wantAnn)
		}
		// The blob is the file as it is.
		blob, err := remote.Layer(repo.Digest(l.Digest.String()))
		if err != nil {
			t.Fatal(err)
		}
		rc, err := blob.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.Copy(h, rc); err != nil {
			t.Fatalf("reading blob %s: %v", l.Digest, err)
		}
		rc.Close()
		if got := fmt.Sprintf("sha256:%x", h.Sum(nil)); got != want {
			t.Errorf("blob %d digest = %s, want %s", i, got, want)
		}
		f := res.Files[i]
		if f.Name != w.name || f.Digest.String() != want || f.MediaType != w.mediaType {
			t.Errorf("Result.Files[%d] = %+v", i, f)
		}
	}
}

// TestPushIsReproducible: the same files give the same digest in another
// repository and on another registry: nothing depends on time or place.
func TestPushIsReproducible(t *testing.T) {
	t.Parallel()
	a, b := startRegistry(t), startRegistry(t)
	dir := t.TempDir()
	writeFile(t, dir, "x.bin", []byte("same bytes"))
	r1, err := Push(context.Background(), opts(t, dir, a+"/one:v1", "x.bin"))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Push(context.Background(), opts(t, dir, b+"/two/deep:other", filepath.Join(dir, "x.bin")))
	if err != nil {
		t.Fatal(err)
	}
	if r1.Digest != r2.Digest {
		t.Errorf("digests differ: %s and %s", r1.Digest, r2.Digest)
	}
}

// TestTagsAreImmutable: an identical push is a no-op, different content to
// an existing tag fails naming both digests, allow-overwrite moves the tag.
func TestTagsAreImmutable(t *testing.T) {
	t.Parallel()
	addr := startRegistry(t)
	dir := t.TempDir()
	ref := addr + "/slipway/immutable:v1"
	writeFile(t, dir, "app", []byte("version one"))
	first, err := Push(context.Background(), opts(t, dir, ref, "app"))
	if err != nil {
		t.Fatal(err)
	}

	again, err := Push(context.Background(), opts(t, dir, ref, "app"))
	if err != nil {
		t.Fatalf("identical push: %v", err)
	}
	if again.Status != AlreadyPresent || again.Digest != first.Digest {
		t.Errorf("identical push = %q %s, want %q %s", again.Status, again.Digest, AlreadyPresent, first.Digest)
	}

	writeFile(t, dir, "app", []byte("version two"))
	_, err = Push(context.Background(), opts(t, dir, ref, "app"))
	var te *TagExistsError
	if !errors.As(err, &te) || exitcode.Of(err) != exitcode.Failed {
		t.Fatalf("push of other content: error = %v (exit %d), want a TagExistsError, exit 1", err, exitcode.Of(err))
	}
	msg := err.Error()
	if te.Existing != first.Digest.String() || !strings.Contains(msg, te.Existing) || !strings.Contains(msg, te.New) || te.New == te.Existing {
		t.Errorf("error %q should name the existing digest %s and the new one", msg, first.Digest)
	}
	if !strings.Contains(msg, "allow-overwrite: true") || !strings.Contains(msg, "new tag") {
		t.Errorf("error %q should give both fixes", msg)
	}
	if d := headDigest(t, ref); d != first.Digest.String() {
		t.Errorf("tag moved to %s after a refused push", d)
	}

	o := opts(t, dir, ref, "app")
	o.AllowOverwrite = true
	replaced, err := Push(context.Background(), o)
	if err != nil {
		t.Fatalf("push with AllowOverwrite: %v", err)
	}
	if replaced.Status != Replaced || replaced.Previous != first.Digest || replaced.Digest.String() != te.New {
		t.Errorf("overwrite = %q, previous %s, digest %s; want %q, %s, %s", replaced.Status, replaced.Previous, replaced.Digest, Replaced, first.Digest, te.New)
	}
	if d := headDigest(t, ref); d != te.New {
		t.Errorf("tag points at %s after overwrite, want %s", d, te.New)
	}
	// Overwriting with the same content again changes nothing.
	same, err := Push(context.Background(), o)
	if err != nil || same.Status != AlreadyPresent {
		t.Errorf("overwrite with identical content = %v, %v; want %q", same, err, AlreadyPresent)
	}
}

func headDigest(t testing.TB, ref string) string {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Head(r)
	if err != nil {
		t.Fatalf("HEAD %s: %v", ref, err)
	}
	return d.Digest.String()
}

// TestRegistryDown: a closed port gives an infrastructure error naming the
// registry, after bounded retries.
func TestRegistryDown(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	writeFile(t, dir, "app", []byte("x"))
	_, err = Push(context.Background(), opts(t, dir, addr+"/slipway/app:v1", "app"))
	if exitcode.Of(err) != exitcode.Internal {
		t.Fatalf("exit code = %d, want 3; error = %v", exitcode.Of(err), err)
	}
	for _, want := range []string{"cannot reach registry " + addr, "check that it is running and reachable", "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "a/app", []byte("1"))
	writeFile(t, dir, "b/app", []byte("2"))
	tests := []struct {
		name    string
		ref     string
		subject Subject
		want    string
	}{
		{"no registry", "app:v1", Subject{Files: []string{"a/app"}}, `input "ref": reference "app:v1" names no registry`},
		{"digest ref", "127.0.0.1:1/app@sha256:" + strings.Repeat("a", 64), Subject{Files: []string{"a/app"}}, "a tag is needed here"},
		{"nothing", "127.0.0.1:1/app:v1", Subject{}, "nothing to push"},
		{"missing file", "127.0.0.1:1/app:v1", Subject{Files: []string{"nope"}}, "nope\": no such file or directory; check the path"},
		{"directory", "127.0.0.1:1/app:v1", Subject{Files: []string{"a"}}, "is a directory; list the files in it"},
		{"empty glob", "127.0.0.1:1/app:v1", Subject{Files: []string{"c/*"}}, `subject "c/*" matches no file`},
		{"same title", "127.0.0.1:1/app:v1", Subject{Files: []string{"a/app", "b/app"}}, `files "a/app" and "b/app" have the same name "app"`},
		{"not a layout", "127.0.0.1:1/app:v1", Subject{Layout: "a"}, "is not an OCI image layout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := opts(t, dir, tc.ref)
			o.Subject = tc.subject
			_, err := Push(context.Background(), o)
			if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Push() = exit %d, %v; want exit 2 and %q", exitcode.Of(err), err, tc.want)
			}
		})
	}
}
