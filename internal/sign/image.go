package sign

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	cbundle "github.com/sigstore/cosign/v2/pkg/cosign/bundle"
	"github.com/sigstore/cosign/v2/pkg/oci"
	"github.com/sigstore/cosign/v2/pkg/oci/mutate"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
	"github.com/sigstore/cosign/v2/pkg/oci/static"
	ctypes "github.com/sigstore/cosign/v2/pkg/types"
	"github.com/sigstore/sigstore/pkg/signature/payload"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/signing"
)

// Image is a signed image and where its signatures were stored.
type Image struct {
	// Ref is the image pinned by digest ("registry/repo@sha256:…").
	Ref    string
	Digest digest.SHA256
	// SignatureTag holds the cosign signature image that "cosign verify"
	// reads by default ("repo:sha256-<hex>.sig", simple signing payload).
	SignatureTag string
	// Referrer is the OCI 1.1 referrer manifest that holds the Sigstore
	// bundle "cosign verify --new-bundle-format" reads (stored through the
	// referrers API, or the "sha256-<hex>" tag schema where the registry
	// has none).
	Referrer string
}

// signImage signs the image in both of cosign v2's storage formats:
//
//   - the signature tag: a simple signing payload (the image's digest and
//     repository) signed as a MessageSignature over its SHA-256, pushed as a
//     layer of repo:sha256-<hex>.sig with the signature, certificate, Rekor
//     bundle and RFC 3161 timestamp in cosign's annotations: what
//     "cosign verify" reads by default;
//   - a Sigstore bundle holding a DSSE in-toto statement of predicate type
//     https://sigstore.dev/cosign/sign/v1 about the digest, written as an
//     OCI 1.1 referrer of the image: what "cosign verify
//     --new-bundle-format" reads.
func signImage(ctx context.Context, opts *Options, sg *signing.Signer) (*Image, error) {
	ref, err := name.ParseReference(opts.Image)
	if err != nil {
		return nil, exitcode.BadInput(fmt.Errorf("parsing image reference %q: %w; use registry/repo:tag or registry/repo@sha256:<hex>", opts.Image, err))
	}
	// One WithRemoteOptions: each call replaces the options of the last.
	remoteOpts := append(opts.Net.RemoteOptions(ctx), remote.WithAuthFromKeychain(opts.Keychain), remote.WithUserAgent("slipway"))
	if opts.Registry != nil {
		remoteOpts = append(remoteOpts, remote.WithTransport(opts.Registry))
	}
	ropts := []ociremote.Option{ociremote.WithRemoteOptions(remoteOpts...)}
	se, err := ociremote.SignedEntity(ref, ropts...)
	if err != nil {
		var nf *ociremote.EntityNotFoundError
		if errors.As(err, &nf) {
			return nil, exitcode.BadInput(fmt.Errorf("image %q was not found in its registry; push it first (slipway push) or check the reference", opts.Image))
		}
		return nil, exitcode.Infra(fmt.Errorf("reading image %q: %w; check the registry address and credentials (docker login)", opts.Image, err))
	}
	h, err := se.Digest()
	if err != nil {
		return nil, exitcode.Infra(fmt.Errorf("reading the digest of %q: %w", opts.Image, err))
	}
	d, err := digest.Parse(h.String())
	if err != nil {
		return nil, exitcode.Infra(fmt.Errorf("image %q has digest %q: %w; only sha256 images can be signed", opts.Image, h, err))
	}
	pinned := ref.Context().Digest(h.String())
	img := &Image{Ref: pinned.String(), Digest: d}

	sig, err := legacySignature(ctx, sg, pinned)
	if err != nil {
		return nil, err
	}
	signed, err := mutate.AttachSignatureToEntity(se, sig)
	if err != nil {
		return nil, exitcode.Infra(fmt.Errorf("attaching the signature to %q: %w", img.Ref, err))
	}
	if err := ociremote.WriteSignatures(pinned.Repository, signed, ropts...); err != nil {
		return nil, exitcode.Infra(fmt.Errorf("pushing the signature of %q: %w; check that the credentials may push to %q", img.Ref, err, pinned.Repository))
	}
	img.SignatureTag = pinned.Repository.Tag(fmt.Sprintf("sha256-%s.sig", d.Hex())).String()

	bundleJSON, err := referrerBundle(ctx, sg, d)
	if err != nil {
		return nil, err
	}
	if err := ociremote.WriteAttestationNewBundleFormat(pinned, bundleJSON, ctypes.CosignSignPredicateType, ropts...); err != nil {
		return nil, exitcode.Infra(fmt.Errorf("pushing the signature bundle of %q as an OCI referrer: %w", img.Ref, err))
	}
	img.Referrer = pinned.Repository.Tag(fmt.Sprintf("sha256-%s", d.Hex())).String()
	return img, nil
}

// legacySignature signs the simple signing payload of pinned and wraps the
// signature the way cosign's signature tag stores it.
func legacySignature(ctx context.Context, sg *signing.Signer, pinned name.Digest) (oci.Signature, error) {
	pl, err := (&payload.Cosign{Image: pinned}).MarshalJSON()
	if err != nil {
		return nil, exitcode.Infra(fmt.Errorf("encoding the signing payload: %w", err))
	}
	b, err := sg.SignDigest(ctx, digest.SHA256(sha256.Sum256(pl)))
	if err != nil {
		return nil, fmt.Errorf("signing image %q: %w", pinned, err)
	}
	pb := b.Bundle
	var sopts []static.Option
	if c := pb.GetVerificationMaterial().GetCertificate(); c != nil {
		sopts = append(sopts, static.WithCertChain(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.RawBytes}), nil))
	}
	if rb := signing.CosignRekorBundle(b); rb != nil {
		sopts = append(sopts, static.WithBundle(rb))
	}
	if ts := pb.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps(); len(ts) > 0 {
		sopts = append(sopts, static.WithRFC3161Timestamp(cbundle.TimestampToRFC3161Timestamp(ts[0].SignedTimestamp)))
	}
	sig, err := static.NewSignature(pl, base64.StdEncoding.EncodeToString(pb.GetMessageSignature().GetSignature()), sopts...)
	if err != nil {
		return nil, exitcode.Infra(fmt.Errorf("assembling the signature layer: %w", err))
	}
	return sig, nil
}

// referrerBundle is what "cosign sign --new-bundle-format" attaches: a
// bundle over an in-toto statement whose subject is the image digest.
func referrerBundle(ctx context.Context, sg *signing.Signer, d digest.SHA256) ([]byte, error) {
	stmt := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":%q}}],"predicateType":%q}`,
		d.Hex(), ctypes.CosignSignPredicateType)
	b, err := sg.SignDSSE(ctx, ctypes.IntotoPayloadType, []byte(stmt))
	if err != nil {
		return nil, fmt.Errorf("signing the image statement: %w", err)
	}
	js, err := signing.MarshalBundle(b)
	if err != nil {
		return nil, exitcode.Infra(err)
	}
	return js, nil
}
