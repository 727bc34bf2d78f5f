package verify

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// maxLegacyLayers bounds the layers read from one cosign .sig or .att image
// (cosign appends one per signature or attestation).
const maxLegacyLayers = 256

// legacyTags are cosign's tag suffixes and the layer media type each holds.
var legacyTags = []struct{ suffix, mediaType string }{
	{".sig", simpleSigningMediaType},
	{".att", dsseEnvelopeMediaType},
}

// legacyEvidence reads the image's signatures and attestations from
// cosign's "sha256-<hex>.sig" and ".att" tags in its repository, each layer
// converted into the Sigstore bundle it stands for (legacyBundle). A tag
// that does not exist holds nothing; a layer that cannot be read or
// converted is a failed bundle check. Layers count against the subject's
// bundle budget b.
func legacyEvidence(rep *SubjectReport, pinned name.Digest, opts []remote.Option, b *budget) []*evidence {
	var evs []*evidence
	for _, lt := range legacyTags {
		tag := pinned.Context().Tag(fmt.Sprintf("sha256-%s%s", pinned.DigestStr()[len("sha256:"):], lt.suffix))
		img, err := remote.Image(tag, opts...)
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
			continue
		}
		if err != nil {
			rep.failRead(CheckBundle, tag.String(), err, "cosign's %s tag cannot be read from the registry: %v", lt.suffix, err)
			continue
		}
		m, err := img.Manifest()
		if err != nil {
			rep.fail(CheckBundle, tag.String(), "cosign's %s tag cannot be read from the registry: %v", lt.suffix, err)
			continue
		}
		for i, desc := range m.Layers {
			if i == maxLegacyLayers {
				rep.fail(CheckBundle, tag.String(), "has more than %d layers; only the first %d were read", maxLegacyLayers, maxLegacyLayers)
				break
			}
			where := fmt.Sprintf("%s layer %d", tag, i)
			if string(desc.MediaType) != lt.mediaType {
				rep.fail(CheckBundle, where, "has media type %q, not %q as cosign writes in a %s tag", desc.MediaType, lt.mediaType, lt.suffix)
				continue
			}
			l, err := img.LayerByDigest(desc.Digest)
			if err != nil {
				rep.failRead(CheckBundle, where, err, "cannot be read from the registry: %v", err)
				continue
			}
			data, err := readLayer(l, b)
			if err != nil {
				rep.failRead(CheckBundle, where, err, "%v", err)
				continue
			}
			sb, err := legacyBundle(lt.mediaType, data, desc.Annotations)
			if err != nil {
				rep.fail(CheckBundle, where, "%v", err)
				continue
			}
			ev := &evidence{path: where, sigstore: sb}
			if lt.mediaType == simpleSigningMediaType {
				ev.simpleSigning = &simpleSigning{payload: data, repository: pinned.Context()}
			}
			evs = append(evs, ev)
		}
	}
	return evs
}
