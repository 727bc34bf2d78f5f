package push

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/digestcache"
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

// benchFile writes size bytes (no two MiB alike) to dir/dist/big.bin and
// its build manifest, and returns the file's path.
func benchFile(b *testing.B, dir string, size int64) string {
	b.Helper()
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
		chunk[0]++
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
	return path
}

// benchSHA256 is the reference: one plain SHA-256 pass over the file.
func benchSHA256(b *testing.B, path string, size int64) {
	b.SetBytes(size)
	for b.Loop() {
		if _, _, err := digest.File(path); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(1, "reads/byte")
}

// BenchmarkRePush pushes a large file that the registry already has again,
// each iteration under a new tag (so that the tag is really set), named
// every way a user can: as subject with the digest cache, as subject
// without it (one hashing pass), through the build manifest; and into a new
// repository with mount-from (a cross-repository mount). "sha256" is one
// plain SHA-256 pass over the same file, the reference; "reads/byte" is how
// often the push read the file.
//
//	go test ./internal/push -run '^$' -bench RePush -benchtime 3x
func BenchmarkRePush(b *testing.B) {
	size := benchSize(b)
	addr := startRegistry(b)
	dir := b.TempDir()
	path := benchFile(b, dir, size)
	cache := digestcache.New(filepath.Join(b.TempDir(), "cache"))
	time.Sleep(digestcache.RacyWindow + 100*time.Millisecond) // settled file times: cacheable
	repo := addr + "/bench/repush"
	first := opts(b, dir, repo+":first", "dist/big.bin")
	first.DigestCache, first.Log = cache, nil
	if _, err := Push(context.Background(), first); err != nil {
		b.Fatal(err)
	}
	b.Run("sha256", func(b *testing.B) { benchSHA256(b, path, size) })
	run := func(b *testing.B, setup func(o *Options)) {
		b.SetBytes(size)
		var read int64
		var n int
		for b.Loop() {
			n++
			o := opts(b, dir, fmt.Sprintf("%s:t%d", repo, benchRepo.Add(1)), "dist/big.bin")
			o.Log = nil
			setup(&o)
			res, err := Push(context.Background(), o)
			if err != nil {
				b.Fatal(err)
			}
			for _, bl := range res.Blobs {
				if bl.Transfer == Uploaded && bl.Size == size {
					b.Fatalf("the re-push uploaded the file (%s)", o.Ref)
				}
			}
			for _, f := range res.Files {
				read += f.BytesRead
			}
		}
		b.ReportMetric(float64(read)/float64(int64(n)*size), "reads/byte")
	}
	b.Run("subject-digest-cache", func(b *testing.B) { run(b, func(o *Options) { o.DigestCache = cache }) })
	b.Run("subject-no-cache", func(b *testing.B) { run(b, func(o *Options) {}) })
	b.Run("manifest", func(b *testing.B) {
		run(b, func(o *Options) { o.Subject, o.Manifest = Subject{}, "dist/manifest.json" })
	})
	b.Run("mount-from-new-repository", func(b *testing.B) {
		run(b, func(o *Options) {
			o.Ref = fmt.Sprintf("%s/bench/mounted-%d:v1", addr, benchRepo.Add(1))
			o.DigestCache, o.MountFrom = cache, []string{repo}
		})
	})
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
	path := benchFile(b, dir, size)
	// Each push adds its record to the manifest, and a later one would mount
	// the blob from there: every iteration starts from the build's manifest.
	manPath := filepath.Join(dir, "dist", "manifest.json")
	built, err := os.ReadFile(manPath)
	if err != nil {
		b.Fatal(err)
	}

	b.Run("sha256", func(b *testing.B) { benchSHA256(b, path, size) })
	run := func(b *testing.B, manifest string) {
		b.SetBytes(size)
		var read, n int64
		for b.Loop() {
			n++
			o := opts(b, dir, fmt.Sprintf("%s/bench/push-%d:v1", addr, benchRepo.Add(1)), "dist/big.bin")
			o.Log = nil
			o.Manifest = manifest
			if err := os.WriteFile(manPath, built, 0o644); err != nil {
				b.Fatal(err)
			}
			res, err := Push(context.Background(), o)
			if err != nil {
				b.Fatal(err)
			}
			read += res.Files[0].BytesRead
		}
		b.ReportMetric(float64(read)/float64(n*size), "reads/byte")
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
