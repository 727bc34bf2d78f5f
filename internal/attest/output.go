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

// recordBundles adds one record per subject of each written bundle to the
// manifest, writes it back and returns the records added: provenance
// records for provenance, and attestation records for SBOM attestations and
// predicates made elsewhere (so that verify finds them wherever they are
// written, and fails when they go missing). Records are
// named "<bundle path>#<subject name>" so that each subject gets its own
// (the naming artifact.Record.Validate binds). The manifest is read again
// just before the atomic write, keeping records other steps added meanwhile.
func (o *Options) recordBundles(atts []Attestation) ([]artifact.Record, error) {
	role := artifact.RoleAttestation
	if o.Kind == KindProvenance {
		role = artifact.RoleProvenance
	}
	path := o.abs(o.Manifest)
	m, err := artifact.ReadManifest(path)
	if err != nil {
		return nil, exitcode.WithFile(exitcode.Infra(fmt.Errorf("reading the manifest again to record the attestations: %w", err)), o.Manifest)
	}
	var added []artifact.Record
	for _, a := range atts {
		if a.BundlePath == "" {
			continue
		}
		if err := artifact.CheckPath(a.BundlePath); err != nil {
			return nil, exitcode.WithFile(exitcode.BadInputf("the bundle %s, so manifest %q cannot record it: a manifest records files inside the workspace only; write the bundle inside the workspace (leave bundle empty to write it next to its subject)", err, o.Manifest), a.BundlePath)
		}
		for _, s := range a.Subjects {
			r := artifact.Record{
				Name:      a.BundlePath + "#" + s.Name,
				Path:      a.BundlePath,
				Digest:    a.BundleDigest,
				Size:      a.BundleSize,
				MediaType: BundleMediaType,
				Role:      role,
				Describes: s.Digest,
			}
			m.Add(r)
			added = append(added, r)
		}
	}
	if len(added) == 0 {
		return nil, nil
	}
	if err := m.WriteFile(path); err != nil {
		return nil, exitcode.WithFile(exitcode.Infra(fmt.Errorf("updating manifest: %w", err)), o.Manifest)
	}
	return added, nil
}
