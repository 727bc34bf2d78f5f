package verify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

func TestProvenance(t *testing.T) {
	t.Parallel()
	fork := "https://github.com/fork/example/.github/workflows/release.yml@refs/heads/main"
	tests := []struct {
		name      string
		extra     string
		predicate func(f *fixture) any
		verified  bool
		want      []string
	}{
		{
			name: "builder not allowed", extra: allowBuilders,
			predicate: func(f *fixture) any { return policytest.Provenance(fork, sourceRepo, "2026-01-01T00:00:00Z") },
			want:      []string{`FAIL builder    a.intoto.json: provenance builder "` + fork + `" is not in policy builders [` + builderID + `]`},
		},
		{
			name:      "builder by regexp",
			extra:     "builders:\n  - idRegExp: https://github\\.com/slipway/example/\\.github/workflows/release\\.yml@refs/tags/v[0-9]+\n",
			predicate: func(f *fixture) any { return f.provenance() },
			verified:  true,
			want:      []string{`PASS builder    a.intoto.json: provenance builder "` + builderID + `" is allowed (policy builders[0]: idRegExp https://github\.com`},
		},
		{
			name: "source not allowed", extra: allowBuilders,
			predicate: func(f *fixture) any {
				return policytest.Provenance(builderID, "git+https://github.com/fork/example", "2026-01-01T00:00:00Z")
			},
			want: []string{`FAIL source     a.intoto.json: provenance source "git+https://github.com/fork/example" (externalParameters.repository) is not in policy sourceRepositories [https://github.com/slipway/example]`},
		},
		{
			name: "source from the first git dependency", extra: allowBuilders, verified: true,
			predicate: func(f *fixture) any {
				p := f.provenance()
				p["buildDefinition"].(map[string]any)["externalParameters"] = map[string]any{"command": "make"}
				return p
			},
			want: []string{`PASS source     a.intoto.json: provenance source "git+https://github.com/slipway/example@refs/tags/v1" (resolvedDependencies[0].uri) is allowed`},
		},
		{
			name: "GitHub workflow build type", extra: allowBuilders, verified: true,
			predicate: func(f *fixture) any {
				p := f.provenance()
				p["buildDefinition"].(map[string]any)["externalParameters"] = map[string]any{
					"workflow": map[string]any{"repository": "https://github.com/slipway/example", "path": ".github/workflows/release.yml", "ref": "refs/tags/v1"},
				}
				return p
			},
			want: []string{`PASS source     a.intoto.json: provenance source "https://github.com/slipway/example" (externalParameters.workflow.repository) is allowed`},
		},
		{
			// Regression: "@" cut the path, so this matched the allowed
			// repository while a client resolves it to evil/repo.
			name: "source escaping the repository after @", extra: allowBuilders,
			predicate: func(f *fixture) any {
				return policytest.Provenance(builderID, "https://github.com/slipway/example@/../../evil/repo", "2026-01-01T00:00:00Z")
			},
			want: []string{`FAIL source     a.intoto.json: provenance source "https://github.com/slipway/example@/../../evil/repo" (externalParameters.repository) is not a repository URI the policy can match: it has "/../../evil/repo" after "@", which is not a git ref`},
		},
		{
			name: "source with encoded dot segments", extra: allowBuilders,
			predicate: func(f *fixture) any {
				return policytest.Provenance(builderID, "git+https://github.com/slipway/example/%2e%2e/%2e%2e/evil/repo", "2026-01-01T00:00:00Z")
			},
			want: []string{`FAIL source     a.intoto.json: provenance source "git+https://github.com/slipway/example/%2e%2e/%2e%2e/evil/repo" (externalParameters.repository) is not a repository URI the policy can match: it has the dot segment`},
		},
		{
			name: "no source", extra: allowBuilders,
			predicate: func(f *fixture) any {
				p := f.provenance()
				bd := p["buildDefinition"].(map[string]any)
				bd["externalParameters"] = map[string]any{}
				bd["resolvedDependencies"] = []any{}
				return p
			},
			want: []string{"FAIL source     a.intoto.json: the provenance names no source repository"},
		},
		{
			name: "not provenance", extra: allowBuilders,
			predicate: func(f *fixture) any { return map[string]any{"buildDefinition": map[string]any{}} },
			want:      []string{"FAIL provenance a.intoto.json: the SLSA v1 predicate lacks runDetails.builder.id or buildDefinition.buildType"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			b := f.write(t, "a.intoto.json", f.attest(t, f.kp, sign.BundleOptions{}, policy.SLSAProvenanceV1, tc.predicate(f)))
			expect(t, f.verify(t, f.policy(t, tc.extra), b), tc.verified, tc.want...)
		})
	}
}

