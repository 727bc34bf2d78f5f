package scan

import (
	"cmp"
	"fmt"
	"io"
	"strings"

	"github.com/owenrumney/go-sarif/sarif"
)

// SARIF is the SARIF 2.1.0 log of r for GitHub code scanning
// (github/codeql-action/upload-sarif): one run of grype, one rule per
// vulnerability id with GitHub's security-severity (the CVSS base score,
// or the rating's middle score without one), and one result per finding and
// SBOM, located in that SBOM file (workspace-relative).
func (r *Result) SARIF() (*sarif.Report, error) {
	report, err := sarif.New(sarif.Version210)
	if err != nil {
		return nil, err
	}
	run := sarif.NewRun("grype", "https://github.com/anchore/grype")
	run.Tool.Driver.WithVersion(strings.TrimPrefix(ScannerVersion(), "v"))
	ruleScore := map[string]float64{}
	for _, f := range r.Findings {
		ruleScore[f.ID] = max(ruleScore[f.ID], f.securitySeverity())
	}
	seen := map[string]bool{}
	for _, f := range r.Findings {
		if !seen[f.ID] {
			seen[f.ID] = true
			rule := run.AddRule(f.ID).
				WithName(ruleName(f.ID)).
				WithShortDescription(sarif.NewMultiformatMessageString(fmt.Sprintf("%s (%s)", f.ID, f.Severity))).
				WithFullDescription(sarif.NewMultiformatMessageString(cmp.Or(f.Description, f.ID))).
				WithHelp(f.help())
			if f.URL != "" {
				rule.WithHelpURI(f.URL)
			}
			rule.WithProperties(sarif.Properties{
				"security-severity": fmt.Sprintf("%.1f", ruleScore[f.ID]),
				"tags":              []string{"security", "vulnerability", f.Severity},
			})
		}
		for _, sbom := range f.SBOMs {
			run.AddResult(f.ID).
				WithLevel(f.level()).
				WithMessage(sarif.NewTextMessage(f.message())).
				WithLocation(sarif.NewLocationWithPhysicalLocation(sarif.NewPhysicalLocation().
					WithArtifactLocation(sarif.NewSimpleArtifactLocation(sbom)).
					WithRegion(sarif.NewSimpleRegion(1, 1))))
		}
	}
	report.AddRun(run)
	return report, nil
}

// WriteSARIF writes r's SARIF log to w.
func (r *Result) WriteSARIF(w io.Writer) error {
	report, err := r.SARIF()
	if err != nil {
		return err
	}
	return report.PrettyWrite(w)
}

// ruleName is a rule's name in SARIF's identifier form (no spaces).
func ruleName(id string) string {
	return "Vulnerability" + strings.NewReplacer("-", "", ":", "", " ", "").Replace(id)
}

// level maps the rating to a SARIF level; unknown is taken as high.
func (f Finding) level() string {
	switch f.Severity {
	case Critical, High, Unknown:
		return "error"
	case Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity is GitHub's 0-10 score: the CVSS base score, or the
// middle of the rating's band (critical >= 9, high >= 7, medium >= 4,
// low >= 0.1).
func (f Finding) securitySeverity() float64 {
	if f.CVSS > 0 {
		return f.CVSS
	}
	switch f.Severity {
	case Critical:
		return 9.5
	case High, Unknown:
		return 8.0
	case Medium:
		return 5.5
	case Low:
		return 2.0
	}
	return 0.1
}

func (f Finding) fixText() string {
	if len(f.FixedIn) == 0 {
		return "no fixed version known"
	}
	return "fixed in " + strings.Join(f.FixedIn, ", ")
}

func (f Finding) message() string {
	return fmt.Sprintf("%s (%s) in %s %s (%s); %s; artifacts: %s", f.ID, f.Severity, f.Package.Name, f.Package.Version, f.Package.ID(), f.fixText(), strings.Join(f.Subjects, ", "))
}

func (f Finding) help() string {
	return fmt.Sprintf("Vulnerability %s\nSeverity: %s (%s)\nPackage: %s\nFix: %s\nLink: %s", f.ID, f.Severity, f.method(), f.Package.ID(), f.fixText(), cmp.Or(f.URL, "none"))
}
