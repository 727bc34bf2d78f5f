package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/canonjson"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/mirror"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/registryref"
	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/tlog/entry"
	"github.com/slipway/actions/internal/verify"
)

// ReferenceMediaType is the Content-Type of an admission by reference:
// POST /api/v1/releases with {"reference": "registry/repo@sha256:<hex>"}.
const ReferenceMediaType = "application/vnd.slipway.reference+json"

// CheckReference names the check of an admission by reference that failed
// before verification: the registry does not have the image, refuses the
// server's credentials, or serves what admission does not copy.
const CheckReference = "reference"

// referenceBody is the body of an admission by reference.
type referenceBody struct {
	Reference string `json:"reference"`
}

// isReferenceRequest reports whether r is an admission by reference.
func isReferenceRequest(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == ReferenceMediaType
}

// parseReferenceRequest reads an admission by reference: one image pinned
// by its sha256 digest. The release is the image in its repository: its id
// and manifest digest come from the canonical JSON of the reference
// normalized ({"reference":"REGISTRY/REPO@sha256:<hex>"}), so that the
// same image from the same repository is one release however it is
// spelled. The manifest is one artifact record of the image (a record with
// only a URI, as a build manifest names an image in a registry); its size
// and media type are filled in once the image is read.
func parseReferenceRequest(body []byte) (*releaseRequest, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var b referenceBody
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("the body is not {\"reference\": \"registry/repo@sha256:<hex>\"}: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New(`the body holds more than one JSON value; send one {"reference": "registry/repo@sha256:<hex>"}`)
	}
	ref, err := registryref.Parse(b.Reference)
	if err != nil {
		return nil, fmt.Errorf("field \"reference\": %w", err)
	}
	pinned, ok := ref.(name.Digest)
	if !ok {
		return nil, fmt.Errorf("field \"reference\": %q names a tag, which can move: admission needs the image's digest (registry/repo@sha256:<hex>); slipway push records it as the uri of its registry record in the manifest, and crane digest or docker buildx imagetools inspect print it", b.Reference)
	}
	d, err := digest.Parse(pinned.DigestStr())
	if err != nil {
		return nil, fmt.Errorf("field \"reference\": %q: %w; only sha256 images can be admitted", b.Reference, err)
	}
	repo := pinned.Context().Name()
	canon, err := json.Marshal(referenceBody{Reference: repo + "@" + d.String()})
	if err != nil {
		return nil, err
	}
	if canon, err = canonjson.Transform(canon); err != nil {
		return nil, fmt.Errorf("canonicalizing the reference: %w", err)
	}
	sum := digest.SHA256(sha256.Sum256(canon))
	m := artifact.NewManifest()
	m.Add(artifact.Record{Name: repo, URI: repo + "@" + d.String(), Digest: d, Role: artifact.RoleArtifact})
	return &releaseRequest{manifest: m, digest: sum, canon: canon, id: "r-" + sum.Hex()[:16], image: pinned.Context().Digest(d.String())}, nil
}

// runReference copies the image and what refers to it into the blob
// store, verifies the copy under the server's policy as slipway verify
// --image verifies an image, and decides as for an upload.
func (a *admitter) runReference(w http.ResponseWriter, r *http.Request, req *releaseRequest) error {
	ctx := r.Context()
	_, who := callerOf(ctx)
	if !a.s.cfg.AllowPrivateRegistries {
		if err := mirror.CheckHost(req.image.RegistryStr()); err != nil {
			return refusedRegistry(err)
		}
	}
	cp, err := mirror.Fetch(ctx, req.image, mirror.Options{Blobs: a.s.cfg.Blobs, Transport: a.registry,
		Keychain: a.s.cfg.RegistryKeychain, MaxBlobSize: a.maxBlobSize()})
	if err != nil {
		return a.fetchFailed(w, r, req, who, err)
	}
	rec := &req.manifest.Records[0]
	rec.Size, rec.MediaType = cp.Image.Size, string(cp.Image.MediaType)
	req.evidence, req.files = referenceRecords(cp)
	v := verify.New(a.policy, verify.WithLogger(a.s.log), verify.WithRegistryOptions(remote.WithTransport(cp.Transport())))
	rep, err := v.VerifyManifest(ctx, req.manifest, a.staging)
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return &Problem{Status: http.StatusBadRequest, Type: "bad-reference", Title: "Not an image reference", Detail: err.Error()}
	}
	a.s.log.Debug("image copied", "request_id", requestID(ctx), "image", req.image.String(), "bytes", cp.Bytes, "referrers", len(cp.Referrers))
	return a.conclude(w, r, req, rep, a.staging)
}

