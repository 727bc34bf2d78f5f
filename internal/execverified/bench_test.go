package execverified

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/regfile"
)

// benchFile writes SLIPWAY_BENCH_SIZE random bytes (default 256 MiB) into a
// temporary file and returns its path and digest.
func benchFile(b *testing.B) (string, string) {
	b.Helper()
	size := int64(256 << 20)
	if v := os.Getenv("SLIPWAY_BENCH_SIZE"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			b.Fatalf("SLIPWAY_BENCH_SIZE=%q: give a size in bytes", v)
		}
		size = n
	}
	p := filepath.Join(b.TempDir(), "big.bin")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, size); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Chmod(p, 0o644); err != nil { // as staged: the in-place mode checks it
		b.Fatal(err)
	}
	b.SetBytes(size)
	return p, "sha256:" + digestHex(h.Sum(nil))
}

func digestHex(s []byte) string {
	var d digest.SHA256
	copy(d[:], s)
	return d.Hex()
}

// sha256Pass is the reference: one crypto/sha256 pass over the file with a
// 1 MiB buffer (scripts/bench.d/sha256pass).
func sha256Pass(b *testing.B, p string) time.Duration {
	start := time.Now()
	f, err := regfile.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	// struct{io.Reader}: os.File's WriteTo would copy through its own 32 KiB buffer.
	if _, err := io.CopyBuffer(sha256.New(), struct{ io.Reader }{f}, make([]byte, digest.BufferSize)); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkExecVerified measures Run up to the exec (which is a no-op here)
// against one sha256 pass of the same file, alternating, and reports the
// ratio of the totals (x-sha256: the bar is 1.15).
func BenchmarkExecVerified(b *testing.B) {
	p, d := benchFile(b)
	for _, mode := range []string{"in-place", "memory", "copy"} {
		b.Run(mode, func(b *testing.B) {
			var ours, ref time.Duration
			for i := 0; i < b.N; i++ {
				ref += sha256Pass(b, p)
				o := Options{File: p, Digest: d, Argv: []string{"true"}, Exec: closeCopy}
				switch mode {
				case "copy":
					o.Copy = filepath.Join(b.TempDir(), "job")
				case "in-place":
					o.InPlace = filepath.Join(b.TempDir(), "job")
				}
				start := time.Now()
				if err := Run(context.Background(), o); err != nil {
					b.Fatal(err)
				}
				ours += time.Since(start)
				os.RemoveAll(o.Copy + o.InPlace)
			}
			b.ReportMetric(float64(ours)/float64(ref), "x-sha256")
		})
	}
}

// closeCopy stands in for the exec: it closes the in-memory copy the command
// would have inherited (a process that execs gives it to the command, which
// frees it when it ends), so that iterations do not pile up copies.
func closeCopy(_ string, _, env []string) error {
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, EnvArtifact+"=/dev/fd/"); ok {
			if fd, err := strconv.Atoi(v); err == nil {
				return syscall.Close(fd)
			}
		}
	}
	return nil
}
