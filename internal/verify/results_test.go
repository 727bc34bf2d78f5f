package verify_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
	"github.com/slipway/actions/internal/provenance"
	"github.com/slipway/actions/internal/verify"
)

// testResult is a test-result v0.1 predicate (API9.md's shape).
func testResult(result string, passed, warned, failed []string) map[string]any {
	return map[string]any{
		"result": result,
		"configuration": []any{
			map[string]any{"name": "commit", "uri": "git+https://github.com/slipway/example@refs/tags/v1", "digest": map[string]any{"gitCommit": "0123456789abcdef0123456789abcdef01234567"}},
			map[string]any{"name": "command", "content": "Z28gdGVzdCAuLy4uLg=="},
		},
		"url":         "https://github.com/slipway/example/actions/runs/1",
		"passedTests": passed, "warnedTests": warned, "failedTests": failed,
	}
}

// vulnFinding is one entry of a vulns predicate's scanner.result.
type vulnFinding struct {
	id, pkg, fixedIn string
	scores           []string
}

// vulns is a vulns v0.1 predicate (API9.md's shape): a grype scan whose
// database was updated at dbUpdate and that finished at finished.
func vulns(finished, dbUpdate time.Time, findings ...vulnFinding) map[string]any {
	result := []any{}
	for _, f := range findings {
		var sev []any
		for _, s := range f.scores {
			sev = append(sev, map[string]any{"method": "nvd", "score": s})
		}
		ann := []any{map[string]any{"package": f.pkg}}
		if f.fixedIn != "" {
			ann = append(ann, map[string]any{"fixedIn": f.fixedIn})
		}
		result = append(result, map[string]any{"id": f.id, "severity": sev, "annotations": ann})
	}
	return map[string]any{
		"scanner": map[string]any{
			"uri": "pkg:golang/github.com/anchore/grype@v0.104.0", "version": "0.104.0",
			"db":     map[string]any{"uri": "file:///srv/grype/db.tar.zst", "version": "v6.0.2", "lastUpdate": dbUpdate.UTC().Format(time.RFC3339)},
			"result": result,
		},
		"metadata": map[string]any{"scanStartedOn": finished.Add(-time.Second).UTC().Format(time.RFC3339), "scanFinishedOn": finished.UTC().Format(time.RFC3339)},
	}
}

const (
	requireTests = "tests: {required: true, result: PASSED}\n"
	// requireVulns ignores CVE-2024-1234 until 2027-01-31 begins.
	requireVulns = `vulnerabilities:
  required: true
  maxSeverity: high
  maxAge: 7d
  ignore:
    - id: CVE-2024-1234
      reason: "not reachable: we never call X"
      expires: 2027-01-31
`
)

// The fixed clocks of the vulnerability cases: a day before the ignore
// expires, and a day after.
var (
	beforeExpiry = time.Date(2027, 1, 30, 12, 0, 0, 0, time.UTC)
	afterExpiry  = time.Date(2027, 2, 1, 12, 0, 0, 0, time.UTC)
)

