package scan

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/slipway/actions/internal/scan/scantest"
)

// BenchmarkScan5000 is the performance bar: a scan of an SBOM with
// 5,000 components (npm, Go and Debian packages) against a local database
// (500 of them affected, 20,000 advisories about other packages) in under
// 2 s, database opening (and its checksum) included. scripts/bench section
// scan times the whole command next to grype's own CLI on the same input.
func BenchmarkScan5000(b *testing.B) {
	dir := b.TempDir()
	s, err := scantest.WriteSynthetic(dir, 5000, 20000, time.Now().Add(-time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	cpu0 := cpuTime(b)
	for b.Loop() {
		db, err := OpenDB(DBOptions{Path: s.DBRoot})
		if err != nil {
			b.Fatal(err)
		}
		res, err := Run(context.Background(), Options{Dir: dir, Manifest: s.Manifest, DB: db})
		if err != nil {
			b.Fatal(err)
		}
		_ = db.Close()
		if len(res.Findings) != s.Matches {
			b.Fatalf("%d findings, want %d", len(res.Findings), s.Matches)
		}
	}
	// CPU time is the steadier figure on a shared machine.
	b.ReportMetric((cpuTime(b)-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
