package push

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
)

// buildManifest writes a build manifest for the files (role artifact) and
// an SBOM of the first, as the build and sbom stages would.
func buildManifest(t testing.TB, dir string, files ...string) string {
	t.Helper()
	m := artifact.NewManifest()
	m.Build = &artifact.BuildInfo{Repository: "git+https://github.com/o/r", Commit: strings.Repeat("c", 40), SourceDateEpoch: 1700000000}
	for _, f := range files {
		d, n, err := digest.File(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		m.Add(artifact.Record{Name: f, Path: f, Digest: d, Size: n, MediaType: "application/x-executable", Role: artifact.RoleArtifact})
	}
	sbom := writeFile(t, dir, "dist/sbom.cdx.json", []byte(`{}`))
	d, n, _ := digest.File(sbom)
	m.Add(artifact.Record{Name: "dist/sbom.cdx.json", Path: "dist/sbom.cdx.json", Digest: d, Size: n, MediaType: "application/vnd.cyclonedx+json", Role: artifact.RoleSBOM, Describes: m.Records[0].Digest})
	path := filepath.Join(dir, "dist", "manifest.json")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPushManifestArtifacts pushes exactly the build's artifacts, records
// the push in the manifest, and trusts the recorded digests: an identical
// re-push reads no file, a file changed since the build fails the push.
func TestPushManifestArtifacts(t *testing.T) {
	t.Parallel()
	addr := startRegistry(t)
	dir := t.TempDir()
	app := randomBytes(t, 1<<20)
	writeFile(t, dir, "dist/app", app)
	writeFile(t, dir, "dist/tool", []byte("tool"))
	manPath := buildManifest(t, dir, "dist/app", "dist/tool")

	o := opts(t, dir, addr+"/slipway/built:v1")
	o.Manifest = "dist/manifest.json"
	res, err := Push(context.Background(), o)
	if err != nil {
		t.Fatalf("Push() error = %v", err)
	}
	_, m := getManifest(t, res.PinnedRef)
	if len(m.Layers) != 2 || m.Layers[0].Annotations[AnnotationName] != "dist/app" || m.Layers[1].Annotations[AnnotationTitle] != "tool" ||
		m.Layers[0].MediaType != "application/x-executable" || m.Layers[0].Digest.String() != sha(app) {
		t.Errorf("layers = %+v, want dist/app and dist/tool with the recorded media type", m.Layers)
	}
	wantAnn := map[string]string{
		AnnotationRevision: strings.Repeat("c", 40), AnnotationSource: "https://github.com/o/r", AnnotationCreated: "2023-11-14T22:13:20Z",
	}
	for k, v := range wantAnn {
		if m.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, m.Annotations[k], v)
		}
	}

	man, err := artifact.ReadManifest(manPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Records) != 4 {
		t.Fatalf("manifest has %d records, want the 3 of the build and the push", len(man.Records))
	}
	rec := man.Records[3]
	want := artifact.Record{Name: addr + "/slipway/built", URI: res.PinnedRef, Digest: res.Digest, Size: res.Size, MediaType: res.MediaType, Role: artifact.RoleRegistry}
	if rec != want || res.Record == nil || *res.Record != want {
		t.Errorf("record = %+v, want %+v", rec, want)
	}

	// Same size, other bytes: a push that read the file would notice.
	writeFile(t, dir, "dist/app", randomBytes(t, 1<<20))
	again, err := Push(context.Background(), o)
	if err != nil || again.Status != AlreadyPresent || again.Digest != res.Digest {
		t.Fatalf("re-push = %+v, %v; want %q without reading the files", again, err, AlreadyPresent)
	}
	if man, _ := artifact.ReadManifest(manPath); len(man.Records) != 4 {
		t.Errorf("re-push left %d records, want 4 (the push record replaced, not added)", len(man.Records))
	}

	// In another repository of the registry: the blob with the recorded
	// digest is mounted from the one the manifest records a push to, and
	// the file is not read.
	o.Ref = addr + "/slipway/mounted:v1"
	mounted, err := Push(context.Background(), o)
	if err != nil || mounted.Digest != res.Digest {
		t.Fatalf("push to another repository = %+v, %v; want the recorded content, mounted", mounted, err)
	}
	if f := mounted.Files[0]; f.Transfer != Mounted || f.MountedFrom != addr+"/slipway/built" {
		t.Errorf("dist/app: %s from %q, want mounted from %s/slipway/built", f.Transfer, f.MountedFrom, addr)
	}

	// On another registry, which does not have the blob: the upload reads
	// the file, and finds that it changed.
	other := startRegistry(t)
	o.Ref = other + "/slipway/other:v1"
	_, err = Push(context.Background(), o)
	if exitcode.Of(err) != exitcode.Failed || !strings.Contains(err.Error(), "that the build manifest records: it changed after the build") {
		t.Fatalf("push of a changed file = exit %d, %v; want exit 1 naming the change", exitcode.Of(err), err)
	}
	if f := exitcode.FileOf(err); f != filepath.Join(dir, "dist", "app") {
		t.Errorf("error file = %q", f)
	}
	ref, _ := name.ParseReference(o.Ref, name.Insecure)
	var te *transport.Error
	if _, err := remote.Head(ref); !errors.As(err, &te) || te.StatusCode != http.StatusNotFound {
		t.Errorf("tag after a failed push: HEAD = %v, want 404", err)
	}
}

