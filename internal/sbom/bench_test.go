package sbom

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Benchmark inputs can be replaced by larger ones: SLIPWAY_BENCH_FILE (a
// file, such as a big Go binary) and SLIPWAY_BENCH_DIR (a directory tree).
// By default they are a Go binary built here and the standard library's
// encoding tree.

func BenchmarkSBOMFile(b *testing.B) {
	subject := os.Getenv("SLIPWAY_BENCH_FILE")
	if subject == "" {
		subject = buildGoBinary(b, b.TempDir())
	}
	benchmarkSBOM(b, subject)
}

func BenchmarkSBOMDir(b *testing.B) {
	subject := os.Getenv("SLIPWAY_BENCH_DIR")
	if subject == "" {
		out, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			b.Skipf("go env GOROOT: %v", err)
		}
		subject = filepath.Join(strings.TrimSpace(string(out)), "src", "encoding")
	}
	benchmarkSBOM(b, subject)
}

func benchmarkSBOM(b *testing.B, subject string) {
	abs, err := filepath.Abs(subject)
	if err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(b.TempDir(), "sbom.cdx.json")
	b.ReportAllocs()
	b.ResetTimer()
	var packages int
	for b.Loop() {
		res, err := Generate(context.Background(), Options{Subject: abs, Output: out, Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		packages = res.Packages
	}
	b.ReportMetric(float64(packages), "packages")
}
