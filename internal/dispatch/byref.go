package dispatch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/canonjson"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/export"
	"github.com/slipway/actions/internal/registryref"
	"github.com/slipway/actions/internal/tlog/receipt"
	"github.com/slipway/actions/internal/verify"
)

// maxReference bounds the manifest of a release admitted by reference
// ({"reference":"REGISTRY/REPO@sha256:HEX"}): a longer manifest is a build
// manifest.
const maxReference = 4 << 10

// reference is the admitted manifest of a release admitted by reference:
// the canonical JSON {"reference":"REGISTRY/REPO@sha256:HEX"} (slipway
// upload --reference; docs/server.md "Admission by reference").
type reference struct {
	Reference string `json:"reference"`
}

// ParseReference reads the admitted manifest raw of release rel as a
// reference; ok is false when it is not one (a build manifest). A
// reference that is not the canonical form of an image pinned by digest,
// or whose digest is not the release's, is an error.
func ParseReference(raw []byte, rel export.Release) (ref name.Digest, ok bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var b reference
	if dec.Decode(&b) != nil || b.Reference == "" {
		return ref, false, nil
	}
	if got := digest.SHA256(sha256.Sum256(raw)); got.String() != rel.ManifestDigest || "r-"+got.Hex()[:16] != rel.ID {
		return ref, true, fmt.Errorf("release %q: its manifest arrived with digest %s, not the release's %q: the control plane's copy is damaged; tell its operator", rel.ID, got, rel.ManifestDigest)
	}
	r, err := registryref.Parse(b.Reference)
	if err != nil {
		return ref, true, fmt.Errorf("release %q: reference %q: %w", rel.ID, b.Reference, err)
	}
	pinned, isDigest := r.(name.Digest)
	if !isDigest {
		return ref, true, fmt.Errorf("release %q: reference %q is not pinned by a digest: the control plane admits images by digest only; tell its operator", rel.ID, b.Reference)
	}
	canon, err := json.Marshal(reference{Reference: pinned.Context().Name() + "@" + pinned.DigestStr()})
	if err == nil {
		canon, err = canonjson.Transform(canon)
	}
	if err != nil || !bytes.Equal(canon, raw) {
		return ref, true, fmt.Errorf("release %q: its manifest %q is not the canonical form of its reference (%v): the control plane's copy is damaged; tell its operator", rel.ID, raw, err)
	}
	return pinned, true, nil
}

