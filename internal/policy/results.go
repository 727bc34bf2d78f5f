package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slipway/actions/internal/lazyregexp"
)

// The predicate types of test results and vulnerability findings (in-toto
// attestation predicates), which the "tests" and "vulnerabilities"
// sections judge.
const (
	// TestResultV01 is the in-toto test-result predicate type.
	TestResultV01 = "https://in-toto.io/attestation/test-result/v0.1"
	// VulnsV01 is the in-toto vulnerabilities predicate type.
	VulnsV01 = "https://in-toto.io/attestation/vulns/v0.1"
)

// TestResult is a test-result predicate's result.
type TestResult string

// The results of a test run, as the test-result predicate writes them.
const (
	TestPassed TestResult = "PASSED"
	TestWarned TestResult = "WARNED"
	TestFailed TestResult = "FAILED"
)

// Accepts reports whether result r meets the minimum min: PASSED meets
// both minimums, WARNED meets WARNED, FAILED none.
func (min TestResult) Accepts(r TestResult) bool {
	switch r {
	case TestPassed:
		return true
	case TestWarned:
		return min == TestWarned
	}
	return false
}

// Tests is the "tests" section: what a subject's test results must show.
type Tests struct {
	// Required makes a verified test-result attestation naming the subject
	// necessary. Without it, one that is present is still judged.
	Required bool
	// Result is the lowest acceptable result: TestPassed (the default) or
	// TestWarned.
	Result TestResult
}

// Severity ranks a vulnerability finding. SeverityNone is below every
// finding: a maxSeverity of none refuses any finding at all.
type Severity int

// The severities, lowest first.
const (
	SeverityNone Severity = iota
	SeverityNegligible
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = []string{"none", "negligible", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return "severity(" + strconv.Itoa(int(s)) + ")"
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name, case-insensitively.
func ParseSeverity(s string) (Severity, bool) {
	for i, n := range severityNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return Severity(i), true
		}
	}
	return SeverityNone, false
}

// ScoreSeverity ranks one severity score of a finding: a name
// (critical, high, medium, low, negligible), or a CVSS base score
// ("7.5", ranked by the CVSS v3 bands: 9.0 critical, 7.0 high, 4.0
// medium, 0.1 low). Anything else ("unknown", a vector, an empty score)
// ranks as high: an unknown severity is not assumed to be harmless.
func ScoreSeverity(score string) Severity {
	score = strings.TrimSpace(score)
	if s, ok := ParseSeverity(score); ok && s != SeverityNone {
		return s
	}
	if f, err := strconv.ParseFloat(score, 64); err == nil && f >= 0 && f <= 10 {
		switch {
		case f >= 9:
			return SeverityCritical
		case f >= 7:
			return SeverityHigh
		case f >= 4:
			return SeverityMedium
		case f > 0:
			return SeverityLow
		}
		return SeverityNegligible
	}
	return SeverityHigh
}

// FindingSeverity ranks a finding by the highest of its severity scores
// (ScoreSeverity); a finding without any ranks as high.
func FindingSeverity(scores []string) Severity {
	if len(scores) == 0 {
		return SeverityHigh
	}
	s := SeverityNone
	for _, sc := range scores {
		s = max(s, ScoreSeverity(sc))
	}
	return s
}

// Vulnerabilities is the "vulnerabilities" section: what a subject's
// vulnerability scan must show.
type Vulnerabilities struct {
	// Required makes a verified vulns attestation naming the subject
	// necessary. Without it, one that is present is still judged.
	Required bool
	// MaxSeverity is the highest severity a finding may have, unless an
	// ignore covers it.
	MaxSeverity Severity
	// MaxAge is the oldest the scan (its finish or its database's last
	// update, whichever is older) may be; 0 means no limit.
	MaxAge time.Duration
	// Ignore are the findings accepted whatever their severity, each until
	// it expires.
	Ignore []Ignore
}

// Ignore accepts the findings of one vulnerability id until Expires.
type Ignore struct {
	// Index is the entry's position in vulnerabilities.ignore, for
	// messages.
	Index int
	// ID is the vulnerability id (CVE-…, GHSA-…, GO-…), compared
	// case-insensitively.
	ID string
	// Reason says why the finding is accepted.
	Reason string
	// Expires is when the ignore stops applying: a date written alone is
	// its first instant, in UTC.
	Expires time.Time
}

// Field names the ignore in the policy ("vulnerabilities.ignore[0]").
func (ig Ignore) Field() string { return fmt.Sprintf("vulnerabilities.ignore[%d]", ig.Index) }

// Applies reports whether the ignore still applies at now.
func (ig Ignore) Applies(now time.Time) bool { return now.Before(ig.Expires) }