// TestPushSubjectWithManifest: a subject listed in the manifest is pushed
// under its recorded name and digest; one of a different size is refused
// before anything is sent.
func TestPushSubjectWithManifest(t *testing.T) {
	t.Parallel()
	addr := startRegistry(t)
	dir := t.TempDir()
	writeFile(t, dir, "dist/app", []byte("app"))
	buildManifest(t, dir, "dist/app")
	o := opts(t, dir, addr+"/slipway/sbom:v1", "dist/sbom.cdx.json", filepath.Join(dir, "dist/app"))
	o.Manifest = filepath.Join(dir, "dist/manifest.json")
	res, err := Push(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 2 || res.Files[0].MediaType != "application/vnd.cyclonedx+json" || res.Files[1].Name != "dist/app" || res.Files[1].MediaType != "application/x-executable" {
		t.Errorf("files = %+v", res.Files)
	}

	writeFile(t, dir, "dist/app", []byte("longer app"))
	o.Ref = addr + "/slipway/sbom:v2"
	_, err = Push(context.Background(), o)
	if exitcode.Of(err) != exitcode.Failed || !strings.Contains(err.Error(), "has 10 bytes, but the build manifest") {
		t.Errorf("exit %d, %v", exitcode.Of(err), err)
	}
}

// TestPushProvenanceWithManifest pushes an artifact with the provenance
// bundle the attest stage recorded about it ("<bundle>#<subject>"): the
// bundle keeps its own file name, it does not take its subject's.
func TestPushProvenanceWithManifest(t *testing.T) {
	t.Parallel()
	addr := startRegistry(t)
	dir := t.TempDir()
	writeFile(t, dir, "dist/app", []byte("app"))
	manPath := buildManifest(t, dir, "dist/app")
	m, err := artifact.ReadManifest(manPath)
	if err != nil {
		t.Fatal(err)
	}
	bundle := writeFile(t, dir, "dist/provenance.intoto.sigstore.json", []byte(`{"mediaType":"x"}`))
	d, n, _ := digest.File(bundle)
	m.Add(artifact.Record{Name: "dist/provenance.intoto.sigstore.json#dist/app", Path: "dist/provenance.intoto.sigstore.json",
		Digest: d, Size: n, MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", Role: artifact.RoleProvenance, Describes: m.Records[0].Digest})
	if err := m.WriteFile(manPath); err != nil {
		t.Fatal(err)
	}
	o := opts(t, dir, addr+"/slipway/prov:v1", "dist/app", "dist/provenance.intoto.sigstore.json")
	o.Manifest = manPath
	res, err := Push(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range res.Files {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "dist/app,dist/provenance.intoto.sigstore.json" {
		t.Errorf("pushed files = %q", names)
	}
}

func TestPushBadManifest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "m.json", []byte(`{"mediaType":"nope"}`))
	o := opts(t, dir, "127.0.0.1:1/a:v1")
	o.Manifest = "m.json"
	_, err := Push(context.Background(), o)
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), `input "manifest"`) || exitcode.FileOf(err) != filepath.Join(dir, "m.json") {
		t.Errorf("exit %d, %v", exitcode.Of(err), err)
	}
	m := artifact.NewManifest()
	if err := m.WriteFile(filepath.Join(dir, "empty.json")); err != nil {
		t.Fatal(err)
	}
	o.Manifest = "empty.json"
	_, err = Push(context.Background(), o)
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "lists no artifact file") {
		t.Errorf("exit %d, %v", exitcode.Of(err), err)
	}
}

