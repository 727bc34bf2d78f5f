package scan

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/scan/scantest"
)

// TestScanNativeSBOM: the CycloneDX and SPDX SBOMs of a C program linked
// against zlib (the sbom stage's ELF dependencies, purls
// pkg:deb/debian/zlib1g@…?distro=debian-12) are matched against records the
// test wrote: zlib by Debian's source package name and zlib1g by its own
// name are found in both documents (merged into one finding each), glibc's
// advisory fixed below the installed version is not, and an unrated
// advisory makes max-severity high.
func TestScanNativeSBOM(t *testing.T) {
	t.Parallel()
	ws := nativeWorkspace(t)
	db := openTestDB(t, scantestOptions(), nativeVulns()...)
	res, err := Run(context.Background(), Options{Dir: ws.dir, Manifest: ws.manifest, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.SBOMs) != 2 {
		t.Fatalf("scanned %d SBOMs, want the CycloneDX and the SPDX one: %+v", len(res.SBOMs), res.SBOMs)
	}
	got := map[string]Finding{}
	for _, f := range res.Findings {
		got[f.ID] = f
	}
	if _, ok := got["CVE-2099-0002"]; ok {
		t.Errorf("glibc's advisory fixed in 2.0-1 matched the installed %s", debVersion(t, "libc6"))
	}
	zlib := debVersion(t, "zlib1g")
	for _, want := range []struct{ id, severity string }{{"CVE-2099-0001", Medium}, {"CVE-2099-0003", Unknown}} {
		f, ok := got[want.id]
		if !ok {
			t.Errorf("%s not found; findings: %+v", want.id, res.Findings)
			continue
		}
		if f.Severity != want.severity || f.Package.Name != "zlib1g" || f.Package.Version != zlib ||
			!strings.HasPrefix(f.Package.PURL, "pkg:deb/debian/zlib1g@") || !strings.Contains(f.Package.PURL, "distro=debian-12") {
			t.Errorf("%s: %+v, want severity %s on zlib1g %s with its Debian purl", want.id, f, want.severity, zlib)
		}
		if !slices.Equal(f.Subjects, []string{"app"}) || len(f.SBOMs) != 2 {
			t.Errorf("%s: subjects %v SBOMs %v, want app from both documents", want.id, f.Subjects, f.SBOMs)
		}
	}
	if f := got["CVE-2099-0001"]; !slices.Equal(f.FixedIn, []string{"1:99.0-1"}) {
		t.Errorf("CVE-2099-0001 fixed in %v, want [1:99.0-1]", f.FixedIn)
	}
	if len(res.Findings) != 2 {
		t.Errorf("%d findings, want 2: %+v", len(res.Findings), res.Findings)
	}
	if m := res.MaxSeverity(); m != High {
		t.Errorf("max severity %q, want high (an unknown rating counts as high)", m)
	}
	if c := res.Counts(); c[Medium] != 1 || c[Unknown] != 1 {
		t.Errorf("counts %v", c)
	}
	checkPredicate(t, res)
}

// checkPredicate checks the vulns predicate's shape against the spec's
// field names, decoding it loosely as a consumer would.
func checkPredicate(t *testing.T, res *Result) {
	t.Helper()
	b, err := res.Predicate()
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Scanner struct {
			URI, Version string
			DB           struct{ URI, Version, LastUpdate string } `json:"db"`
			Result       []struct {
				ID          string
				Severity    []struct{ Method, Score string }
				Annotations []map[string]string
			}
		}
		Metadata struct{ ScanStartedOn, ScanFinishedOn string }
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Scanner.URI, "pkg:golang/github.com/anchore/grype@v") || p.Scanner.Version == "" ||
		p.Scanner.DB.LastUpdate != scantestOptions().Built.UTC().Format("2006-01-02T15:04:05Z07:00") || p.Scanner.DB.URI == "" || !strings.HasPrefix(p.Scanner.DB.Version, "v6.") ||
		p.Metadata.ScanStartedOn == "" || p.Metadata.ScanFinishedOn == "" {
		t.Errorf("predicate scanner/metadata: %s", b)
	}
	if len(p.Scanner.Result) != len(res.Findings) {
		t.Fatalf("%d results, %d findings: %s", len(p.Scanner.Result), len(res.Findings), b)
	}
	for i, r := range p.Scanner.Result {
		f := res.Findings[i]
		if r.ID != f.ID || len(r.Severity) != 1 || r.Severity[0].Score != f.Severity || r.Severity[0].Method == "" ||
			len(r.Annotations) == 0 || r.Annotations[0]["package"] != f.Package.PURL {
			t.Errorf("result %d: %+v, finding %+v", i, r, f)
		}
	}
}

// TestScanSynthetic: matching split over several goroutines finds exactly
// the affected components of a larger SBOM (npm, Go and Debian purls), each
// once, highest severity first.
func TestScanSynthetic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := scantest.WriteSynthetic(dir, 600, 50, testBuilt)
	if err != nil {
		t.Fatal(err)
	}
	db, err := OpenDB(DBOptions{Path: s.DBRoot})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := Run(context.Background(), Options{Dir: dir, Manifest: s.Manifest, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, f := range res.Findings {
		if seen[f.ID] || !strings.HasPrefix(f.ID, "CVE-2099-") {
			t.Errorf("finding %d: %+v (twice, or an advisory about an unlisted package)", i, f)
		}
		seen[f.ID] = true
		if i > 0 && Rank(f.Severity) > Rank(res.Findings[i-1].Severity) {
			t.Errorf("finding %d (%s) sorts after a lower severity", i, f.Severity)
		}
	}
	if len(res.Findings) != s.Matches || res.MaxSeverity() != Critical {
		t.Errorf("%d findings (max %s), want %d (max critical)", len(res.Findings), res.MaxSeverity(), s.Matches)
	}
}