func TestRequiredPredicateTypes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.write(t, "a.sigstore.json", f.signBlob(t, f.kp, sign.BundleOptions{}))
	expect(t, f.verify(t, f.policy(t, requireSLSA+"allowedPredicateTypes: ["+policy.CycloneDX+"]\n"), b), false,
		"PASS signature  a.sigstore.json",
		`FAIL predicate  app.tar.gz: no verified attestation of required predicate type "https://slsa.dev/provenance/v1" names this subject`)
}

func TestMaxAge(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	tests := []struct {
		name     string
		make     func(t *testing.T, f *fixture) []string
		verified bool
		want     []string
	}{
		{
			name: "timestamped 40 days ago",
			make: func(t *testing.T, f *fixture) []string {
				return []string{f.write(t, "a.sigstore.json", f.signBlob(t, f.kp, sign.BundleOptions{TimestampAuthorities: []*sign.TimestampAuthority{f.ss.TSAAt(f.ss.Now().Add(-40 * day))}}))}
			},
			want: []string{"PASS timestamp  a.sigstore.json", "FAIL age        a.sigstore.json: RFC 3161 timestamp ", " is 40d old, older than maxAge 30d"},
		},
		{
			name: "keyless, logged 40 days ago",
			make: func(t *testing.T, f *fixture) []string {
				then := f.ss.Now().Add(-40 * day)
				ca := f.ss.Fulcio(sigstoretest.GitHubIssuer, workflowRef)
				ca.NotBefore = then
				kp, _ := policytest.NewKeypair(t)
				return []string{f.write(t, "a.sigstore.json", f.signBlob(t, kp, sign.BundleOptions{CertificateProvider: ca, TransparencyLogs: []sign.Transparency{f.ss.RekorAt(then.Add(time.Minute))}}))}
			},
			want: []string{"PASS signature  a.sigstore.json", "FAIL age        a.sigstore.json: transparency log integrated time", "is 39d23h old, older than maxAge 30d"},
		},
		{
			name: "provenance of a build 40 days ago",
			make: func(t *testing.T, f *fixture) []string {
				prov := policytest.Provenance(builderID, sourceRepo, f.ss.Now().Add(-40*day).Format(time.RFC3339))
				return []string{f.write(t, "a.intoto.json", f.attest(t, f.kp, sign.BundleOptions{}, policy.SLSAProvenanceV1, prov))}
			},
			want: []string{"FAIL age        a.intoto.json: provenance finishedOn", "is 40d old, older than maxAge 30d"},
		},
		{
			name: "dated in the future",
			make: func(t *testing.T, f *fixture) []string {
				prov := policytest.Provenance(builderID, sourceRepo, f.ss.Now().Add(2*day).Format(time.RFC3339))
				return []string{f.write(t, "a.intoto.json", f.attest(t, f.kp, sign.BundleOptions{}, policy.SLSAProvenanceV1, prov))}
			},
			want: []string{"FAIL age        a.intoto.json: provenance finishedOn", "is 2d in the future"},
		},
		{
			name: "nothing dates it",
			make: func(t *testing.T, f *fixture) []string {
				return []string{f.write(t, "a.sigstore.json", f.signBlob(t, f.kp, sign.BundleOptions{}))}
			},
			want: []string{"FAIL age        app.tar.gz: nothing dates the subject, so maxAge 30d cannot be checked"},
		},
		{
			name: "undated signature, fresh provenance", verified: true,
			make: func(t *testing.T, f *fixture) []string {
				return []string{
					f.write(t, "a.sigstore.json", f.signBlob(t, f.kp, sign.BundleOptions{})),
					f.write(t, "a.intoto.json", f.attest(t, f.kp, sign.BundleOptions{}, policy.SLSAProvenanceV1, f.provenance())),
				}
			},
			want: []string{"PASS age        a.intoto.json: provenance finishedOn", "is 1m old, within maxAge 30d"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			p := f.policy(t, "maxAge: 30d\ntlog: optional\nallowedPredicateTypes: ["+policy.SLSAProvenanceV1+"]\n")
			expect(t, f.verify(t, p, tc.make(t, f)...), tc.verified, tc.want...)
		})
	}
}

