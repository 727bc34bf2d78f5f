package attest

import (
	"context"
	"fmt"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/provenance"
)

// sbomPlans makes one statement per SBOM. With the sbom input, that SBOM
// is attested about the selected subjects — or, for a manifest alone, about
// the artifact its manifest record describes when it has one. Without it,
// every SBOM of the right kind that the manifest records about one of the
// subjects is attested about that subject.
func (o *Options) sbomPlans(ctx context.Context, m *artifact.Manifest, img *image, subjects []artifact.Subject) ([]plan, error) {
	var files []sbomFile
	var about [][]artifact.Subject
	if o.SBOM != "" {
		f := sbomFile{path: o.abs(o.SBOM)}
		f.name = o.rel(f.path)
		if m != nil {
			if rec, ok := findRecord(m, artifact.RoleSBOM, f.name); ok {
				f.record = &rec
				if o.Subject == "" && img == nil {
					subjects = describedBy(m, rec.Describes)
					if len(subjects) == 0 {
						return nil, exitcode.WithFile(exitcode.BadInputf("SBOM %q describes digest %s, which is no artifact of manifest %q; run \"slipway sbom\" on one of its artifacts", f.name, rec.Describes, o.Manifest), o.Manifest)
					}
				}
			}
		}
		files, about = append(files, f), append(about, subjects)
	} else {
		for _, s := range subjects {
			for _, rec := range m.Describing(s.Digest) {
				if rec.Role != artifact.RoleSBOM || !o.Kind.matchesMediaType(rec.MediaType) {
					continue
				}
				if rec.Path == "" {
					return nil, exitcode.WithFile(exitcode.BadInputf("SBOM record %q in manifest %q has no path; give the SBOM file with sbom", rec.Name, o.Manifest), o.Manifest)
				}
				if err := o.inside(rec.Path); err != nil {
					return nil, fmt.Errorf("SBOM record %q in manifest %q: %w", rec.Name, o.Manifest, err)
				}
				files = append(files, sbomFile{path: o.abs(rec.Path), name: rec.Path, record: &rec})
				about = append(about, []artifact.Subject{s})
			}
		}
		if len(files) == 0 {
			return nil, exitcode.WithFile(exitcode.BadInputf("manifest %q records no %s SBOM of the subjects; run \"slipway sbom\" with a %s format first, or give the SBOM with sbom", o.Manifest, o.Kind, o.Kind), o.Manifest)
		}
	}

	plans := make([]plan, 0, len(files))
	for i, f := range files {
		rds, err := provenance.Subjects(about[i])
		if err != nil {
			return nil, exitcode.BadInput(err)
		}
		pt, predicate, err := sbomPredicate(ctx, f, o.Kind, o.SBOMInlineLimit)
		if err != nil {
			return nil, err
		}
		if pt == SBOMReferencePredicateType {
			o.Log.Info("SBOM is larger than sbom-inline-limit: attesting it by digest reference", "sbom", f.name, "limit", o.SBOMInlineLimit, "predicateType", pt)
		}
		payload, err := encodeStatement(rds, pt, predicate)
		if err != nil {
			return nil, exitcode.Infra(fmt.Errorf("SBOM %q: %w", f.name, err))
		}
		p := plan{subjects: about[i], predicateType: pt, payload: payload, bundlePath: o.abs(o.Bundle)}
		if p.bundlePath == "" {
			p.bundlePath = f.path + BundleSuffix
		}
		plans = append(plans, p)
	}
	return plans, nil
}

// describedBy returns the artifacts of m with digest d.
func describedBy(m *artifact.Manifest, d digest.SHA256) []artifact.Subject {
	var out []artifact.Subject
	for _, s := range m.Subjects() {
		if s.Digest == d {
			out = append(out, s)
		}
	}
	return out
}
