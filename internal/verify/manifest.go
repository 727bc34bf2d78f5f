package verify

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
)

// evidenceRoles are the roles of records verify reads as bundles or
// signatures about the artifact they describe.
var evidenceRoles = []artifact.Role{artifact.RoleSignature, artifact.RoleProvenance, artifact.RoleAttestation}

// ManifestSubjects returns a subject for every artifact record of m (a file,
// or an image when the record has only a URI), with the bundles and
// signatures the manifest lists as describing it (signature, provenance and
// attestation records; when it lists none, those next to the artifact), the
// digest it records for each, and the SBOM documents that describe it.
// Paths are relative to the workspace dir, and every file is read inside
// it (Subject.Workspace). Registry records are not subjects: they say where
// the push stage put the artifacts (see artifact.RoleRegistry).
//
// Use Verifier.VerifyManifest, which also checks the manifest against what
// was signed; these subjects alone trust the manifest's names.
func ManifestSubjects(m *artifact.Manifest, dir string) []Subject {
	resolve := func(p string) string { return filepath.Join(dir, filepath.FromSlash(p)) }
	var out []Subject
	for _, a := range m.ByRole(artifact.RoleArtifact) {
		s := Subject{Name: a.Name, Digest: a.Digest, SBOMDir: dir, Workspace: dir}
		if a.Path == "" {
			s.Image = a.URI // an image in a registry, pinned by digest
		} else {
			s.Path = resolve(a.Path)
		}
		for _, r := range m.Describing(a.Digest) {
			switch {
			case r.Path == "":
			case slices.Contains(evidenceRoles, r.Role):
				p := resolve(r.Path)
				if _, dup := s.BundleDigests[p]; dup {
					continue // one bundle, recorded once per subject it describes
				}
				if s.BundleDigests == nil {
					s.BundleDigests = map[string]digest.SHA256{}
				}
				s.Bundles = append(s.Bundles, p)
				s.BundleDigests[p] = r.Digest
			case r.Role == artifact.RoleSBOM:
				s.SBOMs = append(s.SBOMs, r)
			}
		}
		out = append(out, s)
	}
	return out
}

// VerifyManifest verifies every artifact of m, whose paths are relative to
// the workspace dir, and then checks the manifest against what was signed,
// since nobody signed the manifest itself:
//
//   - every record is valid and its name bound to its path (Manifest.Validate);
//   - when any verified SLSA provenance (one that passed every provenance
//     rule) is among the bundles, its subjects' names and digests are the
//     truth: each artifact must be named by one with its digest, and each
//     subject one names must be an artifact of the manifest, with that
//     digest; what fails is reported as a "manifest" check of that artifact
//     (a subject dropped from the manifest gets a report of its own);
//   - receipt records are checked under the policy's log section (a
//     "receipt" check of the artifact they describe: see checkReceipts);
//   - registry records are listed in Report.Locations, not verified.
//
// The error is only for an invalid manifest or a cancelled context.
func (v *Verifier) VerifyManifest(ctx context.Context, m *artifact.Manifest, dir string) (*Report, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	arts := m.ByRole(artifact.RoleArtifact)
	subjects := ManifestSubjects(m, dir)
	if root, err := os.OpenRoot(dir); err == nil {
		// One root for every file of the manifest; a directory that
		// cannot be opened fails each file's check as before.
		defer root.Close()
		for i := range subjects {
			subjects[i].root = root
		}
	}
	r, err := v.Verify(ctx, subjects)
	if err != nil {
		return nil, err
	}
	crossCheck(r, arts)
	v.checkReceipts(r, m, dir, arts)
	for _, rec := range m.ByRole(artifact.RoleRegistry) {
		r.Locations = append(r.Locations, Location{Name: rec.Name, URI: rec.URI, Digest: rec.Digest.String()})
	}
	r.refresh()
	return r, nil
}

// signedSubject is one subject of a verified provenance statement.
type signedSubject struct {
	name, sha256 string // sha256 in lower-case hex
	bundle       string
}

// crossCheck checks the manifest's artifacts (reported in r.Subjects, in
// the same order) against the subjects of every verified provenance found.
func crossCheck(r *Report, arts []artifact.Record) {
	var signed []signedSubject
	seen := map[signedSubject]bool{}
	for _, s := range r.Subjects {
		for _, p := range s.provenance {
			if !seen[p] {
				seen[p] = true
				signed = append(signed, p)
			}
		}
	}
	if len(signed) == 0 {
		return // no provenance: nothing signed names the set
	}
	listed := map[string]bool{}
	for i, a := range arts {
		listed[a.Name] = true
		rep, want := r.Subjects[i], a.Digest.Hex()
		exact, sameName, sameDigest := match(signed, a.Name, want)
		switch {
		case exact != nil:
			rep.pass(CheckManifest, exact.bundle, "", "the provenance names %q with the manifest's sha256:%s", a.Name, want)
		case sameName != nil:
			rep.fail(CheckManifest, sameName.bundle, "the provenance names %q with sha256:%s, but the manifest records sha256:%s: the manifest does not describe what was built", a.Name, sameName.sha256, want)
		case sameDigest != nil:
			rep.fail(CheckManifest, sameDigest.bundle, "the provenance names sha256:%s %q, but the manifest calls it %q: the manifest renamed an artifact", want, sameDigest.name, a.Name)
		default:
			rep.fail(CheckManifest, "", "no verified provenance names %q with sha256:%s, while the manifest's provenance names %d other subject(s): attest every artifact of the manifest, or verify the manifest the build wrote", a.Name, want, len(signed))
		}
	}
	dropped := map[string]*SubjectReport{}
	for _, p := range signed {
		if listed[p.name] {
			continue
		}
		rep := dropped[p.name]
		if rep == nil {
			rep = &SubjectReport{Name: p.name, Digest: "sha256:" + p.sha256, Size: -1}
			dropped[p.name] = rep
			r.Subjects = append(r.Subjects, rep)
		}
		rep.fail(CheckManifest, p.bundle, "the provenance names %q sha256:%s, but the manifest lists no artifact %q: it was dropped from the manifest, and nothing about it was verified", p.name, p.sha256, p.name)
	}
}

// match finds the signed subject with name and digest, else the first one
// with that name, else the first one with that digest.
func match(signed []signedSubject, name, sha256 string) (exact, sameName, sameDigest *signedSubject) {
	for i, p := range signed {
		switch {
		case p.name == name && p.sha256 == sha256:
			return &signed[i], nil, nil
		case p.name == name && sameName == nil:
			sameName = &signed[i]
		case p.sha256 == sha256 && sameDigest == nil:
			sameDigest = &signed[i]
		}
	}
	return nil, sameName, sameDigest
}
