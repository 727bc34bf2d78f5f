// Command scaninput writes the scan section's input for scripts/bench: an
// artifact, a CycloneDX SBOM of -components packages recorded in
// dist/manifest.json, and a grype v6 database under grype-db/6 (see
// scantest.WriteSynthetic). It prints how many findings a correct scan
// reports.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/slipway/actions/internal/scan/scantest"
)

func main() {
	dir := flag.String("dir", "", "the directory to write into (created)")
	n := flag.Int("components", 5000, "components in the SBOM")
	extra := flag.Int("extra", 20000, "advisories about packages the SBOM does not list")
	flag.Parse()
	if *dir == "" || *n <= 0 || *extra < 0 {
		fmt.Fprintln(os.Stderr, "usage: scaninput -dir DIR [-components N] [-extra N]")
		os.Exit(2)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "scaninput:", err)
		os.Exit(1)
	}
	s, err := scantest.WriteSynthetic(*dir, *n, *extra, time.Now().Add(-time.Hour))
	if err != nil {
		fmt.Fprintln(os.Stderr, "scaninput:", err)
		os.Exit(1)
	}
	fmt.Println(s.Matches)
}
