package verify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slipway/actions/internal/policy"
)

// testResult is a verified test-result attestation about the subject.
type testResult struct {
	bundle string
	at     time.Time // the bundle's newest verified time; zero when none
	pred   testResultPredicate
}

// testResultPredicate is the part of an in-toto test-result predicate the
// policy reads.
type testResultPredicate struct {
	Result      policy.TestResult `json:"result"`
	URL         string            `json:"url"`
	PassedTests []string          `json:"passedTests"`
	WarnedTests []string          `json:"warnedTests"`
	FailedTests []string          `json:"failedTests"`
}

// vulnScan is a verified vulns attestation about the subject.
type vulnScan struct {
	bundle string
	at     time.Time // scanFinishedOn, else the bundle's newest verified time
	pred   vulnsPredicate
}

// vulnsPredicate is the part of an in-toto vulns v0.1 predicate the policy
// reads.
type vulnsPredicate struct {
	Scanner struct {
		URI     string `json:"uri"`
		Version string `json:"version"`
		DB      struct {
			URI        string     `json:"uri"`
			Version    string     `json:"version"`
			LastUpdate *time.Time `json:"lastUpdate"`
		} `json:"db"`
		Result []finding `json:"result"`
	} `json:"scanner"`
	Metadata struct {
		ScanStartedOn  *time.Time `json:"scanStartedOn"`
		ScanFinishedOn *time.Time `json:"scanFinishedOn"`
	} `json:"metadata"`
}

// finding is one entry of scanner.result. The spec's text nests id and
// severity in a "vulnerability" object, its example does not: both are
// read.
type finding struct {
	findingFields
	Vulnerability *findingFields `json:"vulnerability"`
}

// score is one of a finding's severity scores.
type score struct {
	Method string `json:"method"`
	Score  string `json:"score"`
}

type findingFields struct {
	ID          string           `json:"id"`
	Severity    []score          `json:"severity"`
	Annotations []map[string]any `json:"annotations"`
}

// fields returns the finding's fields, wherever the scanner put them.
func (f *finding) fields() *findingFields {
	if f.ID == "" && f.Vulnerability != nil {
		return f.Vulnerability
	}
	return &f.findingFields
}

// severity is the finding's rank (policy.FindingSeverity of its scores).
func (f *findingFields) severity() policy.Severity {
	scores := make([]string, len(f.Severity))
	for i, s := range f.Severity {
		scores[i] = s.Score
	}
	return policy.FindingSeverity(scores)
}