// TestSBOMReferenceIsNeverProvenance is the regression test for an SBOM
// reference statement claiming sbomPredicateType
// https://slsa.dev/provenance/v1: it was counted as provenance without any
// builder or source check, and the subject passed a policy requiring both.
func TestSBOMReferenceIsNeverProvenance(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ref := sbomReference(strings.Repeat("ab", 32), 10)
	ref["sbomPredicateType"] = policy.SLSAProvenanceV1
	b := f.write(t, "a.intoto.json", f.attest(t, f.kp, sign.BundleOptions{}, policy.SBOMReference, ref))
	expect(t, f.verify(t, f.policy(t, allowBuilders+allowSBOMs), b), false,
		`FAIL sbom       a.intoto.json: the https://slipway.dev/attestations/sbom-reference/v1 predicate claims sbomPredicateType "https://slsa.dev/provenance/v1", which is not a CycloneDX or SPDX predicate type`,
		"FAIL provenance app.tar.gz: the policy constrains builders or source repositories, but no verified SLSA v1 provenance names this subject")
}

// TestRequiredPredicateCountsOnlyWhenItsChecksPass: a provenance whose
// builder is refused, or an SBOM of another artifact, is no attestation of
// its required predicate type.
func TestRequiredPredicateCountsOnlyWhenItsChecksPass(t *testing.T) {
	t.Parallel()
	fork := "https://github.com/fork/example/.github/workflows/release.yml@refs/heads/main"
	for name, tc := range map[string]struct {
		predicateType string
		predicate     func(f *fixture) any
	}{
		"provenance by a refused builder": {policy.SLSAProvenanceV1, func(f *fixture) any {
			return policytest.Provenance(fork, sourceRepo, f.ss.Now().Format(time.RFC3339))
		}},
		"provenance from a refused source": {policy.SLSAProvenanceV1, func(f *fixture) any {
			return policytest.Provenance(builderID, "https://github.com/fork/example", f.ss.Now().Format(time.RFC3339))
		}},
		"another artifact's SBOM": {policy.CycloneDX, func(f *fixture) any { return cyclonedx(strings.Repeat("cd", 32)) }},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			b := f.write(t, "a.intoto.json", f.attest(t, f.kp, sign.BundleOptions{}, tc.predicateType, tc.predicate(f)))
			s := f.verify(t, f.policy(t, allowBuilders+"requiredPredicateTypes: ["+tc.predicateType+"]\n"), b)
			expect(t, s, false, `FAIL predicate  app.tar.gz: no verified attestation of required predicate type "`+tc.predicateType+`" names this subject`)
			if strings.Contains(lines(s), "PASS predicate  app.tar.gz: required predicate type") {
				t.Errorf("a failed %s counts as the required attestation:\n%s", tc.predicateType, lines(s))
			}
		})
	}
}