// FindIgnore returns the ignore of vulnerability id, expired or not.
func (v *Vulnerabilities) FindIgnore(id string) (Ignore, bool) {
	for _, ig := range v.Ignore {
		if strings.EqualFold(ig.ID, id) {
			return ig, true
		}
	}
	return Ignore{}, false
}

// testsDoc is the "tests" section as written.
type testsDoc struct {
	Required bool   `yaml:"required"`
	Result   string `yaml:"result"`
}

// vulnerabilitiesDoc is the "vulnerabilities" section as written.
type vulnerabilitiesDoc struct {
	Required    bool        `yaml:"required"`
	MaxSeverity string      `yaml:"maxSeverity"`
	MaxAge      string      `yaml:"maxAge"`
	Ignore      []ignoreDoc `yaml:"ignore"`
}

type ignoreDoc struct {
	ID      string `yaml:"id"`
	Reason  string `yaml:"reason"`
	Expires string `yaml:"expires"`
}

// tests compiles the "tests" section.
func (c *compiler) tests(p *Policy, d *testsDoc) {
	if d == nil {
		return
	}
	t := &Tests{Required: d.Required, Result: TestPassed}
	switch r := TestResult(strings.ToUpper(strings.TrimSpace(d.Result))); r {
	case "":
	case TestPassed, TestWarned:
		t.Result = r
	case TestFailed:
		c.errorf("tests.result", "is %q, which would accept failed tests; write PASSED (the default) or WARNED (accepts warnings), or remove the tests section", d.Result)
	default:
		c.errorf("tests.result", "is %q; write PASSED (the default: every test passed) or WARNED (tests that warned are accepted too)", d.Result)
	}
	p.Tests = t
}

// vulnerabilityID is the charset of vulnerability ids (CVE-2024-1234,
// GHSA-xxxx-xxxx-xxxx, GO-2024-0001, PYSEC-…).
var vulnerabilityID = lazyregexp.New(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// vulnerabilities compiles the "vulnerabilities" section.
func (c *compiler) vulnerabilities(p *Policy, d *vulnerabilitiesDoc) {
	if d == nil {
		return
	}
	v := &Vulnerabilities{Required: d.Required}
	if strings.TrimSpace(d.MaxSeverity) == "" {
		c.errorf("vulnerabilities.maxSeverity", "is missing; write the highest severity a finding may have: none (no finding at all), negligible, low, medium, high or critical (every finding)")
	} else if s, ok := ParseSeverity(d.MaxSeverity); ok {
		v.MaxSeverity = s
	} else {
		c.errorf("vulnerabilities.maxSeverity", "is %q; write one of none, negligible, low, medium, high, critical", d.MaxSeverity)
	}
	if d.MaxAge != "" {
		age, err := ParseAge(d.MaxAge)
		if err != nil {
			c.errorf("vulnerabilities.maxAge", "%v", err)
		}
		v.MaxAge = age
	}
	seen := map[string]int{}
	for i, ig := range d.Ignore {
		field := fmt.Sprintf("vulnerabilities.ignore[%d]", i)
		ok := true
		id := strings.TrimSpace(ig.ID)
		switch {
		case id == "":
			c.errorf(field+".id", "is missing; give the vulnerability id the scan reports, like \"CVE-2024-1234\" or \"GHSA-xxxx-xxxx-xxxx\"")
			ok = false
		case !vulnerabilityID.MatchString(id):
			c.errorf(field+".id", "%q is not a vulnerability id; write it as the scan reports it, like \"CVE-2024-1234\"", ig.ID)
			ok = false
		default:
			if j, dup := seen[strings.ToUpper(id)]; dup {
				c.errorf(field+".id", "%q is already ignored by vulnerabilities.ignore[%d]; keep one entry per id", ig.ID, j)
				ok = false
			}
			seen[strings.ToUpper(id)] = i
		}
		if strings.TrimSpace(ig.Reason) == "" {
			c.errorf(field+".reason", "is missing; say why the finding is accepted (\"not reachable: we never call X\"), for whoever reads the policy next")
			ok = false
		}
		var expires time.Time
		if strings.TrimSpace(ig.Expires) == "" {
			c.errorf(field+".expires", "is missing; give the date the ignore stops applying, like \"2027-01-31\", so that the finding is looked at again")
			ok = false
		} else if t, err := parseExpiry(ig.Expires); err != nil {
			c.errorf(field+".expires", "%v", err)
			ok = false
		} else {
			expires = t
		}
		if ok {
			v.Ignore = append(v.Ignore, Ignore{Index: i, ID: id, Reason: strings.TrimSpace(ig.Reason), Expires: expires})
		}
	}
	p.Vulnerabilities = v
}

// parseExpiry reads an ignore's expiry: a date (2027-01-31, its first
// instant in UTC) or an RFC 3339 time.
func parseExpiry(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date; write it like \"2027-01-31\" (the ignore applies until that day begins, UTC) or as an RFC 3339 time", s)
}
