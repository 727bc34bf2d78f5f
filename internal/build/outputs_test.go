package build

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/mediatype"
)

// TestOwnOutputsAreNotArtifacts builds twice with globs that cover the
// output directory: the manifest, subjects file, archive, image layout and
// their temporary files are never taken for artifacts.
func TestOwnOutputsAreNotArtifacts(t *testing.T) {
	t.Parallel()
	dir := workspace(t, map[string]string{"dist/app*": "\x7fELF", "dist/.manifest.json.tmp-123": "stale"})
	o := options(dir, "dist/**", "!dist/.*")
	o.Archive = "app.tar.gz"
	o.Image.Base = "scratch"
	first := run(t, o)
	second := run(t, o)
	want := "dist/app dist/app.tar.gz dist/image"
	for i, res := range []*Result{first, second} {
		if got := names(res.Manifest.Records); got != want {
			t.Errorf("run %d: records %q, want %q", i+1, got, want)
		}
	}
	a, _ := os.ReadFile(filepath.Join(dir, first.SubjectsPath))
	if got := readManifest(t, dir); names(got.Records) != want {
		t.Errorf("manifest on disk: %q", names(got.Records))
	}
	if first.Image.Digest != second.Image.Digest || first.Archive.Digest != second.Archive.Digest {
		t.Error("the second run's archive or image differs from the first's")
	}
	b, _ := os.ReadFile(filepath.Join(dir, second.SubjectsPath))
	if string(a) != string(b) || first.Base64Subjects != second.Base64Subjects {
		t.Errorf("subjects changed between runs:\n%s\n%s", a, b)
	}
	subjects, err := artifact.ParseSubjects(strings.NewReader(string(b)), "subjects")
	if err != nil || len(subjects) != 3 {
		t.Errorf("subjects file does not parse: %v %v", subjects, err)
	}
}

// TestImage builds an image of the artifacts, then one of other files in
// another directory: reproducible, readable by go-containerregistry, and
// recorded with the manifest blob as its path.
func TestImage(t *testing.T) {
	t.Parallel()
	files := map[string]string{"build/bin/app*": "app", "build/share/data.txt": "data", "conf/app.conf": "c=1", "dist/notes.txt": "n"}
	var digests []string
	for range 2 {
		dir := workspace(t, files)
		o := options(dir, "build/**")
		o.Image.Base, o.Image.Entrypoint = "scratch", []string{"/bin/app", "--serve"}
		res := run(t, o)
		rec := res.Image
		if rec.Name != "dist/image" || rec.Path != "dist/image/blobs/sha256/"+rec.Digest.Hex() || rec.MediaType != mediatype.OCIManifest {
			t.Errorf("image record = %+v", rec)
		}
		d, size, err := digest.File(filepath.Join(dir, rec.Path))
		if err != nil || d != rec.Digest || size != rec.Size {
			t.Errorf("image record path hashes to %s (%d bytes, %v), record says %s (%d)", d, size, err, rec.Digest, rec.Size)
		}
		got := imageFiles(t, filepath.Join(dir, "dist", "image"))
		if want := "bin/ bin/app:755 share/ share/data.txt:644"; got != want {
			t.Errorf("image files = %q, want %q", got, want)
		}
		digests = append(digests, rec.Digest.String())
	}
	if digests[0] != digests[1] {
		t.Errorf("two workspaces gave images %s and %s", digests[0], digests[1])
	}

	dir := workspace(t, files)
	o := options(dir, "dist/notes.txt")
	o.Image = ImageOptions{Base: "scratch", Files: []string{"build/bin/app", "conf/*"}, Dir: "/opt/tool", Layout: "oci/tool", Platform: "linux/arm64"}
	res := run(t, o)
	if names(res.Manifest.Records) != "dist/notes.txt oci/tool" {
		t.Errorf("records = %q: image files that are not artifacts must not be recorded", names(res.Manifest.Records))
	}
	if got, want := imageFiles(t, filepath.Join(dir, "oci", "tool")), "opt/ opt/tool/ opt/tool/build/ opt/tool/build/bin/ opt/tool/build/bin/app:755 opt/tool/conf/ opt/tool/conf/app.conf:644"; got != want {
		t.Errorf("image files = %q, want %q", got, want)
	}
}

// imageFiles lists the entries of the only layer of the layout's image as
// "name:mode", after validating the image.
func imageFiles(t *testing.T, dir string) string {
	t.Helper()
	layers, _ := layoutImage(t, dir).Layers()
	return layerNames(t, layers[0])
}

// layoutImage returns the one image of an OCI image layout, validated.
func layoutImage(t *testing.T, dir string) v1.Image {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(img); err != nil {
		t.Fatalf("image does not validate: %v", err)
	}
	return img
}

// layerNames lists a layer's entries as "name:mode" (the mode for files).
func layerNames(t *testing.T, l v1.Layer) string {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var out []string
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		entry := h.Name
		if h.Typeflag == tar.TypeReg {
			entry += fmt.Sprintf(":%o", h.Mode)
		}
		out = append(out, entry)
	}
	return strings.Join(out, " ")
}

func TestMediaTypes(t *testing.T) {
	t.Parallel()
	dir := workspace(t, map[string]string{
		"dist/app*":     "\x7fELF\x02\x01\x01" + strings.Repeat("\x00", 9) + "\x02" + strings.Repeat("\x00", 47),
		"dist/app.json": "{}", "dist/pkg.tar.gz": "\x1f\x8b", "dist/script": "#!/bin/sh\n",
		"dist/layout/oci-layout": `{"imageLayoutVersion":"1.0.0"}`, "dist/layout/index.json": "{}", "dist/other/index.json": "{}",
	})
	res := run(t, options(dir, "dist"))
	want := map[string]string{
		"dist/app": mediatype.Executable, "dist/app.json": mediatype.JSON, "dist/pkg.tar.gz": mediatype.Gzip,
		"dist/script": "text/x-shellscript", "dist/layout/oci-layout": mediatype.OCILayoutHeader,
		"dist/layout/index.json": mediatype.OCIIndex, "dist/other/index.json": mediatype.JSON,
	}
	for _, r := range res.Manifest.Records {
		if r.MediaType != want[r.Name] {
			t.Errorf("%s: media type %q, want %q", r.Name, r.MediaType, want[r.Name])
		}
	}
}
