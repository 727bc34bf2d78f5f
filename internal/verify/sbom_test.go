package verify_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/verify"
)

func cyclonedx(sum string) map[string]any {
	doc := map[string]any{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []any{}}
	if sum != "" {
		doc["metadata"] = map[string]any{"component": map[string]any{
			"type": "file", "name": "app.tar.gz", "hashes": []any{map[string]any{"alg": "SHA-256", "content": sum}},
		}}
	}
	return doc
}

func spdx(sum string) map[string]any {
	return map[string]any{
		"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "documentDescribes": []any{"SPDXRef-app"},
		"packages": []any{map[string]any{"SPDXID": "SPDXRef-app", "name": "app.tar.gz",
			"checksums": []any{map[string]any{"algorithm": "SHA256", "checksumValue": sum}}}},
	}
}

func sbomReference(sum string, size int) map[string]any {
	return map[string]any{
		"sbom":              map[string]any{"name": "app.cdx.json", "digest": map[string]any{"sha256": sum}, "mediaType": "application/vnd.cyclonedx+json"},
		"sbomPredicateType": policy.CycloneDX, "size": size,
	}
}

const allowSBOMs = "allowedPredicateTypes: [" + policy.CycloneDX + ", " + policy.SPDX + "]\n"

func TestSBOMAttestations(t *testing.T) {
	t.Parallel()
	other := strings.Repeat("cd", 32)
	tests := []struct {
		name          string
		predicateType string
		predicate     func(f *fixture) any
		extra         string
		verified      bool
		want          []string
	}{
		{name: "CycloneDX describing the subject", predicateType: policy.CycloneDX, verified: true,
			predicate: func(f *fixture) any { return cyclonedx(f.sum) },
			want:      []string{"PASS sbom       a.intoto.json: SBOM attestation binds to the subject's sha256:", "and the SBOM describes that digest"}},
		{name: "SPDX describing the subject", predicateType: policy.SPDX, verified: true,
			predicate: func(f *fixture) any { return spdx(f.sum) },
			want:      []string{"PASS sbom       a.intoto.json: SBOM attestation binds to the subject's sha256:", "and the SBOM describes that digest"}},
		{name: "CycloneDX naming no digest", predicateType: policy.CycloneDX, verified: true,
			predicate: func(f *fixture) any { return cyclonedx("") },
			want:      []string{"PASS sbom       a.intoto.json: SBOM attestation binds to the subject's sha256:", "(through the statement; the SBOM names no digest of what it describes)"}},
		{name: "another artifact's CycloneDX", predicateType: policy.CycloneDX,
			predicate: func(f *fixture) any { return cyclonedx(other) },
			want:      []string{"FAIL sbom       a.intoto.json: the attested SBOM describes sha256:" + other + ", not the subject's sha256:"}},
		{name: "another artifact's SPDX", predicateType: policy.SPDX,
			predicate: func(f *fixture) any { return spdx(other) },
			want:      []string{"FAIL sbom       a.intoto.json: the attested SBOM describes sha256:" + other}},
		{name: "SBOM by reference, document not given", predicateType: policy.SBOMReference, verified: true,
			predicate: func(f *fixture) any { return sbomReference(other, 10) },
			want: []string{`PASS predicate  a.intoto.json: attests predicate type "https://cyclonedx.org/bom" by reference (https://slipway.dev/attestations/sbom-reference/v1)`,
				"(the SBOM document was not given, so its content is not checked)"}},
		{name: "SBOM by reference, its type not allowed", predicateType: policy.SBOMReference, extra: "allowedPredicateTypes: [" + policy.SPDX + "]\n",
			predicate: func(f *fixture) any { return sbomReference(other, 10) },
			want:      []string{`FAIL predicate  a.intoto.json: attests predicate type "https://slipway.dev/attestations/sbom-reference/v1", which the policy neither requires nor allows`}},
		{name: "SBOM type not allowed", predicateType: policy.SPDX, extra: "allowedPredicateTypes: [" + policy.CycloneDX + "]\n",
			predicate: func(f *fixture) any { return spdx(f.sum) },
			want:      []string{`FAIL predicate  a.intoto.json: attests predicate type "https://spdx.dev/Document", which the policy neither requires nor allows (accepted: "https://cyclonedx.org/bom")`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			extra := tc.extra
			if extra == "" {
				extra = allowSBOMs
			}
			b := f.write(t, "a.intoto.json", f.attest(t, f.kp, sign.BundleOptions{}, tc.predicateType, tc.predicate(f)))
			expect(t, f.verify(t, f.policy(t, extra), b), tc.verified, tc.want...)
		})
	}
}

