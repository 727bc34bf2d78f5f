package scan

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/sbom"
	"github.com/slipway/actions/internal/scan/scantest"
	"github.com/slipway/actions/internal/testutil/tools"
)

// debVersion is dpkg-query's version of an installed package.
func debVersion(t testing.TB, name string) string {
	t.Helper()
	tools.Require(t, "dpkg-query")
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", name).Output()
	if err != nil {
		t.Skipf("dpkg-query -W %s: %v (not a Debian host)", name, err)
	}
	return strings.TrimSpace(string(out))
}

// workspace is a workspace with a C program linked against zlib
// (app, the only artifact), its native-binary SBOMs in CycloneDX and SPDX
// made by the sbom stage and recorded in dist/manifest.json.
type testWS struct {
	dir, manifest string
}

var (
	nativeOnce sync.Once
	nativeWS   testWS
	nativeErr  string
)

// nativeWorkspace builds the workspace once per test binary and copies it
// for each caller, so that tests may change their copy.
func nativeWorkspace(t *testing.T) testWS {
	t.Helper()
	tools.Require(t, "gcc")
	debVersion(t, "zlib1g")
	nativeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "scan-native-")
		if err != nil {
			nativeErr = err.Error()
			return
		}
		nativeWS, nativeErr = buildNative(dir)
	})
	if nativeErr != "" {
		t.Fatal(nativeErr)
	}
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(nativeWS.dir)); err != nil {
		t.Fatal(err)
	}
	return testWS{dir: dst, manifest: nativeWS.manifest}
}

func buildNative(dir string) (testWS, string) {
	src := filepath.Join(dir, "app.c")
	if err := os.WriteFile(src, []byte("#include <zlib.h>\n#include <stdio.h>\nint main(void) { puts(zlibVersion()); return 0; }\n"), 0o644); err != nil {
		return testWS{}, err.Error()
	}
	if out, err := exec.Command("gcc", "-O1", "-o", filepath.Join(dir, "app"), src, "-lz").CombinedOutput(); err != nil {
		return testWS{}, "gcc: " + err.Error() + "\n" + string(out)
	}
	_ = os.Remove(src)
	d, size, err := digest.File(filepath.Join(dir, "app"))
	if err != nil {
		return testWS{}, err.Error()
	}
	m := artifact.NewManifest()
	m.Add(artifact.Record{Name: "app", Path: "app", Digest: d, Size: size, MediaType: "application/octet-stream", Role: artifact.RoleArtifact})
	if err := m.WriteFile(filepath.Join(dir, "dist", "manifest.json")); err != nil {
		return testWS{}, err.Error()
	}
	ws := testWS{dir: dir, manifest: "dist/manifest.json"}
	for _, f := range []struct{ format, out string }{{sbom.CycloneDXJSON, "app.cdx.json"}, {"spdx-json", "app.spdx.json"}} {
		_, err := sbom.Generate(context.Background(), sbom.Options{Subject: "app", Format: f.format, Output: f.out,
			Manifest: ws.manifest, Dir: dir, Created: time.Unix(1700000000, 0)})
		if err != nil {
			return testWS{}, "sbom " + f.format + ": " + err.Error()
		}
	}
	return ws, ""
}

// nativeVulns are records about the packages the native SBOM lists: zlib
// (Debian's source package of zlib1g) affected below a version far above
// the installed one, glibc fixed at a version below the installed one (no
// match), and zlib1g with an unrated, unfixed advisory.
func nativeVulns() []scantest.Vuln {
	return []scantest.Vuln{
		{ID: "CVE-2099-0001", Severity: "medium", Provider: "debian", Ecosystem: "deb", Package: "zlib", Distro: "debian:12",
			VersionType: "dpkg", Constraint: "< 1:99.0-1", FixedIn: "1:99.0-1", Description: "zlib: a test advisory"},
		{ID: "CVE-2099-0002", Severity: "critical", Provider: "debian", Ecosystem: "deb", Package: "glibc", Distro: "debian:12",
			VersionType: "dpkg", Constraint: "< 2.0-1", FixedIn: "2.0-1", Description: "glibc: fixed long ago"},
		{ID: "CVE-2099-0003", Provider: "debian", Ecosystem: "deb", Package: "zlib1g", Distro: "debian:12",
			VersionType: "dpkg", Constraint: "< 1:99.0-1", Description: "zlib1g: not rated yet"},
	}
}

// openTestDB writes vulns into a fresh database and opens it.
func openTestDB(t testing.TB, o scantest.Options, vulns ...scantest.Vuln) *DB {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "db")
	scantest.WriteDB(t, dir, o, vulns...)
	db, err := OpenDB(DBOptions{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// testBuilt is the test databases' build time: an hour before the tests.
var testBuilt = time.Now().Add(-time.Hour).UTC().Truncate(time.Second)

// scantestOptions is a database built at testBuilt, imported from a URL.
func scantestOptions() scantest.Options {
	return scantest.Options{Built: testBuilt, Source: "https://example.test/databases/v6/vulnerability-db_v6.tar.zst"}
}
