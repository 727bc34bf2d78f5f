// Package scantest writes grype schema v6 vulnerability databases from
// records a test states (through internal/scan/vulndb, grype's own v6
// writer), and benchmark workspaces: tests and benchmarks scan against data
// they made, never a download. It must never be imported by the slipway
// binary (only by tests and scripts/bench.d/scaninput).
package scantest

import (
	"testing"

	"github.com/slipway/actions/internal/scan/vulndb"
)

// Vuln is one advisory about one package.
type Vuln = vulndb.Vuln

// Options for WriteDB.
type Options = vulndb.Options

// WriteDB writes a database of vulns into dir (new or empty), ready for
// scan.OpenDB: vulnerability.db with indexes and import.json.
func WriteDB(t testing.TB, dir string, o Options, vulns ...Vuln) {
	t.Helper()
	if err := Write(dir, o, vulns...); err != nil {
		t.Fatal(err)
	}
}

// Write is WriteDB returning its error, for benchmarks' setup and tools.
func Write(dir string, o Options, vulns ...Vuln) error {
	return vulndb.Write(dir, o, vulns...)
}
