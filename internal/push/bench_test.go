package push

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/mediatype"
)

// benchRepo numbers the benchmark's repositories: each push goes to a new
// one, so every iteration uploads (a benchmark function may run more than
// once against the same registry).
var benchRepo atomic.Int64

// benchSize is the file pushed by the benchmarks; SLIPWAY_BENCH_MIB changes it.
func benchSize(b *testing.B) int64 {
	if s := os.Getenv("SLIPWAY_BENCH_MIB"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("SLIPWAY_BENCH_MIB=%q: %v", s, err)
		}
		return int64(n) << 20
	}
	return 256 << 20
}

// BenchmarkPush pushes one large file to a real registry on loopback, each
// iteration to a new repository (so the blob is really uploaded), and
// compares with a plain SHA-256 pass over the same file. "reads/byte" is
// how many times the file was read.
//
//	go test ./internal/push -run '^$' -bench Push -benchtime 3x
func BenchmarkPush(b *testing.B) {
	size := benchSize(b)
	addr := startRegistry(b)
	dir := b.TempDir()
	path := filepath.Join(dir, "dist", "big.bin")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	chunk := randomBytes(b, 1<<20)
	for written := int64(0); written < size; written += int64(len(chunk)) {
		chunk[0]++ // no two MiB alike
		if _, err := f.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	d, n, err := digest.File(path)
	if err != nil {
		b.Fatal(err)
	}
	m := artifact.NewManifest()
	m.Add(artifact.Record{Name: "dist/big.bin", Path: "dist/big.bin", Digest: d, Size: n, MediaType: mediatype.OctetStream, Role: artifact.RoleArtifact})
	if err := m.WriteFile(filepath.Join(dir, "dist", "manifest.json")); err != nil {
		b.Fatal(err)
	}

	b.Run("sha256", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if _, _, err := digest.File(path); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(1, "reads/byte")
	})
	run := func(b *testing.B, manifest string) {
		b.SetBytes(size)
		for b.Loop() {
			o := opts(b, dir, fmt.Sprintf("%s/bench/push-%d:v1", addr, benchRepo.Add(1)), "dist/big.bin")
			o.Log = nil
			o.Manifest = manifest
			if _, err := Push(context.Background(), o); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(1, "reads/byte") // asserted by TestFileLayerReadsOnce
	}
	b.Run("push-digest-unknown", func(b *testing.B) { run(b, "") })
	b.Run("push-digest-from-manifest", func(b *testing.B) { run(b, "dist/manifest.json") })
	b.Run("ggcr-tarball-layer", func(b *testing.B) {
		b.SetBytes(size)
		var read, n int64
		for b.Loop() {
			n++
			c := &countingOpener{path: path}
			l, err := tarball.LayerFromOpener(c.open, tarball.WithMediaType(types.OCILayer))
			if err != nil {
				b.Fatal(err)
			}
			if err := testPusher(b).Upload(context.Background(), testRepo(b, fmt.Sprintf("%s/bench/tarball-%d", addr, benchRepo.Add(1))), l); err != nil {
				b.Fatal(err)
			}
			read += c.bytes.Load()
		}
		b.ReportMetric(float64(read)/float64(n*size), "reads/byte")
	})
}
