package push

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
)

// The OCI artifact that holds files: an OCI 1.1 image manifest with
// artifactType ArtifactType, the empty config (application/vnd.oci.empty.v1+json,
// "{}"), and one layer per file, in the order given. A layer is the file's
// bytes as they are (no tar, no compression), with the file's media type
// (as the build manifest records it, else as package mediatype names it
// from the name and first bytes, like the build stage does) and the
// annotations AnnotationTitle (the base name), AnnotationName (the
// subject name) and AnnotationDigest (the file's sha256, equal to the layer
// digest). With a build manifest the manifest gets AnnotationRevision,
// AnnotationSource and AnnotationCreated from its build record; nothing in it
// depends on the time of the push, so the same files give the same digest.
const (
	ArtifactType = "application/vnd.slipway.artifact.v1"

	AnnotationTitle    = "org.opencontainers.image.title"
	AnnotationName     = "dev.slipway.artifact.name"
	AnnotationDigest   = "dev.slipway.artifact.digest"
	AnnotationRevision = "org.opencontainers.image.revision"
	AnnotationSource   = "org.opencontainers.image.source"
	AnnotationCreated  = "org.opencontainers.image.created"
	AnnotationRefName  = "org.opencontainers.image.ref.name"
)

// emptyConfig is the OCI empty descriptor's content.
var emptyConfig = []byte("{}")

// File is one file of a pushed artifact.
type File struct {
	// Name is the subject name: the slash-separated path relative to the
	// workspace (or as the build manifest records it).
	Name string
	// Path is where the file was read.
	Path      string
	Digest    digest.SHA256
	Size      int64
	MediaType string
	// Transfer is how the file reached the repository ("" when the tag
	// already pointed at the content), and MountedFrom the repository a
	// mounted one came from.
	Transfer    Transfer
	MountedFrom string
	// BytesRead is how much of the file this push read (hashing and
	// uploading): 0 when its digest was known and no upload was needed.
	BytesRead int64
}

type artifactFile struct {
	name, title string
	layer       *fileLayer
	// mountHints are repositories that the digest cache says hold it.
	mountHints []name.Repository
}

// artifactContent is files pushed as one OCI artifact.
type artifactContent struct {
	items       []artifactFile
	annotations map[string]string
	jobs        int
}

// manifestAnnotations are the manifest's annotations from a build record.
func manifestAnnotations(b *artifact.BuildInfo) map[string]string {
	if b == nil {
		return nil
	}
	a := map[string]string{}
	if b.Commit != "" {
		a[AnnotationRevision] = b.Commit
	}
	if b.Repository != "" {
		a[AnnotationSource] = strings.TrimPrefix(b.Repository, "git+")
	}
	if b.SourceDateEpoch > 0 {
		a[AnnotationCreated] = time.Unix(b.SourceDateEpoch, 0).UTC().Format(time.RFC3339)
	}
	if len(a) == 0 {
		return nil
	}
	return a
}

// checkTitles refuses two files with the same base name: a client that pulls
// the artifact writes each layer to a file named by its title.
func checkTitles(files []artifactFile) error {
	seen := map[string]string{}
	for _, f := range files {
		if prev, ok := seen[f.title]; ok {
			return fmt.Errorf("files %q and %q have the same name %q, which the artifact uses as the file name of each layer; rename one, or push them to different tags", prev, f.name, f.title)
		}
		seen[f.title] = f.name
	}
	return nil
}

func titleOf(name string) string { return path.Base(strings.ReplaceAll(name, `\`, "/")) }

// manifest returns the artifact's manifest once every file's digest is known.
func (c *artifactContent) manifest() (pushable, bool, error) {
	layers := make([]v1.Descriptor, 0, len(c.items))
	for _, f := range c.items {
		d, ok := f.layer.digest()
		if !ok {
			return nil, false, nil
		}
		layers = append(layers, v1.Descriptor{
			MediaType: f.layer.mediaType,
			Size:      f.layer.size,
			Digest:    v1.Hash{Algorithm: "sha256", Hex: d.Hex()},
			Annotations: map[string]string{
				AnnotationTitle:  f.title,
				AnnotationName:   f.name,
				AnnotationDigest: d.String(),
			},
		})
	}
	cfg, _, _ := v1.SHA256(bytes.NewReader(emptyConfig))
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  ArtifactType,
		Config:        v1.Descriptor{MediaType: types.OCIEmptyJSON, Size: int64(len(emptyConfig)), Digest: cfg},
		Layers:        layers,
		Annotations:   c.annotations,
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, false, fmt.Errorf("encoding the artifact manifest: %w", err)
	}
	return newRawManifest(raw, types.OCIManifestSchema1), true, nil
}

// hash reads every file whose digest is unknown, once, uploading nothing.
func (c *artifactContent) hash(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(c.jobs)
	for _, f := range c.items {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return f.layer.hash()
		})
	}
	return g.Wait()
}

// upload puts the config and every file in the repository as blobs (see
// session.transfer): a file the repository has, or that the registry can
// mount from another repository, is not read; the others are read once,
// by the upload.
func (c *artifactContent) upload(ctx context.Context, s *session) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(c.jobs)
	// The empty config is wherever one of the files was pushed.
	g.Go(func() error { return s.transfer(ctx, static.NewLayer(emptyConfig, types.OCIEmptyJSON), c.mountHints()) })
	for _, f := range c.items {
		g.Go(func() error { return s.transfer(ctx, f.layer, f.mountHints) })
	}
	return g.Wait()
}

func (c *artifactContent) mountHints() []name.Repository {
	var out []name.Repository
	for _, f := range c.items {
		out = append(out, f.mountHints...)
	}
	return out
}

func (c *artifactContent) pushedFiles() []File {
	out := make([]File, 0, len(c.items))
	for _, f := range c.items {
		d, _ := f.layer.digest()
		out = append(out, File{Name: f.name, Path: f.layer.path, Digest: d, Size: f.layer.size, MediaType: string(f.layer.mediaType), BytesRead: f.layer.reads.Load()})
	}
	return out
}

// rawManifest is a manifest as bytes, ready to PUT.
type rawManifest struct {
	raw  []byte
	mt   types.MediaType
	hash v1.Hash
}

func newRawManifest(raw []byte, mt types.MediaType) *rawManifest {
	h, _, _ := v1.SHA256(bytes.NewReader(raw)) // reading memory never fails
	return &rawManifest{raw: raw, mt: mt, hash: h}
}

func (m *rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m *rawManifest) MediaType() (types.MediaType, error) { return m.mt, nil }
func (m *rawManifest) Digest() (v1.Hash, error)            { return m.hash, nil }
func (m *rawManifest) Size() (int64, error)                { return int64(len(m.raw)), nil }
