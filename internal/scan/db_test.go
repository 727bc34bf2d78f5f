package scan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v6 "github.com/anchore/grype/grype/db/v6"
	"github.com/spf13/afero"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/scan/scantest"
)

// TestOpenDB: a database directory, grype's cache root and the
// vulnerability.db file open, with the build time, schema and source
// recorded; a missing, unimported, changed, non-SQLite or stale database is a
// usage error naming the file and how to import one.
func TestOpenDB(t *testing.T) {
	t.Parallel()
	root := filepath.Join(t.TempDir(), "grype")
	good := filepath.Join(root, "6")
	scantest.WriteDB(t, good, scantestOptions(), nativeVulns()[0])
	broken := func(name string, change func(dir string)) string {
		dir := filepath.Join(t.TempDir(), name)
		if err := os.CopyFS(dir, os.DirFS(good)); err != nil {
			t.Fatal(err)
		}
		change(dir)
		return dir
	}
	unimported := broken("unimported", func(d string) { must(t, os.Remove(filepath.Join(d, "import.json"))) })
	changed := broken("changed", func(d string) {
		must(t, os.Truncate(filepath.Join(d, "vulnerability.db"), 4096))
	})
	notSQLite := broken("not-sqlite", func(d string) {
		must(t, os.WriteFile(filepath.Join(d, "vulnerability.db"), []byte("not a database"), 0o644))
		must(t, os.Remove(filepath.Join(d, "import.json")))
		if _, err := v6.WriteImportMetadata(afero.NewOsFs(), d, ""); err != nil {
			t.Fatal(err)
		}
	})
	for _, tc := range []struct {
		name, path string
		maxAge     time.Duration
		want       string // empty: opens
	}{
		{"directory", good, 0, ""},
		{"cache root", root, 0, ""},
		{"file", filepath.Join(good, "vulnerability.db"), 0, ""},
		{"any age", good, -1, ""},
		{"missing", filepath.Join(root, "nope"), 0, "does not exist"},
		{"empty directory", t.TempDir(), 0, "no vulnerability.db in it"},
		{"no import.json", unimported, 0, "import.json"},
		{"changed", changed, 0, "is corrupt or was changed after it was imported"},
		{"not sqlite", notSQLite, 0, "is not a grype schema v6 database"},
		{"stale", good, 30 * time.Minute, "older than the 30m0s allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db, err := OpenDB(DBOptions{Path: tc.path, MaxAge: tc.maxAge})
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if !db.Info.Built.Equal(testBuilt) || !strings.HasPrefix(db.Info.SchemaVersion, "v6.") ||
					db.Info.URI() != scantestOptions().Source || !strings.HasPrefix(db.Info.Digest, "xxh64:") {
					t.Errorf("info %+v (uri %s)", db.Info, db.Info.URI())
				}
				return
			}
			if err == nil {
				db.Close()
				t.Fatalf("opened; want an error saying %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "grype db import") ||
				exitcode.Of(err) != exitcode.Usage || exitcode.FileOf(err) == "" {
				t.Errorf("error %q (exit %v, file %q), want a usage error naming the file, saying %q and how to import", err, exitcode.Of(err), exitcode.FileOf(err), tc.want)
			}
		})
	}
}

// TestDBInfoURI: the statement names a database imported from a URL by
// that URL, and one imported from a local file by its checksum.
func TestDBInfoURI(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ source, want string }{
		{"https://grype.anchore.io/databases/v6/x.tar.zst", "https://grype.anchore.io/databases/v6/x.tar.zst"},
		{"/mirror/x.tar.zst", "pkg:generic/grype-db@xxh64:00ff"},
		{"manual import", "pkg:generic/grype-db@xxh64:00ff"},
		{"", "pkg:generic/grype-db@xxh64:00ff"},
		{"c:/x", "pkg:generic/grype-db@xxh64:00ff"},
	} {
		if got := (DBInfo{Source: tc.source, Digest: "xxh64:00ff"}).URI(); got != tc.want {
			t.Errorf("source %q: uri %q, want %q", tc.source, got, tc.want)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
