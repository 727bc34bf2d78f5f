package demo

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/slipway/actions/internal/scan/vulndb"
)

// The demo database's records: advisories about the Go standard library,
// which every build of the sample links (its SBOM lists it as the Go module
// stdlib), declared by slipway demo itself. They are not real advisories
// and say so; they give the scan something to find and the policy something
// to judge: PassedVuln is low, within the policy's maxSeverity medium;
// IgnoredVuln is high, accepted only by the policy's ignore entry.
const (
	PassedVuln  = "SLIPWAY-DEMO-2026-0001"
	IgnoredVuln = "SLIPWAY-DEMO-2026-0002"
)

// DBSource is what the demo database's import.json says it came from.
const DBSource = "slipway demo (records written by the demo, not real advisories)"

func demoVulns() []vulndb.Vuln {
	stdlib := func(id, severity, what string) vulndb.Vuln {
		return vulndb.Vuln{ID: id, Severity: severity, Provider: "slipway-demo", Ecosystem: "go-module", Package: "stdlib",
			VersionType: "go", Constraint: ">= 1.22.0",
			Description: "Demo record, not a real advisory: slipway demo wrote it into its own offline database, " + what}
	}
	return []vulndb.Vuln{
		stdlib(PassedVuln, "low", "to show a finding the trust policy accepts (low, within maxSeverity medium)."),
		stdlib(IgnoredVuln, "high", "to show a finding the trust policy accepts only through its ignore entry (high, above maxSeverity medium)."),
	}
}

// writeVulnDB writes the demo's grype v6 vulnerability database into
// DIR/vulnerability-db, built now, with grype's own writer: the scan stage
// reads it exactly as it reads a site's mirrored database, offline.
func (e *Env) writeVulnDB(now time.Time) error {
	e.DB = filepath.Join(e.Dir, "vulnerability-db")
	if err := vulndb.Write(e.DB, vulndb.Options{Built: now, Source: DBSource}, demoVulns()...); err != nil {
		return fmt.Errorf("writing the demo's vulnerability database: %w", err)
	}
	return nil
}
