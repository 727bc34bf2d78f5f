package scan

import (
	"context"
	"reflect"
	"testing"

	"github.com/anchore/grype/grype/distro"
	"github.com/anchore/grype/grype/search"
	"github.com/anchore/grype/grype/vulnerability"
	syftpkg "github.com/anchore/syft/syft/pkg"

	"github.com/slipway/actions/internal/scan/scantest"
)

// grypeOnly is db with grype's own provider, without the name shortcut.
func grypeOnly(t testing.TB, db *DB) *DB {
	t.Helper()
	k, ok := db.provider.(*knownNames)
	if !ok {
		t.Fatalf("OpenDB's provider is %T, not the name shortcut", db.provider)
	}
	return &DB{Info: db.Info, provider: k.Provider}
}

// TestKnownNamesSameFindings: a scan through the name shortcut finds exactly
// what grype's provider alone finds (every field of every finding), on the
// native SBOMs (Debian packages matched by binary and by source package
// name, a fix below the installed version) and on a synthetic SBOM of npm,
// Go and Debian packages, most of them without any record.
func TestKnownNamesSameFindings(t *testing.T) {
	t.Parallel()
	synthetic := func(t *testing.T) (string, string, *DB) {
		dir := t.TempDir()
		s, err := scantest.WriteSynthetic(dir, 600, 50, testBuilt)
		if err != nil {
			t.Fatal(err)
		}
		db, err := OpenDB(DBOptions{Path: s.DBRoot})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return dir, s.Manifest, db
	}
	native := func(t *testing.T) (string, string, *DB) {
		ws := nativeWorkspace(t)
		return ws.dir, ws.manifest, openTestDB(t, scantestOptions(), nativeVulns()...)
	}
	for _, tc := range []struct {
		name string
		open func(*testing.T) (dir, manifest string, db *DB)
	}{{"native", native}, {"synthetic", synthetic}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, manifest, db := tc.open(t)
			ours, err := Run(context.Background(), Options{Dir: dir, Manifest: manifest, DB: db})
			if err != nil {
				t.Fatal(err)
			}
			theirs, err := Run(context.Background(), Options{Dir: dir, Manifest: manifest, DB: grypeOnly(t, db)})
			if err != nil {
				t.Fatal(err)
			}
			if len(ours.Findings) == 0 || !reflect.DeepEqual(ours.Findings, theirs.Findings) || !reflect.DeepEqual(ours.SBOMs, theirs.SBOMs) {
				t.Errorf("with the shortcut:\n%+v\n%+v\ngrype's provider alone:\n%+v\n%+v", ours.SBOMs, ours.Findings, theirs.SBOMs, theirs.Findings)
			}
		})
	}
}

// TestKnownNamesSearches: each search answers what grype's provider
// answers, and only searches for a name no record has skip the database:
// names compare case-insensitively (COLLATE NOCASE), a distribution the
// database lacks, alternatives (OR), a CPE search and an ID search.
func TestKnownNamesSearches(t *testing.T) {
	t.Parallel()
	db := openTestDB(t, scantestOptions(), nativeVulns()...)
	k := db.provider.(*knownNames)
	bookworm := *distro.New(distro.Debian, "12", "")
	trixie := *distro.New(distro.Debian, "13", "")
	deb := search.ByEcosystem("", syftpkg.DebPkg)
	for _, tc := range []struct {
		name     string
		criteria []vulnerability.Criteria
		ids      []string
		skipped  bool
	}{
		{"known name", []vulnerability.Criteria{search.ByPackageName("zlib"), deb, search.ByDistro(bookworm)}, []string{"CVE-2099-0001"}, false},
		{"known name, other case", []vulnerability.Criteria{search.ByPackageName("ZLIB1G"), deb, search.ByDistro(bookworm)}, []string{"CVE-2099-0003"}, false},
		{"unknown name", []vulnerability.Criteria{search.ByPackageName("libfoo"), deb, search.ByDistro(bookworm)}, nil, true},
		{"unknown name, no distribution", []vulnerability.Criteria{search.ByPackageName("left-pad"), search.ByEcosystem("", syftpkg.NpmPkg)}, nil, true},
		{"unknown name, distribution not in the database", []vulnerability.Criteria{search.ByPackageName("libfoo"), deb, search.ByDistro(trixie)}, nil, true},
		{"unaffected, unknown name", []vulnerability.Criteria{search.ByPackageName("libfoo"), deb, search.ByDistro(bookworm), search.ForUnaffected()}, nil, true},
		{"one alternative known", []vulnerability.Criteria{search.Or(search.ByPackageName("libfoo"), search.ByPackageName("zlib")), deb, search.ByDistro(bookworm)}, []string{"CVE-2099-0001"}, false},
		{"ID search", []vulnerability.Criteria{search.ByID("CVE-2099-0002"), search.ByDistro(bookworm)}, []string{"CVE-2099-0002"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, werr := k.Provider.FindVulnerabilities(tc.criteria...)
			got, gerr := k.FindVulnerabilities(tc.criteria...)
			if (werr == nil) != (gerr == nil) || !reflect.DeepEqual(got, want) {
				t.Fatalf("got %v (%v), grype's provider %v (%v)", got, gerr, want, werr)
			}
			var ids []string
			for _, v := range got {
				ids = append(ids, v.ID)
			}
			if !reflect.DeepEqual(ids, tc.ids) {
				t.Errorf("found %v, want %v", ids, tc.ids)
			}
			if skipped := k.emptyAll(tc.criteria); skipped != tc.skipped {
				t.Errorf("answered without a query: %t, want %t", skipped, tc.skipped)
			}
		})
	}
	if _, err := k.FindVulnerabilities(search.ByPackageName("a"), search.ByPackageName("b")); err == nil {
		t.Error("conflicting criteria accepted; grype refuses them")
	}
}
