package policy_test

import (
	"testing"
	"time"

	"github.com/slipway/actions/internal/policy"
	"github.com/slipway/actions/internal/policy/policytest"
)

func TestParseTestsAndVulnerabilities(t *testing.T) {
	t.Parallel()
	_, pub := policytest.NewKeypair(t)
	key := "keys:\n  - name: release\n    pem: |\n" + indent(string(pub), 6) + "\n"
	doc := header + key + `tests:
  required: true
  result: warned
vulnerabilities:
  required: true
  maxSeverity: High
  maxAge: 7d
  ignore:
    - id: CVE-2024-1234
      reason: "not reachable: we never call X"
      expires: 2027-01-31
    - id: GHSA-abcd-efgh-ijkl
      reason: fixed upstream, release pending
      expires: "2027-01-31T12:00:00+01:00"
`
	p, err := policy.Parse([]byte(doc), policy.Options{Name: "policy.yaml", Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	if p.Tests == nil || !p.Tests.Required || p.Tests.Result != policy.TestWarned {
		t.Errorf("Tests = %+v, want required, result WARNED", p.Tests)
	}
	v := p.Vulnerabilities
	if v == nil || !v.Required || v.MaxSeverity != policy.SeverityHigh || v.MaxAge != 7*24*time.Hour || len(v.Ignore) != 2 {
		t.Fatalf("Vulnerabilities = %+v", v)
	}
	ig, ok := v.FindIgnore("cve-2024-1234")
	if !ok || ig.Reason != "not reachable: we never call X" || !ig.Expires.Equal(time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)) || ig.Field() != "vulnerabilities.ignore[0]" {
		t.Errorf("FindIgnore(cve-2024-1234) = %+v, %v", ig, ok)
	}
	if ig.Applies(time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)) || !ig.Applies(time.Date(2027, 1, 30, 23, 59, 59, 0, time.UTC)) {
		t.Error("a date-only ignore must apply until that day begins (UTC), and no longer")
	}
	if ig, _ := v.FindIgnore("GHSA-abcd-efgh-ijkl"); !ig.Expires.Equal(time.Date(2027, 1, 31, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("RFC 3339 expiry = %v", ig.Expires)
	}
	for _, pt := range []string{policy.TestResultV01, policy.VulnsV01} {
		if !p.PredicateTypeAllowed(pt) {
			t.Errorf("PredicateTypeAllowed(%q) = false with the section present", pt)
		}
	}

	// Without the sections, the predicate types are not accepted unless
	// listed, and nothing is judged.
	bare, err := policy.Parse([]byte(header+key+"tests: {}\n"), policy.Options{Name: "policy.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if bare.Tests == nil || bare.Tests.Required || bare.Tests.Result != policy.TestPassed || bare.Vulnerabilities != nil {
		t.Errorf("tests: {} = %+v, vulnerabilities %+v; want not required, PASSED, no vulnerabilities", bare.Tests, bare.Vulnerabilities)
	}
	if bare.PredicateTypeAllowed(policy.VulnsV01) {
		t.Error("the vulns predicate type is accepted without a vulnerabilities section or allowedPredicateTypes")
	}
}

func TestSeverity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		scores []string
		want   policy.Severity
	}{
		{[]string{"critical"}, policy.SeverityCritical},
		{[]string{"HIGH"}, policy.SeverityHigh},
		{[]string{"Medium"}, policy.SeverityMedium},
		{[]string{"low"}, policy.SeverityLow},
		{[]string{"negligible"}, policy.SeverityNegligible},
		{[]string{"unknown"}, policy.SeverityHigh},
		{[]string{""}, policy.SeverityHigh},
		{nil, policy.SeverityHigh},
		{[]string{"none"}, policy.SeverityHigh}, // a finding is never "none"
		{[]string{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}, policy.SeverityHigh},
		{[]string{"9.8"}, policy.SeverityCritical},
		{[]string{"7.0"}, policy.SeverityHigh},
		{[]string{"6.9"}, policy.SeverityMedium},
		{[]string{"0.1"}, policy.SeverityLow},
		{[]string{"0.0"}, policy.SeverityNegligible},
		{[]string{"11"}, policy.SeverityHigh},
		{[]string{"low", "medium"}, policy.SeverityMedium},
		{[]string{"low", "unknown"}, policy.SeverityHigh},
		{[]string{"critical", "5.0"}, policy.SeverityCritical},
	} {
		if got := policy.FindingSeverity(tc.scores); got != tc.want {
			t.Errorf("FindingSeverity(%q) = %s, want %s", tc.scores, got, tc.want)
		}
	}
	for _, tc := range []struct {
		min, result policy.TestResult
		want        bool
	}{
		{policy.TestPassed, policy.TestPassed, true},
		{policy.TestPassed, policy.TestWarned, false},
		{policy.TestPassed, policy.TestFailed, false},
		{policy.TestWarned, policy.TestWarned, true},
		{policy.TestWarned, policy.TestPassed, true},
		{policy.TestWarned, policy.TestFailed, false},
		{policy.TestWarned, "SKIPPED", false},
	} {
		if got := tc.min.Accepts(tc.result); got != tc.want {
			t.Errorf("%s.Accepts(%s) = %v, want %v", tc.min, tc.result, got, tc.want)
		}
	}
}
