package scantest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
)

// Synthetic is a benchmark workspace written by WriteSynthetic.
type Synthetic struct {
	// Manifest is dist/manifest.json (workspace-relative).
	Manifest string
	// SBOM is the CycloneDX document's path (workspace-relative).
	SBOM string
	// DBRoot is grype's cache root (holding 6/vulnerability.db).
	DBRoot string
	// Matches is how many findings a correct matcher reports.
	Matches int
}

// WriteSynthetic writes a benchmark workspace into dir: an artifact app,
// app.cdx.json (CycloneDX 1.6) listing n components (npm, Go module and
// Debian 12 packages, a third each, with purls and versions), both recorded
// in dist/manifest.json, and under grype-db/6 a database with one advisory
// affecting every tenth component and extra advisories about packages the
// SBOM does not list (so that lookups search a table larger than the hits).
func WriteSynthetic(dir string, n, extra int, built time.Time) (*Synthetic, error) {
	app := filepath.Join(dir, "app")
	b := make([]byte, 4096)
	_, _ = rand.Read(b)
	if err := os.WriteFile(app, b, 0o755); err != nil {
		return nil, err
	}
	type component struct {
		Type    string `json:"type"`
		BOMRef  string `json:"bom-ref"`
		Name    string `json:"name"`
		Version string `json:"version"`
		PURL    string `json:"purl"`
	}
	var comps []component
	var vulns []Vuln
	s := &Synthetic{Manifest: "dist/manifest.json", SBOM: "app.cdx.json", DBRoot: filepath.Join(dir, "grype-db")}
	for i := range n {
		var c component
		var v Vuln
		switch i % 3 {
		case 0:
			name := fmt.Sprintf("bench-npm-%d", i)
			c = component{Name: name, Version: "1.2.3", PURL: fmt.Sprintf("pkg:npm/%s@1.2.3", name)}
			v = Vuln{Provider: "github", Ecosystem: "npm", Package: name, VersionType: "semver", Constraint: "< 1.2.4", FixedIn: "1.2.4"}
		case 1:
			name := fmt.Sprintf("example.com/bench/mod%d", i)
			c = component{Name: name, Version: "v1.2.3", PURL: fmt.Sprintf("pkg:golang/%s@v1.2.3", name)}
			v = Vuln{Provider: "github", Ecosystem: "go-module", Package: name, VersionType: "go", Constraint: "< 1.2.4", FixedIn: "1.2.4"}
		default:
			name := fmt.Sprintf("bench-deb-%d", i)
			c = component{Name: name, Version: "1.2.3-1", PURL: fmt.Sprintf("pkg:deb/debian/%s@1.2.3-1?arch=amd64&distro=debian-12", name)}
			v = Vuln{Provider: "debian", Ecosystem: "deb", Package: name, Distro: "debian:12", VersionType: "dpkg", Constraint: "< 1.2.4-1", FixedIn: "1.2.4-1"}
		}
		c.Type, c.BOMRef = "library", c.PURL
		comps = append(comps, c)
		if i%10 == 0 {
			v.ID, v.Severity = fmt.Sprintf("CVE-2099-%d", 100000+i), []string{"low", "medium", "high", "critical"}[i/10%4]
			vulns = append(vulns, v)
			s.Matches++
		}
	}
	for i := range extra {
		vulns = append(vulns, Vuln{ID: fmt.Sprintf("GHSA-bench-%d", i), Severity: "high", Provider: "github", Ecosystem: "npm",
			Package: fmt.Sprintf("bench-unlisted-%d", i), VersionType: "semver", Constraint: "< 9.0.0", FixedIn: "9.0.0"})
	}
	appDigest, appSize, err := digest.File(app)
	if err != nil {
		return nil, err
	}
	doc, err := json.Marshal(map[string]any{
		"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
		"metadata": map[string]any{"component": map[string]any{"type": "file", "bom-ref": "app", "name": "app",
			"hashes": []map[string]string{{"alg": "SHA-256", "content": appDigest.Hex()}}}},
		"components": comps,
	})
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, s.SBOM), doc, 0o644); err != nil {
		return nil, err
	}
	sbomDigest, sbomSize, err := digest.File(filepath.Join(dir, s.SBOM))
	if err != nil {
		return nil, err
	}
	m := artifact.NewManifest()
	m.Add(artifact.Record{Name: "app", Path: "app", Digest: appDigest, Size: appSize, MediaType: "application/octet-stream", Role: artifact.RoleArtifact})
	m.Add(artifact.Record{Name: s.SBOM, Path: s.SBOM, Digest: sbomDigest, Size: sbomSize, MediaType: "application/vnd.cyclonedx+json", Role: artifact.RoleSBOM, Describes: appDigest})
	if err := m.WriteFile(filepath.Join(dir, s.Manifest)); err != nil {
		return nil, err
	}
	if err := Write(filepath.Join(s.DBRoot, "6"), Options{Built: built, Source: "synthetic"}, vulns...); err != nil {
		return nil, err
	}
	return s, nil
}
