package sign

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/signing"
	"github.com/slipway/actions/internal/testutil/gpgtest"
	"github.com/slipway/actions/internal/testutil/sigstoretest"
)

// The sign stage's bar: signing a large artifact (digest + signature +
// bundle write) within 1.15x of one crypto/sha256 pass over it. Compare
//
//	SLIPWAY_BENCH_BYTES=2147483648 go test ./internal/sign -run '^$' -bench . -benchtime 3x
//
// BenchmarkSHA256Pass with BenchmarkSignFile (MB/s). The default size,
// 256 MiB, keeps a plain "go test -bench ." quick.
func benchFile(b *testing.B) (string, int64) {
	b.Helper()
	size := int64(256 << 20)
	if v := os.Getenv("SLIPWAY_BENCH_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			b.Fatalf("SLIPWAY_BENCH_BYTES=%q is not a positive number of bytes", v)
		}
		size = n
	}
	dir := b.TempDir()
	path := filepath.Join(dir, "artifact.bin")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	block := make([]byte, 1<<20)
	if _, err := rand.Read(block); err != nil {
		b.Fatal(err)
	}
	for written := int64(0); written < size; {
		n := min(int64(len(block)), size-written)
		if _, err := f.Write(block[:n]); err != nil {
			b.Fatal(err)
		}
		written += n
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path, size
}

// BenchmarkSHA256Pass is the baseline: one crypto/sha256 pass, 1 MiB reads.
func BenchmarkSHA256Pass(b *testing.B) {
	path, size := benchFile(b)
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.CopyBuffer(h, struct{ io.Reader }{f}, make([]byte, digest.BufferSize)); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// BenchmarkSignFile is the whole stage on one file with a cosign key and no
// transparency log: load the key, digest the file, sign, write the bundle.
func BenchmarkSignFile(b *testing.B) {
	path, size := benchFile(b)
	key := sigstoretest.NewCosignKey(b, "bench")
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Run(context.Background(), Options{Subject: path, Sigstore: signing.Config{Key: key.PrivatePath, Password: "bench"}, Dir: filepath.Dir(path)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignFileWithGPG adds a GPG signature from the same pass.
func BenchmarkSignFileWithGPG(b *testing.B) {
	path, size := benchFile(b)
	key := sigstoretest.NewCosignKey(b, "bench")
	gkey := gpgtest.NewKey(b, "ed25519", "")
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Run(context.Background(), Options{Subject: path, Sigstore: signing.Config{Key: key.PrivatePath, Password: "bench"}, GPGKey: string(gkey.Armored), Dir: filepath.Dir(path)}); err != nil {
			b.Fatal(err)
		}
	}
}
