package server_test

import (
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/token"
	"github.com/slipway/actions/internal/upload"
)

// BenchmarkUpload uploads one file of SLIPWAY_BENCH_SIZE bytes (default
// 256 MiB) with slipway upload's client (internal/upload.SendBlobs: 64 MiB
// chunks) into a fresh in-process server on loopback per iteration, end
// to end: the client reads and sends, the server hashes, writes and
// fsyncs before it answers the last request. It reports MB/s and the
// ratio to one crypto/sha256 pass over the same file in the same run
// (scripts/bench's upload section measures a real slipway serve).
func BenchmarkUpload(b *testing.B) {
	size := int64(256 << 20)
	if v := os.Getenv("SLIPWAY_BENCH_SIZE"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			b.Fatalf("SLIPWAY_BENCH_SIZE=%q: give a size in bytes", v)
		}
		size = n
	}
	dir := b.TempDir()
	path := filepath.Join(dir, "big.bin")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	d, _, err := digest.File(path) // also warms the page cache for the uploads
	if err != nil {
		b.Fatal(err)
	}
	pass := time.Since(t0)
	m := artifact.NewManifest()
	m.Add(artifact.Record{Name: "big.bin", Path: "big.bin", Digest: d, Size: size, MediaType: "application/octet-stream", Role: artifact.RoleArtifact})
	if err := m.WriteFile(filepath.Join(dir, "manifest.json")); err != nil {
		b.Fatal(err)
	}
	s := newSigner(b)
	pol := s.writePolicy(b, b.TempDir(), "")
	var elapsed time.Duration
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		site := startSite(b, pol)
		tok := site.token(b, "bench", token.Upload)
		b.StartTimer()
		t0 := time.Now()
		blobs, err := upload.SendBlobs(context.Background(), upload.Options{Server: site.url, Manifest: "manifest.json", Dir: dir,
			Token: func(context.Context) (string, error) { return tok, nil }})
		elapsed += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if len(blobs) != 1 || blobs[0].Transfer != upload.Uploaded {
			b.Fatalf("uploaded %+v, want the one file sent", blobs)
		}
	}
	b.StopTimer()
	per := elapsed / time.Duration(b.N)
	b.ReportMetric(float64(size)/per.Seconds()/1e6, "upload-MB/s")
	b.ReportMetric(float64(size)/pass.Seconds()/1e6, "sha256-MB/s")
	b.ReportMetric(pass.Seconds()/per.Seconds(), "x-sha256-throughput")
}
