package sbom

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/digest"
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

// BenchmarkSBOMRecordedFile compares, on one file (SLIPWAY_BENCH_FILE, or
// 64 MiB of random bytes), a SHA-256 pass over it with the SBOM of it made
// with its digest recorded in a manifest (the target: at most 0.3 of the
// pass) and without (syft digests it).
func BenchmarkSBOMRecordedFile(b *testing.B) {
	ws := b.TempDir()
	name := "dist/big.bin"
	path := filepath.Join(ws, name)
	if src := os.Getenv("SLIPWAY_BENCH_FILE"); src != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		abs, err := filepath.Abs(src)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.Symlink(abs, path); err != nil {
			b.Fatal(err)
		}
	} else {
		writeRandomFile(b, path, 64<<20)
	}
	manifest := writeManifest(b, ws, name)
	b.Run("sha256pass", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := digest.File(path); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, mf := range []string{manifest, ""} {
		label := map[string]string{manifest: "recorded", "": "digested"}[mf]
		b.Run(label, func(b *testing.B) {
			out := filepath.Join(ws, label+".cdx.json")
			for b.Loop() {
				res, err := Generate(context.Background(), Options{Subject: name, Output: out, Manifest: mf, Dir: ws})
				if err != nil {
					b.Fatal(err)
				}
				if res.RecordedDigest != (mf != "") {
					b.Fatalf("RecordedDigest = %v", res.RecordedDigest)
				}
			}
		})
	}
}

func writeRandomFile(b *testing.B, path string, size int64) {
	b.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.NewChaCha8([32]byte{1}), size); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}
