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
// crypto/sha256 pass over the same file, and with a whole build of it.
// Compare the MB/s columns: build/pass should be within a few percent of
// sha256.
func BenchmarkDigest(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "dist", "big.bin")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	writeRandom(b, path, benchSize)

	b.Run("sha256", func(b *testing.B) {
		b.SetBytes(benchSize)
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
		it := []item{{file: fileset.File{Name: "dist/big.bin", Open: "dist/big.bin"}, artifact: true}}
		b.SetBytes(benchSize)
		for b.Loop() {
			if _, err := r.pass(context.Background(), it, sinks{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("build-run", func(b *testing.B) {
		o := options(dir, "dist/big.bin")
		b.SetBytes(benchSize)
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