// manifestFixture writes a manifest listing the subject, its signature and
// provenance bundles, and an SBOM attested by digest reference next to it,
// as the sign, attest and sbom stages record them.
func manifestFixture(t *testing.T, f *fixture) (string, string) {
	t.Helper()
	sbomDoc := []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}` + "\n")
	sbomPath := f.write(t, "dist/app.cdx.json", sbomDoc)
	sbomSum := sha256.Sum256(sbomDoc)
	subj, _ := digest.ParseHex(f.sum)
	sig := f.write(t, "app.tar.gz.sigstore.json", f.signBlob(t, f.kp, sign.BundleOptions{}))
	prov := f.write(t, "app.tar.gz.intoto.sigstore.json", f.attest(t, f.kp, sign.BundleOptions{}, policy.SLSAProvenanceV1, f.provenance()))
	sbomAtt := f.write(t, "dist/app.cdx.json.intoto.sigstore.json", f.attest(t, f.kp, sign.BundleOptions{}, policy.SBOMReference, sbomReference(hex.EncodeToString(sbomSum[:]), len(sbomDoc))))
	m := artifact.NewManifest()
	m.Add(artifact.Record{Name: "app.tar.gz", Path: "app.tar.gz", Digest: subj, Size: 3<<20 + 17, MediaType: "application/gzip", Role: artifact.RoleArtifact})
	m.Add(artifact.Record{Name: "app.tar.gz.sigstore.json", Path: "app.tar.gz.sigstore.json", Digest: fileDigest(t, sig), MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", Role: artifact.RoleSignature, Describes: subj})
	m.Add(artifact.Record{Name: "app.tar.gz.intoto.sigstore.json#app.tar.gz", Path: "app.tar.gz.intoto.sigstore.json", Digest: fileDigest(t, prov), MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", Role: artifact.RoleProvenance, Describes: subj})
	m.Add(artifact.Record{Name: "dist/app.cdx.json", Path: "dist/app.cdx.json", Digest: digest.SHA256(sbomSum), Size: int64(len(sbomDoc)), MediaType: "application/vnd.cyclonedx+json", Role: artifact.RoleSBOM, Describes: subj})
	m.Add(artifact.Record{Name: "dist/app.cdx.json.intoto.sigstore.json#app.tar.gz", Path: "dist/app.cdx.json.intoto.sigstore.json", Digest: fileDigest(t, sbomAtt), MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", Role: artifact.RoleAttestation, Describes: subj})
	path := filepath.Join(f.dir, "manifest.json")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path, sbomPath
}

func fileDigest(t *testing.T, path string) digest.SHA256 {
	t.Helper()
	d, _, err := digest.File(path)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func verifyManifest(t *testing.T, f *fixture, p *policy.Policy, path string) *verify.SubjectReport {
	t.Helper()
	m, err := artifact.ReadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := verify.New(p, verify.WithClock(f.ss.Now)).VerifyManifest(context.Background(), m, filepath.Dir(path))
	if err != nil || len(r.Subjects) != 1 {
		t.Fatalf("Verify() = %v, %v", r, err)
	}
	return r.Subjects[0]
}

func TestManifest(t *testing.T) {
	t.Parallel()
	t.Run("every bundle it lists", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		path, _ := manifestFixture(t, f)
		s := verifyManifest(t, f, f.policy(t, allowBuilders+"requiredPredicateTypes: ["+policy.SLSAProvenanceV1+", "+policy.CycloneDX+"]\n"), path)
		expect(t, s, true,
			"PASS digest     app.tar.gz: content is the manifest's sha256:"+f.sum,
			"PASS signature  app.tar.gz.sigstore.json", "PASS builder    app.tar.gz.intoto.sigstore.json",
			`PASS sbom       app.cdx.json.intoto.sigstore.json: SBOM attestation binds the subject's sha256:`+f.sum+` to SBOM "dist/app.cdx.json", whose content is the attested sha256:`,
			`PASS predicate  app.tar.gz: required predicate type "https://cyclonedx.org/bom" is attested (app.cdx.json.intoto.sigstore.json)`)
	})
	t.Run("artifact changed after the build", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		path, _ := manifestFixture(t, f)
		appendTo(t, f.subject, "x")
		expect(t, verifyManifest(t, f, f.policy(t, allowBuilders+allowSBOMs), path), false,
			"FAIL digest     app.tar.gz: content is sha256:", "but the manifest says sha256:"+f.sum+": the file changed after the build")
	})
	t.Run("SBOM changed after it was attested", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		path, sbom := manifestFixture(t, f)
		appendTo(t, sbom, " ")
		expect(t, verifyManifest(t, f, f.policy(t, allowBuilders+allowSBOMs), path), false,
			`FAIL sbom       app.cdx.json.intoto.sigstore.json: the SBOM file "dist/app.cdx.json" is sha256:`, "not the attested sha256:")
	})
}