// annotation returns the first string annotation named key.
func (f *findingFields) annotation(key string) string {
	for _, a := range f.Annotations {
		if s, ok := a[key].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// latest returns the newest of times, zero when there are none.
func latest(times []timeEvidence) time.Time {
	var t time.Time
	for _, e := range times {
		if e.at.After(t) {
			t = e.at
		}
	}
	return t
}

// collectTestResult reads a verified test-result statement's predicate for
// the tests check. It reports whether the predicate is a test result.
func (v *Verifier) collectTestResult(rep *SubjectReport, ev *evidence, raw json.RawMessage, f *found, times []timeEvidence) bool {
	var p testResultPredicate
	if err := json.Unmarshal(raw, &p); err != nil {
		rep.fail(CheckTests, ev.path, "the test-result predicate does not parse: %v; attest the result slipway test writes", err)
		return false
	}
	switch p.Result {
	case policy.TestPassed, policy.TestWarned, policy.TestFailed:
	default:
		rep.fail(CheckTests, ev.path, "the test-result predicate's result is %q, not PASSED, WARNED or FAILED: it is not a test result", p.Result)
		return false
	}
	f.tests = append(f.tests, testResult{bundle: ev.path, at: latest(times), pred: p})
	return true
}

// collectVulns reads a verified vulns statement's predicate for the
// vulnerabilities check. It reports whether the predicate is a scan.
func (v *Verifier) collectVulns(rep *SubjectReport, ev *evidence, raw json.RawMessage, f *found, times []timeEvidence) bool {
	var p vulnsPredicate
	if err := json.Unmarshal(raw, &p); err != nil {
		rep.fail(CheckVulnerabilities, ev.path, "the vulns predicate does not parse: %v; attest the scan slipway scan writes", err)
		return false
	}
	if p.Scanner.URI == "" {
		rep.fail(CheckVulnerabilities, ev.path, "the vulns predicate names no scanner.uri: it is not a vulnerability scan")
		return false
	}
	for i := range p.Scanner.Result {
		if p.Scanner.Result[i].fields().ID == "" {
			rep.fail(CheckVulnerabilities, ev.path, "finding %d of the vulns predicate has no id; a finding the policy cannot name cannot be judged", i)
			return false
		}
	}
	s := vulnScan{bundle: ev.path, at: latest(times), pred: p}
	if p.Metadata.ScanFinishedOn != nil {
		s.at = *p.Metadata.ScanFinishedOn
	}
	f.scans = append(f.scans, s)
	return true
}

// newest returns the attestations that decide: the newest dated one (all
// of them when several share its time) and every undated one, which
// cannot be ruled out as newer. The rest are superseded.
func newest[T any](all []T, at func(T) time.Time) (deciding, superseded []T) {
	var top time.Time
	for _, a := range all {
		if at(a).After(top) {
			top = at(a)
		}
	}
	for _, a := range all {
		if t := at(a); t.IsZero() || t.Equal(top) {
			deciding = append(deciding, a)
		} else {
			superseded = append(superseded, a)
		}
	}
	return deciding, superseded
}

// checkTests judges the subject's verified test results under the
// policy's tests section. A dispatched job's output is exempt from
// tests.required: it was not built and tested, it is judged by the release
// it chains to.
func (v *Verifier) checkTests(rep *SubjectReport, f *found) {
	rule := v.policy.Tests
	if rule == nil {
		return
	}
	if len(f.tests) == 0 {
		if rule.Required && !f.dispatched {
			rep.fail(CheckTests, "", "no verified test-result attestation (%s) names this subject, and the policy requires one (tests.required); run slipway test with the build's manifest, signed by a policy signer, and pass its bundle", policy.TestResultV01)
		}
		return
	}
	deciding, superseded := newest(f.tests, func(t testResult) time.Time { return t.at })
	for _, t := range superseded {
		rep.pass(CheckTests, t.bundle, "", "test result %s signed %s is superseded by a newer one, which decides", t.pred.Result, stamp(t.at))
	}
	if len(deciding) > 1 {
		rep.pass(CheckTests, "", "", "%d test results cannot be told apart by a verified signing time, so each must pass", len(deciding))
	}
	for _, t := range deciding {
		p := t.pred
		counts := fmt.Sprintf("%d passed, %d warned, %d failed", len(p.PassedTests), len(p.WarnedTests), len(p.FailedTests))
		switch {
		case p.Result == policy.TestFailed:
			failed := "it names no failed test"
			if len(p.FailedTests) > 0 {
				failed = fmt.Sprintf("failed: %s", firstFew(p.FailedTests))
			}
			rep.fail(CheckTests, t.bundle, "the tests FAILED (%s; %s%s): fix the failing tests and run slipway test again; the policy accepts %s", counts, failed, where(p.URL), accepted(rule.Result))
		case !rule.Result.Accepts(p.Result):
			rep.fail(CheckTests, t.bundle, "the tests WARNED (%s; warned: %s%s), and the policy requires PASSED (tests.result): fix the warnings and run slipway test again, or set tests.result: WARNED to accept them", counts, firstFew(p.WarnedTests), where(p.URL))
		default:
			rep.pass(CheckTests, t.bundle, "", "the tests %s (%s%s); the policy accepts %s", p.Result, counts, where(p.URL), accepted(rule.Result))
		}
	}
}

// checkVulns judges the subject's verified vulnerability scans under the
// policy's vulnerabilities section; a dispatched job's output is exempt
// from vulnerabilities.required as from tests.required.
func (v *Verifier) checkVulns(rep *SubjectReport, f *found) {
	rule := v.policy.Vulnerabilities
	if rule == nil {
		return
	}
	if len(f.scans) == 0 {
		if rule.Required && !f.dispatched {
			rep.fail(CheckVulnerabilities, "", "no verified vulns attestation (%s) names this subject, and the policy requires one (vulnerabilities.required); run slipway scan with the build's manifest, signed by a policy signer, and pass its bundle", policy.VulnsV01)
		}
		return
	}
	deciding, superseded := newest(f.scans, func(s vulnScan) time.Time { return s.at })
	for _, s := range superseded {
		rep.pass(CheckVulnerabilities, s.bundle, "", "scan of %s is superseded by a newer one, which decides", stamp(s.at))
	}
	if len(deciding) > 1 {
		rep.pass(CheckVulnerabilities, "", "", "%d scans cannot be told apart by their time, so each must pass", len(deciding))
	}
	now := v.now()
	for _, s := range deciding {
		v.checkScanAge(rep, s, rule, now)
		v.checkFindings(rep, s, rule, now)
	}
}

// checkScanAge checks a scan against vulnerabilities.maxAge: its finish
// and its database's last update, whichever is older.
func (v *Verifier) checkScanAge(rep *SubjectReport, s vulnScan, rule *policy.Vulnerabilities, now time.Time) {
	if rule.MaxAge == 0 {
		return
	}
	m, db := s.pred.Metadata, s.pred.Scanner.DB
	var at time.Time
	what := ""
	if m.ScanFinishedOn != nil {
		at, what = *m.ScanFinishedOn, "the scan finished"
	}
	if db.LastUpdate != nil && (at.IsZero() || db.LastUpdate.Before(at)) {
		at, what = *db.LastUpdate, "its vulnerability database was last updated"
	}
	if at.IsZero() {
		rep.fail(CheckVulnerabilities, s.bundle, "the scan has neither metadata.scanFinishedOn nor scanner.db.lastUpdate, so vulnerabilities.maxAge %s cannot be checked; scan again with slipway scan", age(rule.MaxAge))
		return
	}
	d := now.Sub(at)
	switch {
	case d < -futureSkew:
		rep.fail(CheckVulnerabilities, s.bundle, "%s %s, %s in the future; check the scanner's clock and scan again", what, stamp(at), age(-d))
	case d > rule.MaxAge:
		rep.fail(CheckVulnerabilities, s.bundle, "%s %s, %s ago, longer than vulnerabilities.maxAge %s: new vulnerabilities may have been published since; update the database and scan again (slipway scan)", what, stamp(at), age(d), age(rule.MaxAge))
	default:
		rep.pass(CheckVulnerabilities, s.bundle, "", "%s %s, %s ago, within vulnerabilities.maxAge %s", what, stamp(at), age(max(d, 0)), age(rule.MaxAge))
	}
}

// maxFindingLines bounds the failed findings reported one per line; the
// rest are counted in one more line.
const maxFindingLines = 10

// checkFindings judges a scan's findings against maxSeverity and the
// ignores that apply at now.
func (v *Verifier) checkFindings(rep *SubjectReport, s vulnScan, rule *policy.Vulnerabilities, now time.Time) {
	var refused, ignored []string
	sc := s.pred.Scanner
	for i := range sc.Result {
		fd := sc.Result[i].fields()
		sev := fd.severity()
		if sev <= rule.MaxSeverity {
			continue
		}
		name := describeFinding(fd, sev)
		ig, found := rule.FindIgnore(fd.ID)
		switch {
		case found && ig.Applies(now):
			ignored = append(ignored, fmt.Sprintf("%s until %s (%s)", fd.ID, stamp(ig.Expires), ig.Reason))
			continue
		case found:
			refused = append(refused, fmt.Sprintf("%s, above maxSeverity %s, and its ignore (%s) expired %s, so it no longer applies: %s, or renew the ignore's expires if its reason (%q) still holds",
				name, rule.MaxSeverity, ig.Field(), stamp(ig.Expires), fixAction(fd), ig.Reason))
		default:
			refused = append(refused, fmt.Sprintf("%s, above maxSeverity %s: %s, or accept it with a vulnerabilities.ignore entry (id, reason, expires)",
				name, rule.MaxSeverity, fixAction(fd)))
		}
	}
	for i, r := range refused {
		if i == maxFindingLines {
			rep.fail(CheckVulnerabilities, s.bundle, "and %d more %s above maxSeverity %s", len(refused)-i, plural(len(refused)-i, "finding", "findings"), rule.MaxSeverity)
			break
		}
		rep.fail(CheckVulnerabilities, s.bundle, "%s", r)
	}
	if len(refused) > 0 {
		return
	}
	msg := fmt.Sprintf("%s (database %s) found %d %s, none above maxSeverity %s", scanner(sc.URI, sc.Version), dbName(sc.DB.Version, sc.DB.LastUpdate),
		len(sc.Result), plural(len(sc.Result), "vulnerability", "vulnerabilities"), rule.MaxSeverity)
	if len(ignored) > 0 {
		msg += fmt.Sprintf(" but the %d the policy ignores: %s", len(ignored), strings.Join(ignored, "; "))
	}
	rep.pass(CheckVulnerabilities, s.bundle, "", "%s", msg)
}

// describeFinding names a finding: its id, package and severity.
func describeFinding(fd *findingFields, sev policy.Severity) string {
	pkg := fd.annotation("package")
	if pkg == "" {
		pkg = "an unnamed package"
	}
	how := sev.String()
	if len(fd.Severity) == 0 {
		how += " (no severity given, ranked high)"
	} else if !slices.ContainsFunc(fd.Severity, func(s score) bool { return strings.EqualFold(strings.TrimSpace(s.Score), how) }) {
		how += fmt.Sprintf(" (scores %s)", strings.Join(fd.scores(), ", "))
	}
	return fmt.Sprintf("%s in %s is %s", fd.ID, pkg, how)
}

func (f *findingFields) scores() []string {
	out := make([]string, len(f.Severity))
	for i, s := range f.Severity {
		out[i] = fmt.Sprintf("%q", s.Score)
	}
	return out
}

// fixAction says how to get rid of a finding.
func fixAction(fd *findingFields) string {
	if v := fd.annotation("fixedIn"); v != "" {
		return "upgrade the package to " + v + " or later and scan again"
	}
	return "no fixed version is known: drop or replace the package and scan again"
}

func scanner(uri, version string) string {
	if version != "" && !strings.Contains(uri, version) {
		return fmt.Sprintf("%s %s", uri, version)
	}
	return uri
}

func dbName(version string, updated *time.Time) string {
	var parts []string
	if version != "" {
		parts = append(parts, version)
	}
	if updated != nil {
		parts = append(parts, "updated "+stamp(*updated))
	}
	if len(parts) == 0 {
		return "unnamed"
	}
	return strings.Join(parts, ", ")
}

// firstFew lists the first names and counts the rest.
func firstFew(names []string) string {
	const n = 5
	if len(names) == 0 {
		return "none named"
	}
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

func where(url string) string {
	if url == "" {
		return ""
	}
	return "; run " + url
}

func accepted(min policy.TestResult) string {
	if min == policy.TestWarned {
		return "PASSED or WARNED"
	}
	return "PASSED only"
}
