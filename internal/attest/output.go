package attest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/sigstore/sigstore-go/pkg/bundle"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
)

// BundleMediaType is the media type of the bundles written.
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// store writes a signed statement's bundle file and attaches it to the
// image.
func (o *Options) store(ctx context.Context, p plan, b *bundle.Bundle, img *image) (Attestation, error) {
	a := Attestation{PredicateType: p.predicateType, Subjects: p.subjects}
	js, err := json.Marshal(b) // the bundle's protobuf JSON form
	if err != nil {
		return a, exitcode.Infra(fmt.Errorf("encoding the bundle: %w", err))
	}
	js = append(js, '\n')
	a.BundleDigest, a.BundleSize = digest.SHA256(sha256.Sum256(js)), int64(len(js))
	if p.bundlePath != "" {
		a.BundlePath = o.rel(p.bundlePath)
		if err := o.inside(p.bundlePath); err != nil {
			return a, err
		}
		if err := atomicfile.WriteFile(p.bundlePath, js, 0o644); err != nil {
			return a, exitcode.WithFile(exitcode.Infra(fmt.Errorf("writing bundle: %w", err)), a.BundlePath)
		}
		o.Log.Info("wrote attestation", "bundle", a.BundlePath, "predicateType", p.predicateType, "subjects", len(p.subjects))
	}
	if img != nil {
		if a.Attached, err = o.Registry.attach(ctx, img, b, js, p.predicateType); err != nil {
			return a, err
		}
		for _, loc := range a.Attached {
			o.Log.Info("attached attestation", "image", img.digest.String(), "at", loc)
		}
	}
	return a, nil
}

// recordProvenance adds one provenance record per subject of each written
// bundle to the manifest and writes it back. Records are named
// "<bundle path>#<subject name>" so that each subject gets its own.
func (o *Options) recordProvenance(m *artifact.Manifest, atts []Attestation) (bool, error) {
	added := false
	for _, a := range atts {
		if a.BundlePath == "" {
			continue
		}
		for _, s := range a.Subjects {
			m.Add(artifact.Record{
				Name:      a.BundlePath + "#" + s.Name,
				Path:      a.BundlePath,
				Digest:    a.BundleDigest,
				Size:      a.BundleSize,
				MediaType: BundleMediaType,
				Role:      artifact.RoleProvenance,
				Describes: s.Digest,
			})
			added = true
		}
	}
	if !added {
		return false, nil
	}
	if err := m.WriteFile(o.abs(o.Manifest)); err != nil {
		return false, exitcode.WithFile(exitcode.Infra(fmt.Errorf("updating manifest: %w", err)), o.Manifest)
	}
	return true, nil
}