// fetchFailed answers a copy that failed: what is about the image (not
// there, not readable with the server's credentials, not an image) is a
// refused release, logged; a registry the server may not reach is a 400, a
// blob over the limit a 413, anything else (the network, the registry's
// errors) a 502 to retry.
func (a *admitter) fetchFailed(w http.ResponseWriter, r *http.Request, req *releaseRequest, who string, err error) error {
	ctx := r.Context()
	var me *mirror.Error
	var tl *blobstore.TooLargeError
	switch {
	case ctx.Err() != nil:
		return context.Cause(ctx)
	case mirror.IsPrivateAddress(err):
		return refusedRegistry(err)
	case errors.As(err, &tl):
		return &Problem{Status: http.StatusRequestEntityTooLarge, Type: "too-large", Title: "Image too large",
			Detail: fmt.Sprintf("a blob of %s is larger than the server's limit of %d bytes (--max-blob-size); admit a smaller image, or ask the operator to raise the limit", req.image, tl.Limit)}
	case errors.As(err, &me):
		return a.reject(w, r, req, who, "", verify.Check{Check: CheckReference, Subject: req.manifest.Records[0].Name, Message: me.Msg})
	}
	return &Problem{Status: http.StatusBadGateway, Type: "registry-unavailable", Title: "Registry unavailable", RetryAfter: 5,
		Detail: fmt.Sprintf("the image %s could not be copied from its registry; check that the registry is up, then send the same reference again (admission is idempotent)", req.image), Cause: err}
}

func refusedRegistry(err error) error {
	return &Problem{Status: http.StatusBadRequest, Type: "registry-not-allowed", Title: "Registry not allowed", Detail: err.Error()}
}

// referenceRecords are what the log and the store record of the copy
// besides the image. The log's evidence: each referrer and cosign tag by
// its manifest's digest, with the role its predicate type (or tag) says.
// The store's files: every manifest and blob of the copy at its path in an
// OCI image layout (blobs/sha256/<hex>), with the role of the part it
// belongs to (artifact for the image's own).
func referenceRecords(cp *mirror.Copy) ([]entry.Evidence, []store.File) {
	repo := cp.Ref.Context().Name()
	about := cp.Image.Digest.Hex()
	roles := map[digest.SHA256]artifact.Role{cp.Image.Digest: artifact.RoleArtifact}
	var evs []entry.Evidence
	for _, d := range cp.Referrers {
		role := artifact.RoleAttestation
		switch d.Annotations["dev.sigstore.bundle.predicateType"] {
		case verify.CosignSignPredicate:
			role = artifact.RoleSignature
		case policy.SLSAProvenanceV1:
			role = artifact.RoleProvenance
		}
		if rd, err := digest.Parse(d.Digest.String()); err == nil {
			roles[rd] = role
		}
		evs = append(evs, entry.Evidence{Describes: about, Name: repo + "@" + d.Digest.String(), Role: string(role), SHA256: d.Digest.Hex})
	}
	tags := make([]string, 0, len(cp.Tags))
	for t := range cp.Tags {
		tags = append(tags, t)
	}
	slices.Sort(tags)
	for _, t := range tags {
		role := artifact.RoleAttestation
		if strings.HasSuffix(t, ".sig") {
			role = artifact.RoleSignature
		}
		roles[cp.Tags[t]] = role
		evs = append(evs, entry.Evidence{Describes: about, Name: repo + ":" + t, Role: string(role), SHA256: cp.Tags[t].Hex()})
	}
	files := make([]store.File, 0, len(cp.Files))
	for _, f := range cp.Files {
		role, ok := roles[f.Of]
		if !ok {
			role = artifact.RoleAttestation
		}
		p := artifact.LayoutBlob("image", f.Digest.Hex())
		sf := store.File{Role: string(role), Name: p, Path: p, Digest: f.Digest.String(), Size: f.Size, MediaType: f.MediaType}
		if role != artifact.RoleArtifact {
			sf.Describes = cp.Image.Digest.String()
		}
		files = append(files, sf)
	}
	return evs, files
}

// maxBlobSize is the limit of one blob, uploaded or copied.
func (a *admitter) maxBlobSize() int64 {
	if a.s.cfg.MaxBlobSize > 0 {
		return a.s.cfg.MaxBlobSize
	}
	return DefaultMaxBlobSize
}
