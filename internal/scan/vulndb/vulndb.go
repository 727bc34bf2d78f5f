package vulndb

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	v6 "github.com/anchore/grype/grype/db/v6"
	"github.com/spf13/afero"
	"gorm.io/gorm"
)

// Vuln is one advisory about one package.
type Vuln struct {
	// ID is the advisory's id: CVE-…, GHSA-….
	ID string
	// Severity is its rating: critical, high, medium, low, negligible, or
	// empty for none.
	Severity    string
	Description string
	// Provider names the data source, e.g. "debian" or "github".
	Provider string
	// Ecosystem is the package type as syft names it: "deb", "go-module",
	// "npm", "rpm", ….
	Ecosystem string
	// Package is the package name: for an OS package, the binary or source
	// package as the distribution's tracker names it.
	Package string
	// Distro is NAME:MAJOR (e.g. "debian:12") for an OS package, empty for
	// a language package.
	Distro string
	// VersionType is the version scheme: "dpkg", "rpm", "go", "semver", ….
	VersionType string
	// Constraint is the affected range, e.g. "< 1:1.2.13.dfsg-2".
	Constraint string
	// FixedIn is the first fixed version; empty when there is no fix.
	FixedIn string
}

// Options for Write.
type Options struct {
	// Built is the database's build time; zero means now.
	Built time.Time
	// Source is what import.json records as where it came from.
	Source string
}

// Write writes a database of vulns into dir, ready for scan.OpenDB:
// vulnerability.db with indexes and import.json. dir must not exist or be
// empty; the database is written into a new directory beside it and renamed
// to dir once complete, so a failure leaves nothing behind.
func Write(dir string, o Options, vulns ...Vuln) (err error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("writing a vulnerability database into %q: the directory is not empty; give a new or empty directory", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("writing a vulnerability database into %q: %w", dir, err)
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("writing a vulnerability database: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".vulndb-*")
	if err != nil {
		return fmt.Errorf("writing a vulnerability database: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	if err := write(tmp, o, vulns); err != nil {
		return fmt.Errorf("writing a vulnerability database into %q: %w", dir, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	_ = os.Remove(dir) // empty or absent: checked above
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("writing a vulnerability database into %q: %w", dir, err)
	}
	return nil
}

func write(dir string, o Options, vulns []Vuln) error {
	w, err := v6.NewWriter(v6.Config{DBDirPath: dir})
	if err != nil {
		return fmt.Errorf("creating the database: %w", err)
	}
	for i, v := range vulns {
		if err := add(w, v); err != nil {
			_ = w.Close()
			return fmt.Errorf("record %d (%s): %w", i, v.ID, err)
		}
	}
	if !o.Built.IsZero() {
		g, ok := w.(interface{ GetDB() *gorm.DB })
		if !ok {
			_ = w.Close()
			return fmt.Errorf("grype's v6 writer no longer exposes GetDB")
		}
		built := o.Built.UTC()
		if err := g.GetDB().Model(&v6.DBMetadata{}).Where("true").Update("build_timestamp", &built).Error; err != nil {
			_ = w.Close()
			return fmt.Errorf("setting the build time: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("closing the database: %w", err)
	}
	if err := v6.Hydrater()(dir); err != nil {
		return fmt.Errorf("indexing the database: %w", err)
	}
	_, err = v6.WriteImportMetadata(afero.NewOsFs(), dir, o.Source)
	return err
}

func add(w v6.ReadWriter, v Vuln) error {
	provider := v.Provider
	if provider == "" {
		provider = "test"
	}
	blob := &v6.VulnerabilityBlob{ID: v.ID, Description: v.Description}
	if v.Severity != "" {
		blob.Severities = []v6.Severity{{Scheme: v6.SeveritySchemeCHMLN, Value: v.Severity}}
	}
	vh := &v6.VulnerabilityHandle{
		Name:      v.ID,
		Status:    v6.VulnerabilityActive,
		Provider:  &v6.Provider{ID: provider, Version: "1", Processor: "slipway"},
		BlobValue: blob,
	}
	if err := w.AddVulnerabilities(vh); err != nil {
		return err
	}
	r := v6.Range{Version: v6.Version{Type: v.VersionType, Constraint: v.Constraint}}
	if v.FixedIn != "" {
		r.Fix = &v6.Fix{Version: v.FixedIn, State: v6.FixedStatus}
	} else {
		r.Fix = &v6.Fix{State: v6.NotFixedStatus}
	}
	ah := &v6.AffectedPackageHandle{
		Vulnerability: vh,
		Package:       &v6.Package{Ecosystem: v.Ecosystem, Name: v.Package},
		BlobValue:     &v6.PackageBlob{CVEs: cves(v.ID), Ranges: []v6.Range{r}},
	}
	if v.Distro != "" {
		name, major, ok := strings.Cut(v.Distro, ":")
		if !ok {
			return fmt.Errorf("distro %q is not NAME:MAJOR", v.Distro)
		}
		ah.OperatingSystem = &v6.OperatingSystem{Name: name, ReleaseID: name, MajorVersion: major}
	}
	return w.AddAffectedPackages(ah)
}

func cves(id string) []string {
	if strings.HasPrefix(id, "CVE-") {
		return []string{id}
	}
	return nil
}
