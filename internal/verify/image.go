package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/registryref"
)

// CosignSignPredicate is the predicate type of the statement cosign (and
// slipway sign) puts in an image signature's Sigstore bundle: it signs the
// image's digest and says nothing more, so it is a signature, not an
// attestation the policy's predicate lists apply to.
const CosignSignPredicate = "https://sigstore.dev/cosign/sign/v1"

// maxReferrers bounds how many referrers of an image are read.
const maxReferrers = 256

// WithRegistryOptions sets the options (authentication, transport, context
// is added per call) used to read image subjects from their registries.
func WithRegistryOptions(opts ...remote.Option) Option {
	return func(v *Verifier) { v.remote = opts }
}

// WithImageBundles has f called with every Sigstore bundle read from an
// image subject's OCI referrers (the image's digest, where it was read,
// its bytes), before the bundle is checked: a dispatcher keeps the bundles
// of a release admitted by reference, so that the compute node checks the
// same ones again. f may be called from several goroutines; the Report
// says whether the bundles passed.
func WithImageBundles(f func(image digest.SHA256, where string, data []byte)) Option {
	return func(v *Verifier) { v.imageBundles = f }
}

// imageEvidence resolves an image subject's digest and reads the Sigstore
// bundles attached to it as OCI 1.1 referrers (through the referrers API,
// or the "sha256-<hex>" tag schema where the registry has none): where
// slipway sign and attest, and cosign with --new-bundle-format, store them;
// and the signatures and attestations in cosign's "sha256-<hex>.sig" and
// ".att" tags, where cosign stores them by default (legacyEvidence).
func (v *Verifier) imageEvidence(ctx context.Context, rep *SubjectReport, s Subject) (digest.SHA256, []*evidence, error) {
	ref, err := registryref.Parse(s.Image)
	if err != nil {
		return digest.SHA256{}, nil, err
	}
	opts := append([]remote.Option{remote.WithContext(ctx)}, v.remote...)
	desc, err := remote.Head(ref, opts...)
	if err != nil {
		return digest.SHA256{}, nil, fmt.Errorf("reading image %q: %w; check the reference and the registry credentials", s.Image, err)
	}
	d, err := digest.Parse(desc.Digest.String())
	if err != nil {
		return digest.SHA256{}, nil, fmt.Errorf("image %q has digest %q: %w; only sha256 images can be verified", s.Image, desc.Digest, err)
	}
	pinned := ref.Context().Digest(desc.Digest.String())
	if !s.Digest.IsZero() && s.Digest != d {
		rep.fail(CheckDigest, "", "the image is %s, but the manifest says %s: the tag moved", d, s.Digest)
	}
	idx, err := remote.Referrers(pinned, opts...)
	if err != nil {
		return d, nil, fmt.Errorf("listing the referrers of %s: %w", pinned, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return d, nil, fmt.Errorf("reading the referrers of %s: %w", pinned, err)
	}
	var evs []*evidence
	b := v.newBudget()
	for i, m := range im.Manifests {
		if i == maxReferrers {
			rep.fail(CheckBundle, "", "the image has more than %d referrers; only the first %d were read", maxReferrers, maxReferrers)
			break
		}
		// The artifact type cannot be trusted to say (cosign's referrers
		// list as application/vnd.oci.empty.v1+json where the registry has
		// no referrers API): the layer's media type decides.
		where := "referrer " + m.Digest.String()
		data, err := referrerBundle(pinned.Context().Digest(m.Digest.String()), opts, b)
		if errors.Is(err, errNotBundle) {
			continue
		}
		if err != nil {
			rep.failRead(CheckBundle, where, err, "%v", err)
			continue
		}
		if v.imageBundles != nil {
			v.imageBundles(d, where, data)
		}
		ev, err := sigstoreEvidence(where, data)
		if err != nil {
			rep.fail(CheckBundle, where, "%v", err)
			continue
		}
		evs = append(evs, ev)
	}
	evs = append(evs, legacyEvidence(rep, pinned, opts, b)...)
	if len(evs) == 0 && len(rep.Checks) == 0 {
		rep.fail(CheckBundle, "", "no Sigstore bundle is attached to %s as an OCI referrer, and it has no cosign signature tag (sha256-%s.sig); sign it with slipway sign (or cosign sign)", pinned, d.Hex())
	}
	return d, evs, nil
}

// referrerBundle reads the one layer of a referrer manifest that holds a
// Sigstore bundle, within the subject's bundle budget.
func referrerBundle(ref name.Digest, opts []remote.Option, b *budget) ([]byte, error) {
	img, err := remote.Image(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot be read from the registry: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("cannot be read from the registry: %w", err)
	}
	if len(layers) != 1 {
		return nil, errNotBundle
	}
	if mt, err := layers[0].MediaType(); err != nil || !strings.HasPrefix(string(mt), bundleMediaTypePrefix) {
		return nil, errNotBundle
	}
	return readLayer(layers[0], b)
}

const bundleMediaTypePrefix = "application/vnd.dev.sigstore.bundle"

// errNotBundle marks a referrer that is not a Sigstore bundle.
var errNotBundle = errors.New("not a Sigstore bundle")

func readLayer(l v1.Layer, b *budget) ([]byte, error) {
	size, err := l.Size()
	if err != nil {
		return nil, fmt.Errorf("cannot be read from the registry: %w", err)
	}
	if err := b.check(size); err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, fmt.Errorf("cannot be read from the registry: %w", err)
	}
	defer rc.Close()
	return b.read(rc, size)
}
