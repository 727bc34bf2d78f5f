package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/slipway/actions/internal/digest"
)

// sbomReference is the predicate of an SBOM attested by digest
// (policy.SBOMReference): {"sbom": {name, uri, digest, mediaType},
// "sbomPredicateType": …, "size": …}.
type sbomReference struct {
	SBOM struct {
		Name      string            `json:"name"`
		URI       string            `json:"uri"`
		Digest    map[string]string `json:"digest"`
		MediaType string            `json:"mediaType"`
	} `json:"sbom"`
	PredicateType string `json:"sbomPredicateType"`
	Size          int64  `json:"size"`
}

// parseSBOMReference returns the reference, or nil if raw is not one.
func parseSBOMReference(raw json.RawMessage) *sbomReference {
	var r sbomReference
	if err := json.Unmarshal(raw, &r); err != nil || r.SBOM.Digest["sha256"] == "" || r.PredicateType == "" {
		return nil
	}
	return &r
}

// sbomPredicate is the part of an inline CycloneDX or SPDX document that
// says what it describes.
type sbomPredicate struct {
	// CycloneDX: the component the SBOM describes.
	Metadata *struct {
		Component *struct {
			Hashes []struct {
				Alg     string `json:"alg"`
				Content string `json:"content"`
			} `json:"hashes"`
		} `json:"component"`
	} `json:"metadata"`
	// SPDX: the packages the document describes.
	DocumentDescribes []string `json:"documentDescribes"`
	Packages          []struct {
		SPDXID    string `json:"SPDXID"`
		Checksums []struct {
			Algorithm     string `json:"algorithm"`
			ChecksumValue string `json:"checksumValue"`
		} `json:"checksums"`
	} `json:"packages"`
}

// checkSBOM checks that a verified SBOM attestation about the subject is
// bound to it: by the statement (already checked), by the digest the SBOM
// itself names for what it describes, and, for an SBOM referenced by
// digest, that the referenced document is the one the manifest lists. It
// reports whether the SBOM is bound to the subject.
func (v *Verifier) checkSBOM(rep *SubjectReport, ev *evidence, predicateType string, raw json.RawMessage, subjectHex string) bool {
	var pred sbomPredicate
	if err := json.Unmarshal(raw, &pred); err != nil {
		rep.fail(CheckSBOM, ev.path, "the %s predicate does not parse: %v", predicateType, err)
		return false
	}
	described := describedHashes(&pred)
	if len(described) == 0 {
		rep.pass(CheckSBOM, ev.path, "", "SBOM attestation binds to the subject's sha256:%s (through the statement; the SBOM names no digest of what it describes)", subjectHex)
		return true
	}
	for _, h := range described {
		if strings.EqualFold(h, subjectHex) {
			rep.pass(CheckSBOM, ev.path, "", "SBOM attestation binds to the subject's sha256:%s, and the SBOM describes that digest", subjectHex)
			return true
		}
	}
	rep.fail(CheckSBOM, ev.path, "the attested SBOM describes sha256:%s, not the subject's sha256:%s: it is another artifact's SBOM", strings.Join(described, ", sha256:"), subjectHex)
	return false
}

// describedHashes returns the SHA-256 digests an inline SBOM gives for what
// it describes.
func describedHashes(p *sbomPredicate) []string {
	var out []string
	if p.Metadata != nil && p.Metadata.Component != nil {
		for _, h := range p.Metadata.Component.Hashes {
			if strings.EqualFold(h.Alg, "SHA-256") && h.Content != "" {
				out = append(out, strings.ToLower(h.Content))
			}
		}
	}
	for _, pkg := range p.Packages {
		if !contains(p.DocumentDescribes, pkg.SPDXID) {
			continue
		}
		for _, c := range pkg.Checksums {
			if strings.EqualFold(c.Algorithm, "SHA256") && c.ChecksumValue != "" {
				out = append(out, strings.ToLower(c.ChecksumValue))
			}
		}
	}
	return out
}

// checkSBOMReference checks an SBOM attested by digest against the SBOM
// documents the manifest lists for the subject, hashing the one it names.
// It reports whether the reference is bound to a listed SBOM (or, with none
// listed, to the subject alone).
func (v *Verifier) checkSBOMReference(rep *SubjectReport, ev *evidence, r *sbomReference, subjectHex string, s Subject) bool {
	ref, name := strings.ToLower(r.SBOM.Digest["sha256"]), r.SBOM.Name
	if len(s.SBOMs) == 0 {
		rep.pass(CheckSBOM, ev.path, "", "SBOM attestation binds the subject's sha256:%s to SBOM %q sha256:%s (the SBOM document was not given, so its content is not checked)", subjectHex, name, ref)
		return true
	}
	var listed []string
	for _, r := range s.SBOMs {
		listed = append(listed, r.Digest.Hex())
		if r.Digest.Hex() != ref {
			continue
		}
		if r.Path == "" {
			rep.pass(CheckSBOM, ev.path, "", "SBOM attestation binds the subject to SBOM %q sha256:%s, which the manifest lists (no local file to hash)", r.Name, ref)
			return true
		}
		path := r.Path
		if !filepath.IsAbs(path) {
			path = filepath.Join(s.SBOMDir, filepath.FromSlash(path))
		}
		d, err := hashFile(s, path)
		switch {
		case err != nil:
			rep.fail(CheckSBOM, ev.path, "the attested SBOM %q cannot be read to check its digest: %v", r.Name, err)
		case d.Hex() != ref:
			rep.fail(CheckSBOM, ev.path, "the SBOM file %q is %s, not the attested sha256:%s: the SBOM changed", r.Path, d, ref)
		default:
			rep.pass(CheckSBOM, ev.path, "", "SBOM attestation binds the subject's sha256:%s to SBOM %q, whose content is the attested sha256:%s", subjectHex, r.Name, ref)
			return true
		}
		return false
	}
	rep.fail(CheckSBOM, ev.path, "the attestation references SBOM sha256:%s, but the manifest's SBOMs for this subject are %s", ref, fmt.Sprintf("sha256:%s", strings.Join(listed, ", sha256:")))
	return false
}

// hashFile returns the SHA-256 of a regular file of subject s, read once.
func hashFile(s Subject, path string) (digest.SHA256, error) {
	f, err := openFile(s, path)
	if err != nil {
		return digest.SHA256{}, err
	}
	defer f.Close()
	d, _, err := digest.Copy(io.Discard, f)
	return d, err
}
