package vulndb_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/scan"
	"github.com/slipway/actions/internal/scan/vulndb"
)

// TestWrite: a database written from stated records opens with scan.OpenDB
// (checksum, schema, build time and source as given); a directory that
// holds anything is refused and left as it was; a record that cannot be
// written leaves no directory and no temporary one behind.
func TestWrite(t *testing.T) {
	t.Parallel()
	built := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	root := t.TempDir()
	dir := filepath.Join(root, "db")
	v := vulndb.Vuln{ID: "CVE-2099-0001", Severity: "low", Provider: "github", Ecosystem: "go-module", Package: "example.com/m",
		VersionType: "go", Constraint: "< 1.2.0", FixedIn: "1.2.0"}
	if err := vulndb.Write(dir, vulndb.Options{Built: built, Source: "a test"}, v); err != nil {
		t.Fatal(err)
	}
	db, err := scan.OpenDB(scan.DBOptions{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if !db.Info.Built.Equal(built) || db.Info.Source != "a test" || !strings.HasPrefix(db.Info.SchemaVersion, "v6.") {
		t.Errorf("database info %+v, want built %s from \"a test\", schema v6", db.Info, built)
	}

	err = vulndb.Write(dir, vulndb.Options{}, v)
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("writing into a database directory: %v, want a not-empty error", err)
	}
	if _, err := scan.OpenDB(scan.DBOptions{Path: dir}); err != nil {
		t.Errorf("the refused write changed the database: %v", err)
	}

	bad := filepath.Join(root, "bad")
	err = vulndb.Write(bad, vulndb.Options{}, v, vulndb.Vuln{ID: "CVE-2099-0002", Ecosystem: "deb", Package: "zlib", Distro: "debian12"})
	if err == nil || !strings.Contains(err.Error(), `distro "debian12" is not NAME:MAJOR`) {
		t.Errorf("a bad record: %v, want the distro named", err)
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 {
		t.Errorf("after the failed write %s holds %d entries, want only db/", root, len(entries))
	}
}