// TestResultsPolicy: the policy's tests and vulnerabilities sections judge
// the newest verified test-result and vulns attestations that name the
// subject; each failure is a "tests" or "vulnerabilities" check naming the
// test or the finding.
func TestResultsPolicy(t *testing.T) {
	t.Parallel()
	failedNames := []string{"pkg/TestA", "pkg/TestB", "pkg/TestC", "pkg/TestD", "pkg/TestE", "pkg/TestF", "pkg/TestG"}
	critical := vulnFinding{id: "CVE-2025-0001", pkg: "pkg:golang/golang.org/x/net@v0.1.0", fixedIn: "v0.38.0", scores: []string{"critical"}}
	ignored := vulnFinding{id: "CVE-2024-1234", pkg: "pkg:golang/example.com/lib@v1.0.0", scores: []string{"critical"}}
	tests := []struct {
		name     string
		extra    string    // policy YAML
		clock    time.Time // zero: the Sigstore's clock
		make     func(t *testing.T, f *fixture) []string
		verified bool
		want     []string
		not      []string
	}{
		{
			name: "tests passed", extra: requireTests,
			make: func(t *testing.T, f *fixture) []string {
				return f.results(t, testResult("PASSED", []string{"pkg/TestA", "pkg/TestB"}, nil, nil))
			},
			verified: true,
			want:     []string{"PASS tests      app.tar.gz.test-result.sigstore.json: the tests PASSED (2 passed, 0 warned, 0 failed; run https://github.com/slipway/example/actions/runs/1); the policy accepts PASSED only"},
		},
		{
			name: "tests failed", extra: requireTests,
			make: func(t *testing.T, f *fixture) []string {
				return f.results(t, testResult("FAILED", []string{"pkg/TestOK"}, nil, []string{"pkg/TestA", "pkg/TestB"}))
			},
			want: []string{"FAIL tests      app.tar.gz.test-result.sigstore.json: the tests FAILED (1 passed, 0 warned, 2 failed; failed: pkg/TestA, pkg/TestB; run https://github.com/slipway/example/actions/runs/1): fix the failing tests and run slipway test again"},
		},
		{
			name: "many failed tests: the first few and a count", extra: requireTests,
			make: func(t *testing.T, f *fixture) []string {
				return f.results(t, testResult("FAILED", nil, nil, failedNames))
			},
			want: []string{"failed: pkg/TestA, pkg/TestB, pkg/TestC, pkg/TestD, pkg/TestE and 2 more;"},
			not:  []string{"pkg/TestF"},
		},
		{
			name: "tests failed, not required: a result present is still judged", extra: "tests: {}\n",
			make: func(t *testing.T, f *fixture) []string {
				return f.results(t, testResult("FAILED", nil, nil, []string{"pkg/TestA"}))
			},
			want: []string{"FAIL tests", "failed: pkg/TestA"},
		},
		{
			name: "warned under PASSED", extra: requireTests,
			make: func(t *testing.T, f *fixture) []string {
				return f.results(t, testResult("WARNED", []string{"a/T1"}, []string{"a/TFlaky"}, nil))
			},
			want: []string{"FAIL tests", "the tests WARNED (1 passed, 1 warned, 0 failed; warned: a/TFlaky", "set tests.result: WARNED to accept them"},
		},
		{
			name: "warned under WARNED", extra: "tests: {required: true, result: WARNED}\n",
			make: func(t *testing.T, f *fixture) []string {
				return f.results(t, testResult("WARNED", []string{"a/T1"}, []string{"a/TFlaky"}, nil))
			},
			verified: true,
			want:     []string{"PASS tests", "the tests WARNED", "the policy accepts PASSED or WARNED"},
		},
		{
			name: "required and missing", extra: requireTests,
			make: func(t *testing.T, f *fixture) []string { return f.results(t) },
			want: []string{"FAIL tests      app.tar.gz: no verified test-result attestation (" + policy.TestResultV01 + ") names this subject, and the policy requires one (tests.required); run slipway test"},
		},
		{
			name: "not required and missing", extra: "tests: {required: false}\n",
			make:     func(t *testing.T, f *fixture) []string { return f.results(t) },
			verified: true,
			not:      []string{"PASS tests", "FAIL tests"},
		},
		{
			name: "a passing result signed by an untrusted key does not count", extra: requireTests,
			make: func(t *testing.T, f *fixture) []string {
				other, _ := policytest.NewKeypair(t)
				b := f.write(t, "other.test-result.sigstore.json", f.attest(t, other, sign.BundleOptions{}, policy.TestResultV01, testResult("PASSED", []string{"x/T"}, nil, nil)))
				return append(f.results(t), b)
			},
			want: []string{"FAIL signature  other.test-result.sigstore.json", "FAIL tests      app.tar.gz: no verified test-result attestation"},
			not:  []string{"PASS tests"},
		},
		{
			name: "a passing result about another artifact does not count", extra: requireTests,
			make: func(t *testing.T, f *fixture) []string {
				b := f.write(t, "other.test-result.sigstore.json", f.attest(t, f.kp, sign.BundleOptions{}, policy.TestResultV01,
					testResult("PASSED", []string{"x/T"}, nil, nil), strings.Repeat("ab", 32)))
				return append(f.results(t), b)
			},
			want: []string{"FAIL digest     other.test-result.sigstore.json: no subject of the " + policy.TestResultV01 + " statement has the subject's", "FAIL tests      app.tar.gz: no verified test-result"},
		},
		{
			name: "a result that is not PASSED, WARNED or FAILED", extra: requireTests,
			make: func(t *testing.T, f *fixture) []string {
				return f.results(t, testResult("OK", nil, nil, nil))
			},
			want: []string{`FAIL tests      app.tar.gz.test-result.sigstore.json: the test-result predicate's result is "OK", not PASSED, WARNED or FAILED`, "FAIL tests      app.tar.gz: no verified test-result"},
		},
		{
			name: "the newest result decides: a later pass", extra: requireTests,
			make: func(t *testing.T, f *fixture) []string {
				now := f.ss.Now()
				return append(f.results(t),
					f.timestamped(t, "old.test-result.sigstore.json", now.Add(-2*time.Hour), policy.TestResultV01, testResult("FAILED", nil, nil, []string{"pkg/TestA"})),
					f.timestamped(t, "new.test-result.sigstore.json", now.Add(-time.Hour), policy.TestResultV01, testResult("PASSED", []string{"pkg/TestA"}, nil, nil)))
			},
			verified: true,
			want:     []string{"PASS tests      old.test-result.sigstore.json: test result FAILED signed", "is superseded by a newer one", "PASS tests      new.test-result.sigstore.json: the tests PASSED"},
		},
		{
			name: "the newest result decides: a later failure", extra: requireTests,
			make: func(t *testing.T, f *fixture) []string {
				now := f.ss.Now()
				return append(f.results(t),
					f.timestamped(t, "new.test-result.sigstore.json", now.Add(-time.Hour), policy.TestResultV01, testResult("FAILED", nil, nil, []string{"pkg/TestA"})),
					f.timestamped(t, "old.test-result.sigstore.json", now.Add(-2*time.Hour), policy.TestResultV01, testResult("PASSED", []string{"pkg/TestA"}, nil, nil)))
			},
			want: []string{"FAIL tests      new.test-result.sigstore.json: the tests FAILED", "PASS tests      old.test-result.sigstore.json: test result PASSED signed"},
		},
		{
			name: "undated results cannot be ordered: each must pass", extra: requireTests,
			make: func(t *testing.T, f *fixture) []string {
				b := f.write(t, "b.test-result.sigstore.json", f.attest(t, f.kp, sign.BundleOptions{}, policy.TestResultV01, testResult("FAILED", nil, nil, []string{"pkg/TestA"})))
				return append(f.results(t, testResult("PASSED", []string{"pkg/TestA"}, nil, nil)), b)
			},
			want: []string{"2 test results cannot be told apart by a verified signing time, so each must pass", "FAIL tests      b.test-result.sigstore.json: the tests FAILED"},
		},
		{
			name: "without a tests section the predicate type is not accepted",
			make: func(t *testing.T, f *fixture) []string {
				return f.results(t, testResult("PASSED", nil, nil, nil))
			},
			want: []string{`FAIL predicate  app.tar.gz.test-result.sigstore.json: attests predicate type "` + policy.TestResultV01 + `", which the policy neither requires nor allows`},
		},
		{
			name: "allowed without a tests section: not judged", extra: "allowedPredicateTypes: [" + policy.TestResultV01 + "]\n",
			make: func(t *testing.T, f *fixture) []string {
				return f.results(t, testResult("FAILED", nil, nil, []string{"pkg/TestA"}))
			},
			verified: true,
			not:      []string{"PASS tests", "FAIL tests"},
		},
		{
			name: "no finding above maxSeverity", extra: requireVulns, clock: beforeExpiry,
			make: func(t *testing.T, f *fixture) []string {
				return f.results(t, nil, vulns(beforeExpiry.Add(-time.Hour), beforeExpiry.Add(-2*time.Hour),
					vulnFinding{id: "CVE-2025-0002", pkg: "pkg:golang/a@v1", scores: []string{"high"}},
					vulnFinding{id: "GHSA-aaaa-bbbb-cccc", pkg: "pkg:golang/b@v1", scores: []string{"low", "5.3"}}))
			},
			verified: true,
			want: []string{
				"PASS vulnerabilities app.tar.gz.vulns.sigstore.json: its vulnerability database was last updated 2027-01-30T10:00:00Z, 2h ago, within vulnerabilities.maxAge 7d",
				"PASS vulnerabilities app.tar.gz.vulns.sigstore.json: pkg:golang/github.com/anchore/grype@v0.104.0 (database v6.0.2, updated 2027-01-30T10:00:00Z) found 2 vulnerabilities, none above maxSeverity high",
			},
		},
		{
			name: "a critical finding", extra: requireVulns, clock: beforeExpiry,
			make: func(t *testing.T, f *fixture) []string {
				return f.results(t, nil, vulns(beforeExpiry.Add(-time.Hour), beforeExpiry.Add(-2*time.Hour), critical))
			},
			want: []string{"FAIL vulnerabilities app.tar.gz.vulns.sigstore.json: CVE-2025-0001 in pkg:golang/golang.org/x/net@v0.1.0 is critical, above maxSeverity high: upgrade the package to v0.38.0 or later and scan again, or accept it with a vulnerabilities.ignore entry (id, reason, expires)"},
		},
		{
			name: "unknown severity ranks as high", extra: strings.Replace(requireVulns, "maxSeverity: high", "maxSeverity: medium", 1), clock: beforeExpiry,
			make: func(t *testing.T, f *fixture) []string {
				return f.results(t, nil, vulns(beforeExpiry.Add(-time.Hour), beforeExpiry.Add(-time.Hour),
					vulnFinding{id: "CVE-2025-0003", pkg: "pkg:deb/debian/libc6@2.36", scores: []string{"unknown"}},
					vulnFinding{id: "CVE-2025-0004", pkg: "pkg:deb/debian/zlib@1.2"}))
			},
			want: []string{
				`FAIL vulnerabilities app.tar.gz.vulns.sigstore.json: CVE-2025-0003 in pkg:deb/debian/libc6@2.36 is high (scores "unknown"), above maxSeverity medium: no fixed version is known`,
				"CVE-2025-0004 in pkg:deb/debian/zlib@1.2 is high (no severity given, ranked high), above maxSeverity medium",
			},
		},
		{
			name: "maxSeverity none refuses any finding", extra: strings.Replace(requireVulns, "maxSeverity: high", "maxSeverity: none", 1), clock: beforeExpiry,
			make: func(t *testing.T, f *fixture) []string {
				return f.results(t, nil, vulns(beforeExpiry.Add(-time.Hour), beforeExpiry.Add(-time.Hour),
					vulnFinding{id: "CVE-2025-0005", pkg: "pkg:golang/a@v1", scores: []string{"negligible"}}))
			},
			want: []string{"CVE-2025-0005 in pkg:golang/a@v1 is negligible, above maxSeverity none"},
		},
		{
			name: "an ignore that applies", extra: requireVulns, clock: beforeExpiry,
			make: func(t *testing.T, f *fixture) []string {
				return f.results(t, nil, vulns(beforeExpiry.Add(-time.Hour), beforeExpiry.Add(-time.Hour), ignored))
			},
			verified: true,
			want:     []string{"found 1 vulnerability, none above maxSeverity high but the 1 the policy ignores: CVE-2024-1234 until 2027-01-31T00:00:00Z (not reachable: we never call X)"},
		},
		{
			name: "an expired ignore no longer applies", extra: requireVulns, clock: afterExpiry,
			make: func(t *testing.T, f *fixture) []string {
				return f.results(t, nil, vulns(afterExpiry.Add(-time.Hour), afterExpiry.Add(-time.Hour), ignored))
			},
			want: []string{`FAIL vulnerabilities app.tar.gz.vulns.sigstore.json: CVE-2024-1234 in pkg:golang/example.com/lib@v1.0.0 is critical, above maxSeverity high, and its ignore (vulnerabilities.ignore[0]) expired 2027-01-31T00:00:00Z, so it no longer applies`,
				`renew the ignore's expires if its reason ("not reachable: we never call X") still holds`},
		},
		{
			name: "many findings: ten lines and a count", extra: requireVulns, clock: beforeExpiry,
			make: func(t *testing.T, f *fixture) []string {
				var fs []vulnFinding
				for i := range 13 {
					fs = append(fs, vulnFinding{id: fmt.Sprintf("CVE-2025-1%03d", i), pkg: "pkg:golang/a@v1", scores: []string{"9.8"}})
				}
				return f.results(t, nil, vulns(beforeExpiry.Add(-time.Hour), beforeExpiry.Add(-time.Hour), fs...))
			},
			want: []string{`CVE-2025-1009 in pkg:golang/a@v1 is critical (scores "9.8")`, "FAIL vulnerabilities app.tar.gz.vulns.sigstore.json: and 3 more findings above maxSeverity high"},
			not:  []string{"CVE-2025-1010"},
		},
		{
			name: "a scan older than maxAge", extra: requireVulns, clock: beforeExpiry,
			make: func(t *testing.T, f *fixture) []string {
				return f.results(t, nil, vulns(beforeExpiry.Add(-time.Hour), beforeExpiry.Add(-8*24*time.Hour)))
			},
			want: []string{"FAIL vulnerabilities app.tar.gz.vulns.sigstore.json: its vulnerability database was last updated 2027-01-22T12:00:00Z, 8d ago, longer than vulnerabilities.maxAge 7d: new vulnerabilities may have been published since; update the database and scan again (slipway scan)"},
		},
		{
			name: "a scan from the future", extra: requireVulns, clock: beforeExpiry,
			make: func(t *testing.T, f *fixture) []string {
				return f.results(t, nil, vulns(beforeExpiry.Add(time.Hour), beforeExpiry.Add(time.Hour)))
			},
			want: []string{"FAIL vulnerabilities app.tar.gz.vulns.sigstore.json: the scan finished 2027-01-30T13:00:00Z, 1h in the future"},
		},
		{
			name: "the newest scan decides", extra: requireVulns, clock: beforeExpiry,
			make: func(t *testing.T, f *fixture) []string {
				old := f.write(t, "old.vulns.sigstore.json", f.attest(t, f.kp, sign.BundleOptions{}, policy.VulnsV01,
					vulns(beforeExpiry.Add(-3*time.Hour), beforeExpiry.Add(-3*time.Hour), critical)))
				return append(f.results(t, nil, vulns(beforeExpiry.Add(-time.Hour), beforeExpiry.Add(-time.Hour))), old)
			},
			verified: true,
			want:     []string{"PASS vulnerabilities old.vulns.sigstore.json: scan of 2027-01-30T09:00:00Z is superseded by a newer one, which decides", "found 0 vulnerabilities"},
			not:      []string{"CVE-2025-0001"},
		},
		{
			name: "required and missing", extra: requireVulns, clock: beforeExpiry,
			make: func(t *testing.T, f *fixture) []string { return f.results(t) },
			want: []string{"FAIL vulnerabilities app.tar.gz: no verified vulns attestation (" + policy.VulnsV01 + ") names this subject, and the policy requires one (vulnerabilities.required); run slipway scan"},
		},
		{
			name: "a scan without a scanner", extra: requireVulns, clock: beforeExpiry,
			make: func(t *testing.T, f *fixture) []string {
				return f.results(t, nil, map[string]any{"scanner": map[string]any{"result": []any{}}})
			},
			want: []string{"FAIL vulnerabilities app.tar.gz.vulns.sigstore.json: the vulns predicate names no scanner.uri", "FAIL vulnerabilities app.tar.gz: no verified vulns attestation"},
		},
		{
			name: "findings nested under vulnerability, as the spec's text has them", extra: requireVulns, clock: beforeExpiry,
			make: func(t *testing.T, f *fixture) []string {
				p := vulns(beforeExpiry.Add(-time.Hour), beforeExpiry.Add(-time.Hour))
				p["scanner"].(map[string]any)["result"] = []any{map[string]any{"vulnerability": map[string]any{
					"id": "CVE-2025-0006", "severity": []any{map[string]any{"method": "cvss_score", "score": "9.1"}},
					"annotations": []any{map[string]any{"package": "pkg:golang/n@v1"}}}}}
				return f.results(t, nil, p)
			},
			want: []string{`CVE-2025-0006 in pkg:golang/n@v1 is critical (scores "9.1"), above maxSeverity high`},
		},
		{
			name: "a dispatched job's output is exempt from required", extra: requireTests + requireVulns + requireSLSA, clock: beforeExpiry,
			make: func(t *testing.T, f *fixture) []string {
				prov := policytest.Provenance(builderID, sourceRepo, beforeExpiry.Add(-time.Hour).Format(time.RFC3339))
				prov["buildDefinition"].(map[string]any)["buildType"] = provenance.SlurmBuildType
				prov["buildDefinition"].(map[string]any)["internalParameters"] = map[string]any{"jobId": "7", "state": "COMPLETED", "exitCode": 0}
				b := f.write(t, "out.intoto.sigstore.json", f.attest(t, f.kp, sign.BundleOptions{}, policy.SLSAProvenanceV1, prov))
				return append(f.results(t), b)
			},
			verified: true,
			not:      []string{"FAIL tests", "FAIL vulnerabilities"},
		},
		{
			name: "both sections: a failing test and a clean scan", extra: requireTests + requireVulns, clock: beforeExpiry,
			make: func(t *testing.T, f *fixture) []string {
				return f.results(t, testResult("FAILED", nil, nil, []string{"pkg/TestA"}), vulns(beforeExpiry.Add(-time.Hour), beforeExpiry.Add(-time.Hour)))
			},
			want: []string{"FAIL tests", "PASS vulnerabilities"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			p := f.policy(t, tc.extra)
			clock := f.ss.Now
			if !tc.clock.IsZero() {
				clock = func() time.Time { return tc.clock }
			}
			r, err := verify.New(p, verify.WithClock(clock)).Verify(context.Background(), []verify.Subject{{Name: "app.tar.gz", Path: f.subject, Bundles: tc.make(t, f)}})
			if err != nil {
				t.Fatal(err)
			}
			s := r.Subjects[0]
			expect(t, s, tc.verified, tc.want...)
			for _, n := range tc.not {
				if strings.Contains(lines(s), n) {
					t.Errorf("report has %q; report:\n%s", n, lines(s))
				}
			}
		})
	}
}

// results writes the subject's signature bundle and, when given, a
// test-result and a vulns attestation about it, signed by the policy key,
// and returns their paths.
func (f *fixture) results(t *testing.T, preds ...map[string]any) []string {
	t.Helper()
	out := []string{f.write(t, "app.tar.gz.sigstore.json", f.signBlob(t, f.kp, sign.BundleOptions{}))}
	for i, p := range preds {
		if p == nil {
			continue
		}
		pt, name := policy.TestResultV01, "app.tar.gz.test-result.sigstore.json"
		if i == 1 {
			pt, name = policy.VulnsV01, "app.tar.gz.vulns.sigstore.json"
		}
		out = append(out, f.write(t, name, f.attest(t, f.kp, sign.BundleOptions{}, pt, p)))
	}
	return out
}

// timestamped writes an attestation signed by the policy key with an RFC
// 3161 timestamp of the fixture's Sigstore at at, which dates it.
func (f *fixture) timestamped(t *testing.T, name string, at time.Time, predicateType string, predicate any) string {
	t.Helper()
	return f.write(t, name, f.attest(t, f.kp, sign.BundleOptions{TimestampAuthorities: []*sign.TimestampAuthority{f.ss.TSAAt(at)}}, predicateType, predicate))
}
