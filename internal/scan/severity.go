package scan

import "strings"

// Severities, lowest first, as the statement and max-severity name them.
// None is no finding at all; Unknown is a finding whose data source gave no
// severity.
const (
	None       = "none"
	Negligible = "negligible"
	Low        = "low"
	Medium     = "medium"
	High       = "high"
	Critical   = "critical"
	Unknown    = "unknown"
)

// Severities lists the levels max-severity can take, lowest first.
var Severities = []string{None, Negligible, Low, Medium, High, Critical}

// Rank orders severities for max-severity and policy thresholds: none <
// negligible < low < medium < high < critical. Unknown (or anything else a
// data source wrote) ranks as high: a finding nobody has rated yet is not
// taken as harmless (docs/scan.md, docs/policy.md).
func Rank(severity string) int {
	switch strings.ToLower(strings.TrimSpace(severity)) {
	case None:
		return 0
	case Negligible:
		return 1
	case Low:
		return 2
	case Medium:
		return 3
	case Critical:
		return 5
	}
	return 4
}

// normalize lower-cases a data source's severity, naming what it does not
// know Unknown.
func normalize(severity string) string {
	s := strings.ToLower(strings.TrimSpace(severity))
	switch s {
	case Negligible, Low, Medium, High, Critical:
		return s
	}
	return Unknown
}

// maxSeverity is the highest-ranked severity among findings, None without
// any; Unknown counts as High.
func maxSeverity(findings []Finding) string {
	best := None
	for _, f := range findings {
		s := f.Severity
		if s == Unknown {
			s = High
		}
		if Rank(s) > Rank(best) {
			best = s
		}
	}
	return best
}