// TestPushManifestImage: a build manifest that lists one image (as the
// build stage records it: the layout directory as name, the manifest blob
// as path) pushes that image; with files besides, an index of the image and
// the files' artifact, which a runtime resolves to the image.
func TestPushManifestImage(t *testing.T) {
	t.Parallel()
	addr := startRegistry(t)
	dir := t.TempDir()
	p, err := layout.Write(filepath.Join(dir, "dist", "image"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	img := testImage(t, 1000)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf.OS, cf.Architecture = "linux", "amd64"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	h := digestOf(t, img)
	d, _ := digest.ParseHex(h.Hex)
	size, _ := img.Size()
	m := artifact.NewManifest()
	m.Add(artifact.Record{Name: "dist/image", Path: "dist/image/blobs/sha256/" + h.Hex, Digest: d, Size: size, MediaType: string(types.OCIManifestSchema1), Role: artifact.RoleArtifact})
	manPath := filepath.Join(dir, "dist", "manifest.json")
	if err := m.WriteFile(manPath); err != nil {
		t.Fatal(err)
	}
	o := opts(t, dir, addr+"/slipway/built-image:v1")
	o.Manifest = manPath
	res, err := Push(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest != d || headDigest(t, res.Tag) != h.String() {
		t.Errorf("pushed %s, want the image %s", res.Digest, h)
	}

	// The image and a file: one index.
	writeFile(t, dir, "dist/app", []byte("app"))
	m, _ = artifact.ReadManifest(manPath)
	m.Add(artifact.Record{Name: "dist/app", Path: "dist/app", Digest: mustFileDigest(t, filepath.Join(dir, "dist/app")), Size: 3, MediaType: "application/octet-stream", Role: artifact.RoleArtifact})
	if err := m.WriteFile(manPath); err != nil {
		t.Fatal(err)
	}
	o.Ref = addr + "/slipway/built-image:v2"
	res, err = Push(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(res.Tag, name.Insecure)
	idx, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	if res.MediaType != string(types.OCIImageIndex) || len(im.Manifests) != 2 || digestOf(t, idx).String() != res.Digest.String() {
		t.Fatalf("pushed %s %s with %d manifests, want an index of 2", res.MediaType, res.Digest, len(im.Manifests))
	}
	if im.Manifests[0].Digest != h || im.Manifests[0].Platform == nil || im.Manifests[0].Platform.String() != "linux/amd64" {
		t.Errorf("first manifest = %+v, want the image for linux/amd64", im.Manifests[0])
	}
	art := im.Manifests[1]
	if art.ArtifactType != ArtifactType || art.Platform == nil || art.Platform.String() != "unknown/unknown" {
		t.Errorf("second manifest = %+v, want the files' artifact for unknown/unknown", art)
	}
	_, am := getManifest(t, addr+"/slipway/built-image@"+art.Digest.String())
	if len(am.Layers) != 1 || am.Layers[0].Annotations[AnnotationName] != "dist/app" {
		t.Errorf("files' manifest layers = %+v", am.Layers)
	}
	// A runtime resolving the tag for linux/amd64 gets the image.
	resolved, err := remote.Image(ref, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"}))
	if err != nil || digestOf(t, resolved) != h {
		t.Errorf("resolving %s for linux/amd64 = %v, want the image %s", res.Tag, err, h)
	}
	again, err := Push(context.Background(), o)
	if err != nil || again.Status != AlreadyPresent {
		t.Errorf("re-push = %+v, %v", again, err)
	}
}

func mustFileDigest(t testing.TB, path string) digest.SHA256 {
	t.Helper()
	d, _, err := digest.File(path)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
