package build

import (
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/slipway/actions/internal/fileset"
)

// benchSize is the artifact size of BenchmarkDigest; the bar is
// measured on 2 GiB by the bench script, this is the same path, smaller.
const benchSize = 256 << 20

// BenchmarkDigest compares the build's digest path (open through os.Root,
// SHA-256, media type sniffing from the same read) with one plain
// crypto/sha256 pass over the same file, and with a whole build of it (no
// command, no toolchain probes). Compare the MB/s columns.
//
// SLIPWAY_BENCH_FILE=/path/to/big.file digests that file instead of a
// generated 256 MiB one; the whole build then writes its outputs in a
// temporary directory next to the file, removed afterwards.
func BenchmarkDigest(b *testing.B) {
	dir, name := b.TempDir(), "dist/big.bin"
	size := int64(benchSize)
	if f := os.Getenv("SLIPWAY_BENCH_FILE"); f != "" {
		abs, err := filepath.Abs(f)
		if err != nil {
			b.Fatal(err)
		}
		fi, err := os.Stat(abs)
		if err != nil {
			b.Fatal(err)
		}
		dir, name, size = filepath.Dir(abs), filepath.Base(abs), fi.Size()
	} else {
		if err := os.MkdirAll(filepath.Join(dir, "dist"), 0o755); err != nil {
			b.Fatal(err)
		}
		writeRandom(b, filepath.Join(dir, name), benchSize)
	}
	path := filepath.Join(dir, filepath.FromSlash(name))

	b.Run("sha256", func(b *testing.B) {
		b.SetBytes(size)
		buf := make([]byte, 1<<20)
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			h := sha256.New()
			if _, err := io.CopyBuffer(h, f, buf); err != nil {
				b.Fatal(err)
			}
			h.Sum(nil)
			f.Close()
		}
	})
	b.Run("build-pass", func(b *testing.B) {
		root, err := os.OpenRoot(dir)
		if err != nil {
			b.Fatal(err)
		}
		defer root.Close()
		r := newReader(root)
		it := []item{{file: fileset.File{Name: name, Open: name}, artifact: true}}
		b.SetBytes(size)
		for b.Loop() {
			if _, err := r.pass(context.Background(), it, sinks{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("build-run", func(b *testing.B) {
		out, err := os.MkdirTemp(dir, ".slipway-bench-")
		if err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(out)
		o := options(dir, fileset.EscapeMeta(name))
		o.OutputDir = out
		b.SetBytes(size)
		for b.Loop() {
			if _, err := Run(context.Background(), o); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func writeRandom(b *testing.B, path string, size int) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rng := rand.NewChaCha8([32]byte{1})
	if _, err := io.CopyN(f, rng, int64(size)); err != nil {
		b.Fatal(err)
	}
}
