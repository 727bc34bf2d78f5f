package attest

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/sigstore/cosign/v2/pkg/oci/mutate"
	ociremote "github.com/sigstore/cosign/v2/pkg/oci/remote"
	"github.com/sigstore/cosign/v2/pkg/oci/static"
	ctypes "github.com/sigstore/cosign/v2/pkg/types"
	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/registryref"
	"github.com/slipway/actions/internal/signing"
)

// RegistryFormat is how an attestation is stored next to an image.
type RegistryFormat string

// The registry formats; both are what cosign v2 writes and reads.
const (
	// FormatLegacy: the DSSE envelope as a layer (media type
	// application/vnd.dsse.envelope.v1+json, annotated with its predicate
	// type) of the image tagged sha256-<digest>.att, as "cosign attest"
	// writes it; "cosign verify-attestation" reads it.
	FormatLegacy RegistryFormat = "legacy"
	// FormatReferrer: the Sigstore bundle as an OCI referrer of the image
	// (artifactType application/vnd.dev.sigstore.bundle.v0.3+json), as
	// "cosign attest --new-bundle-format" writes it; "cosign
	// verify-attestation --new-bundle-format" reads it. Registries without
	// the referrers API get the OCI 1.1 fallback tag sha256-<digest>.
	FormatReferrer RegistryFormat = "referrer"
	// FormatBoth writes both, so that either kind of verifier finds it.
	FormatBoth RegistryFormat = "both"
)

// ParseRegistryFormat parses the registry-format input; empty means both.
func ParseRegistryFormat(s string) (RegistryFormat, error) {
	switch f := RegistryFormat(s); f {
	case "":
		return FormatBoth, nil
	case FormatLegacy, FormatReferrer, FormatBoth:
		return f, nil
	}
	return "", fmt.Errorf("registry format %q is not supported; use legacy, referrer or both", s)
}

// Registry is how the stage reaches an image's registry.
type Registry struct {
	// Keychain supplies credentials; nil means authn.DefaultKeychain (the
	// Docker config).
	Keychain authn.Keychain
	// Transport carries the requests; nil means remote.DefaultTransport.
	Transport http.RoundTripper
	// Format selects how attestations are stored; empty means FormatBoth.
	Format RegistryFormat
}

// image is an image subject, pinned by digest.
type image struct {
	digest  name.Digest
	subject artifact.Subject
}

func (r Registry) remoteOptions(ctx context.Context) []remote.Option {
	kc := r.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc)}
	if r.Transport != nil {
		opts = append(opts, remote.WithTransport(r.Transport))
	}
	return opts
}

func (r Registry) ociOptions(ctx context.Context, img *image) []ociremote.Option {
	opts := []ociremote.Option{ociremote.WithRemoteOptions(r.remoteOptions(ctx)...)}
	if registryref.IsLoopback(img.digest.RegistryStr()) {
		opts = append(opts, ociremote.WithNameOptions(name.Insecure))
	}
	return opts
}

// resolve pins ref to the digest the registry serves for it now.
func (r Registry) resolve(ctx context.Context, ref string) (*image, error) {
	parsed, err := registryref.Parse(ref)
	if err != nil {
		return nil, exitcode.BadInput(fmt.Errorf("input \"image\": %w", err))
	}
	desc, err := remote.Head(parsed, r.remoteOptions(ctx)...)
	if err != nil {
		return nil, registryError(fmt.Sprintf("resolving image %q", ref), err)
	}
	d, err := digest.Parse(desc.Digest.String())
	if err != nil {
		return nil, exitcode.Failuref("image %q has digest %q: only sha256 images can be attested", ref, desc.Digest)
	}
	if dr, ok := parsed.(name.Digest); ok && dr.DigestStr() != desc.Digest.String() {
		return nil, exitcode.Failuref("registry serves %s for %q: the content does not match its digest", desc.Digest, ref)
	}
	return &image{
		digest:  parsed.Context().Digest(desc.Digest.String()),
		subject: artifact.Subject{Name: parsed.Context().Name(), Digest: d},
	}, nil
}

// attach stores the attestation next to the image in the configured
// formats and returns where.
func (r Registry) attach(ctx context.Context, img *image, b *bundle.Bundle, bundleJSON []byte, predicateType string) ([]string, error) {
	opts := r.ociOptions(ctx, img)
	var where []string
	if r.Format != FormatReferrer {
		tag, err := attachLegacy(img, b, predicateType, opts)
		if err != nil {
			return nil, err
		}
		where = append(where, tag)
	}
	if r.Format != FormatLegacy {
		if err := ociremote.WriteAttestationNewBundleFormat(img.digest, bundleJSON, predicateType, opts...); err != nil {
			return nil, registryError(fmt.Sprintf("attaching the bundle to %s as an OCI referrer", img.digest), err)
		}
		where = append(where, "referrer of "+img.digest.String())
	}
	return where, nil
}

// attachLegacy appends the DSSE envelope to the image's .att attestations,
// with the certificate and the transparency log entry in cosign's layer
// annotations.
func attachLegacy(img *image, b *bundle.Bundle, predicateType string, opts []ociremote.Option) (string, error) {
	env := b.GetDsseEnvelope()
	if env == nil {
		return "", exitcode.Infra(errors.New("the bundle holds no DSSE envelope (internal error)"))
	}
	// The envelope's bytes are exactly those the signer sent to Rekor
	// (sigstore-go encodes the protobuf envelope with encoding/json), whose
	// hash the log entry records and cosign compares with the layer.
	envJSON, err := json.Marshal(env)
	if err != nil {
		return "", exitcode.Infra(fmt.Errorf("encoding the DSSE envelope: %w", err))
	}
	sopts := []static.Option{
		static.WithLayerMediaType(ctypes.DssePayloadType),
		static.WithAnnotations(map[string]string{"predicateType": predicateType}),
	}
	vc, err := b.VerificationContent()
	if err != nil {
		return "", exitcode.Infra(fmt.Errorf("reading the bundle's verification material: %w", err))
	}
	if cert := vc.Certificate(); cert != nil {
		sopts = append(sopts, static.WithCertChain(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), nil))
	}
	if rb := signing.CosignRekorBundle(b); rb != nil {
		sopts = append(sopts, static.WithBundle(rb))
	}
	att, err := static.NewAttestation(envJSON, sopts...)
	if err != nil {
		return "", exitcode.Infra(fmt.Errorf("building the attestation layer: %w", err))
	}
	se, err := mutate.AttachAttestationToEntity(ociremote.SignedUnknown(img.digest, opts...), att)
	if err != nil {
		return "", exitcode.Infra(fmt.Errorf("attaching the attestation: %w", err))
	}
	if err := ociremote.WriteAttestations(img.digest.Repository, se, opts...); err != nil {
		return "", registryError(fmt.Sprintf("writing the attestations of %s", img.digest), err)
	}
	tag, err := ociremote.AttestationTag(img.digest, opts...)
	if err != nil {
		return "", exitcode.Infra(err)
	}
	return tag.String(), nil
}

// registryError classifies a registry failure: a missing image or refused
// credentials are the user's to fix (exit 2), anything else is the
// infrastructure's (exit 3).
func registryError(op string, err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusNotFound:
			return exitcode.BadInput(fmt.Errorf("%s: %w; check the reference and that the image was pushed", op, err))
		case http.StatusUnauthorized, http.StatusForbidden:
			return exitcode.BadInput(fmt.Errorf("%s: %w; check the registry credentials (Docker config) and their write permission", op, err))
		}
	}
	return exitcode.Infra(fmt.Errorf("%s: %w; check that the registry is reachable", op, err))
}
