package pull

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/push"
)

// maxFiles bounds the layers of a release.
const maxFiles = 10000

// file is one layer of a release: a file and where it goes.
type file struct {
	name      string // slash-separated path relative to the output directory
	digest    digest.SHA256
	size      int64
	mediaType string
}

// release is what a pinned reference holds: the files of slipway push's
// artifact manifest (push.ArtifactType), alone or in a release index.
type release struct {
	files []file
}

// mediaTypeOf returns a manifest's own mediaType field, or the one the
// registry's Content-Type header gave.
func mediaTypeOf(raw []byte, header types.MediaType) types.MediaType {
	var probe struct {
		MediaType types.MediaType `json:"mediaType"`
	}
	if json.Unmarshal(raw, &probe) == nil && probe.MediaType != "" {
		return probe.MediaType
	}
	return header
}

// release reads the manifest that d pins and, for an index, the artifact
// manifest it holds. Every descriptor is checked; nothing is downloaded.
func (c *client) release(ctx context.Context, d digest.SHA256) (*release, error) {
	raw, header, _, err := c.manifest(ctx, d.String(), 0)
	if err != nil {
		return nil, err
	}
	mt := mediaTypeOf(raw, header)
	r := &release{}
	if mt == types.OCIImageIndex || mt == types.DockerManifestList {
		idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
		if err != nil {
			return nil, &contentError{fmt.Sprintf("index %s does not parse: %v", d, err)}
		}
		var art *v1.Descriptor
		for i, m := range idx.Manifests {
			if _, err := digest.Parse(m.Digest.String()); err != nil || m.Size <= 0 || m.Size > maxManifestSize {
				return nil, &contentError{fmt.Sprintf("index %s: manifests[%d] has digest %q and size %d; want a sha256 digest and a size up to %d", d, i, m.Digest, m.Size, maxManifestSize)}
			}
			switch {
			case m.ArtifactType == push.ArtifactType && art != nil:
				return nil, &contentError{fmt.Sprintf("index %s holds two slipway artifacts (%s, %s); a release has one", d, art.Digest, m.Digest)}
			case m.ArtifactType == push.ArtifactType:
				art = &idx.Manifests[i]
			case m.MediaType == types.OCIManifestSchema1 || m.MediaType == types.DockerManifestSchema2:
				// the build's image: its manifest record is refused by check
			default:
				return nil, &contentError{fmt.Sprintf("index %s: manifests[%d] is a %q, neither an image nor a slipway artifact", d, i, m.MediaType)}
			}
		}
		if art == nil {
			return nil, &notReleaseError{fmt.Sprintf("index %s holds no slipway artifact (artifactType %s): it is not a release that slipway push made", d, push.ArtifactType)}
		}
		if raw, header, _, err = c.manifest(ctx, art.Digest.String(), art.Size); err != nil {
			return nil, err
		}
		d, _ = digest.Parse(art.Digest.String())
		mt = mediaTypeOf(raw, header)
	}
	if mt != types.OCIManifestSchema1 {
		return nil, &notReleaseError{fmt.Sprintf("%s is a %q, not a release that slipway push made (an OCI artifact)", d, mt)}
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, &contentError{fmt.Sprintf("manifest %s does not parse: %v", d, err)}
	}
	if m.ArtifactType != push.ArtifactType {
		return nil, &notReleaseError{fmt.Sprintf("manifest %s has artifactType %q, not %q: it is not a release that slipway push made", d, m.ArtifactType, push.ArtifactType)}
	}
	if r.files, err = files(m); err != nil {
		return nil, err
	}
	return r, nil
}

// files checks the layers of an artifact manifest and returns them as
// files: each named by its name annotation (else its title), a clean
// relative path that no other layer takes, whose title and digest
// annotations, when present, agree with it and with the descriptor.
func files(m *v1.Manifest) ([]file, error) {
	if len(m.Layers) > maxFiles {
		return nil, &contentError{fmt.Sprintf("the release has %d layers, more than %d", len(m.Layers), maxFiles)}
	}
	ns := newNamespace()
	var out []file
	for i, l := range m.Layers {
		where := fmt.Sprintf("layer %d (%s)", i, l.Digest)
		name := l.Annotations[push.AnnotationName]
		if name == "" {
			name = l.Annotations[push.AnnotationTitle]
		}
		if err := checkName(name); err != nil {
			return nil, &contentError{fmt.Sprintf("%s is named %q: %v; a release names each file by a relative path inside it", where, name, err)}
		}
		d, err := digest.Parse(l.Digest.String())
		switch {
		case err != nil:
			return nil, &contentError{fmt.Sprintf("%s %q: %v", where, name, err)}
		case l.Size < 0:
			return nil, &contentError{fmt.Sprintf("%s %q has a negative size", where, name)}
		case l.Annotations[push.AnnotationTitle] != "" && l.Annotations[push.AnnotationTitle] != path.Base(name):
			return nil, &contentError{fmt.Sprintf("%s is named %q but titled %q", where, name, l.Annotations[push.AnnotationTitle])}
		case l.Annotations[push.AnnotationDigest] != "" && l.Annotations[push.AnnotationDigest] != d.String():
			return nil, &contentError{fmt.Sprintf("%s %q says its digest is %s", where, name, l.Annotations[push.AnnotationDigest])}
		}
		if err := ns.add(name, where); err != nil {
			return nil, &contentError{err.Error()}
		}
		out = append(out, file{name: name, digest: d, size: l.Size, mediaType: string(l.MediaType)})
	}
	return out, nil
}

// notReleaseError is content that is not a slipway release at all.
type notReleaseError struct{ msg string }

func (e *notReleaseError) Error() string { return e.msg }
