package push

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/exitcode"
)

// artifactPlatform is the platform of the files' manifest in a release
// index: "unknown/unknown", as BuildKit marks its attestation manifests, so
// that container runtimes resolving the index by platform never pick it.
var artifactPlatform = v1.Platform{OS: "unknown", Architecture: "unknown"}

// releaseContent is a build's image and its files under one tag: an OCI
// image index of two manifests, the image (with its platform) and the
// files' artifact manifest (artifactType ArtifactType, platform
// artifactPlatform). One digest then pins, and one signature covers,
// everything the build made.
type releaseContent struct {
	image *layoutContent
	files *artifactContent
	// platform is the image's, from the layout's index.json or its config.
	platform *v1.Platform
}

func (o *Options) releaseContent(image, files Subject, man *artifact.Manifest, manPath string) (content, error) {
	dir, err := o.resolve(fmt.Sprintf("build manifest %q: image layout %q", manPath, image.Layout), image.Layout)
	if err != nil {
		return nil, err
	}
	img, err := openLayout(dir, image.Select)
	if err != nil {
		return nil, err
	}
	i, ok := img.m.(v1.Image)
	if !ok {
		return nil, exitcode.WithFile(exitcode.BadInputf("build manifest %q lists the image index %s and files: an index and files cannot share one tag; push the index with subject %s%s and the files in another push that lists them in subject",
			manPath, img.desc.Digest, LayoutPrefix, image.Layout), manPath)
	}
	platform := img.desc.Platform
	if platform == nil {
		cf, err := i.ConfigFile()
		if err != nil {
			return nil, exitcode.WithFile(exitcode.BadInputf("reading the config of image %s in %q: %v; write the layout again", img.desc.Digest, image.Layout, err), dir)
		}
		platform = cf.Platform()
	}
	fc, err := o.filesContent(files.Files, man, manPath)
	if err != nil {
		return nil, err
	}
	return &releaseContent{image: img, files: fc, platform: platform}, nil
}

func (c *releaseContent) manifest() (pushable, bool, error) {
	fm, ok, err := c.files.manifest()
	if err != nil || !ok {
		return nil, ok, err
	}
	desc := func(m pushable) (v1.Descriptor, error) {
		h, err := m.Digest()
		if err != nil {
			return v1.Descriptor{}, err
		}
		size, err := m.Size()
		if err != nil {
			return v1.Descriptor{}, err
		}
		mt, err := m.MediaType()
		return v1.Descriptor{MediaType: mt, Size: size, Digest: h}, err
	}
	id, err := desc(c.image.m)
	if err != nil {
		return nil, false, fmt.Errorf("describing the image: %w", err)
	}
	id.Platform = c.platform
	ad, err := desc(fm)
	if err != nil {
		return nil, false, fmt.Errorf("describing the files' manifest: %w", err)
	}
	p := artifactPlatform
	ad.Platform, ad.ArtifactType = &p, ArtifactType
	raw, err := json.Marshal(v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Manifests:     []v1.Descriptor{id, ad},
		Annotations:   c.files.annotations,
	})
	if err != nil {
		return nil, false, fmt.Errorf("encoding the release index: %w", err)
	}
	return newRawManifest(raw, types.OCIImageIndex), true, nil
}

func (c *releaseContent) hash(ctx context.Context) error { return c.files.hash(ctx) }

// upload pushes the image (by digest), the files' blobs, then the files'
// manifest by digest; the caller tags the index.
func (c *releaseContent) upload(ctx context.Context, s *session) error {
	if err := c.image.upload(ctx, s); err != nil {
		return err
	}
	if err := c.files.upload(ctx, s); err != nil {
		return err
	}
	fm, ok, err := c.files.manifest()
	if err != nil || !ok {
		return fmt.Errorf("%w: %v", errNotComplete, err)
	}
	h, _ := fm.Digest()
	return s.put(ctx, s.repo.Digest(h.String()), fm)
}

func (c *releaseContent) pushedFiles() []File { return c.files.pushedFiles() }

func (c *releaseContent) mountHints() []name.Repository { return c.files.mountHints() }