// stageReference stages release id when it was admitted by reference (ok
// false: it was not, stage its files): the image manifest (or index) is
// pulled by digest from the registry the reference names into the OCI
// image layout WORKDIR/.slipway/release-ID/image, checked against the
// admitted digest; then the image is verified under the policy as slipway
// verify --image verifies it (its signatures and attestations read from
// its OCI referrers and cosign tags), with the release's receipt required.
// The Sigstore bundles verified are kept in the layout (bundles/), so that
// exec-verified on the node checks them again. The image's config and
// layers are staged by StageImage, as for an image uploaded with its
// manifest.
func stageReference(ctx context.Context, o StageOptions, h *export.HTTPSource, id, dir string) (st *Staged, ok bool, err error) {
	rel, err := h.Release(ctx, id)
	if err != nil {
		return nil, true, fmt.Errorf("fetching release %q: %w", id, err)
	}
	rc, err := h.Manifest(ctx, rel)
	if err != nil {
		return nil, true, fmt.Errorf("fetching release %q: %w", id, err)
	}
	raw, err := io.ReadAll(io.LimitReader(rc, maxReference+1))
	rc.Close()
	if err != nil {
		return nil, true, fmt.Errorf("fetching the manifest of release %q: %w", id, err)
	}
	if len(raw) > maxReference {
		return nil, false, nil
	}
	ref, ok, err := ParseReference(raw, rel)
	if !ok || err != nil {
		return nil, ok, err
	}
	if rel.Receipt == "" {
		return nil, true, fmt.Errorf("release %q has no receipt at the control plane; it cannot be verified", id)
	}
	parsed, err := receipt.Parse([]byte(rel.Receipt))
	if err != nil {
		return nil, true, fmt.Errorf("release %q: its receipt: %w", id, err)
	}
	rel.LogIndex = parsed.Index
	o.logger().Info("staging the image admitted by reference", "release", id, "image", ref.String(), "into", dir)
	m, err := pullReference(ctx, o, ref, dir)
	if err != nil {
		return nil, true, fmt.Errorf("release %q: %w", id, err)
	}
	d := m.Records[0].Digest
	rcPath := id + artifact.ReceiptExt
	if err := atomicfile.WriteFile(filepath.Join(dir, rcPath), []byte(rel.Receipt), 0o644); err != nil {
		return nil, true, err
	}
	m.Add(artifact.NewReceipt(rcPath, digest.SHA256(sha256.Sum256([]byte(rel.Receipt))), int64(len(rel.Receipt)), d))
	if _, err := os.Lstat(filepath.Join(dir, export.KeyFile)); errors.Is(err, os.ErrNotExist) && o.Policy.Log.Verifier == nil {
		key, err := h.VerifierKey(ctx)
		if err != nil {
			return nil, true, err
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, export.KeyFile), []byte(key+"\n"), 0o644); err != nil {
			return nil, true, err
		}
	}
	p, err := o.stagedPolicy(id, dir)
	if err != nil {
		return nil, true, err
	}
	var mu sync.Mutex
	bundles := map[string][]byte{}
	keep := verify.WithImageBundles(func(_ digest.SHA256, _ string, data []byte) {
		mu.Lock()
		defer mu.Unlock()
		bundles[digest.SHA256(sha256.Sum256(data)).Hex()] = slices.Clone(data)
	})
	r, err := verify.New(p, verify.WithLogger(o.logger()), verify.WithRegistryOptions(registryOptions(ctx, o.Registry)...), keep).VerifyManifest(ctx, m, dir)
	if err != nil {
		return nil, true, fmt.Errorf("verifying release %q: %w", id, err)
	}
	if !r.Verified {
		return nil, true, &RefusedError{Release: id, Report: r}
	}
	for hex, data := range bundles {
		path := referenceLayout + "/bundles/" + hex + ".sigstore.json"
		if err := atomicfile.WriteFile(filepath.Join(dir, filepath.FromSlash(path)), data, 0o644); err != nil {
			return nil, true, err
		}
		m.Add(artifact.Record{Name: path, Path: path, Digest: digest.SHA256(sha256.Sum256(data)), Size: int64(len(data)),
			MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", Role: artifact.RoleSignature, Describes: d})
	}
	return &Staged{Release: rel, Dir: dir, Manifest: m, Report: r, Sources: sourcesOf(r)}, true, nil
}

// pullReference writes the manifest (or index) of the image ref into the
// layout of dir, checked against ref's digest, and returns a manifest of
// one artifact record: the image by reference, as the control plane
// admitted it (its repository's name, its URI pinned by digest), with the
// media type the registry served.
func pullReference(ctx context.Context, o StageOptions, ref name.Digest, dir string) (*artifact.Manifest, error) {
	want, err := digest.Parse(ref.DigestStr())
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", ref, err)
	}
	desc, err := remote.Get(ref, registryOptions(ctx, o.Registry)...)
	if err != nil {
		return nil, fmt.Errorf("pulling image %s: %w; check that the registry is up and readable with the Docker config's credentials", ref, err)
	}
	if got := digest.SHA256(sha256.Sum256(desc.Manifest)); got != want {
		return nil, fmt.Errorf("the registry sent a manifest of digest %s for image %s: refused", got, ref)
	}
	m := artifact.NewManifest()
	a := artifact.Record{Name: ref.Context().Name(), URI: ref.Context().Name() + "@" + want.String(), Digest: want,
		Size: int64(len(desc.Manifest)), MediaType: string(desc.MediaType), Role: artifact.RoleArtifact}
	if !isImage(a) {
		return nil, fmt.Errorf("%s is %q, not an image: dispatch runs images and files", ref, desc.MediaType)
	}
	blob := filepath.Join(dir, referenceLayout, "blobs", "sha256", want.Hex())
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		return nil, fmt.Errorf("creating %q: %w; check that the workdir is writable", filepath.Dir(blob), err)
	}
	if err := atomicfile.WriteFile(blob, desc.Manifest, 0o644); err != nil {
		return nil, err
	}
	m.Add(a)
	return m, nil
}
