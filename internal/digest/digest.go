package digest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/slipway/actions/internal/regfile"
)

// BufferSize is the read size used when hashing files. Large reads keep the
// number of system calls low; it is the only memory a digest needs.
const BufferSize = 1 << 20

// SHA256 is a SHA-256 digest.
type SHA256 [sha256.Size]byte

// Hex returns the digest as 64 lowercase hexadecimal characters.
func (d SHA256) Hex() string { return hex.EncodeToString(d[:]) }

// String returns the digest in OCI form, "sha256:<hex>".
func (d SHA256) String() string { return "sha256:" + d.Hex() }

// IsZero reports whether d is the zero value (no digest computed).
func (d SHA256) IsZero() bool { return d == SHA256{} }

// ParseHex parses 64 hexadecimal characters.
func ParseHex(s string) (SHA256, error) {
	var d SHA256
	if len(s) != 2*sha256.Size {
		return d, fmt.Errorf("sha256 digest %q has %d characters, want 64 hexadecimal characters", s, len(s))
	}
	if _, err := hex.Decode(d[:], []byte(strings.ToLower(s))); err != nil {
		return d, fmt.Errorf("sha256 digest %q is not hexadecimal: %w", s, err)
	}
	return d, nil
}

// Parse parses "sha256:<hex>".
func Parse(s string) (SHA256, error) {
	alg, h, ok := strings.Cut(s, ":")
	if !ok || alg != "sha256" {
		return SHA256{}, fmt.Errorf("digest %q is not of the form \"sha256:<64 hex characters>\"", s)
	}
	return ParseHex(h)
}

// Sum wraps a running hash so that it can be read as a SHA256 once done.
type Sum struct {
	h hash.Hash
	n int64
}

// New returns an empty running SHA-256.
func New() *Sum { return &Sum{h: sha256.New()} }

// Write adds p to the hash. It never fails.
func (s *Sum) Write(p []byte) (int, error) {
	s.n += int64(len(p))
	return s.h.Write(p)
}

// Size returns the number of bytes hashed so far.
func (s *Sum) Size() int64 { return s.n }

// Digest returns the digest of what was written so far.
func (s *Sum) Digest() SHA256 {
	var d SHA256
	s.h.Sum(d[:0])
	return d
}

// Reader hashes everything read through it.
type Reader struct {
	r   io.Reader
	sum *Sum
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader { return &Reader{r: r, sum: New()} }

func (r *Reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.sum.Write(p[:n])
	}
	return n, err
}

// Digest returns the digest of what was read so far.
func (r *Reader) Digest() SHA256 { return r.sum.Digest() }

// Size returns the number of bytes read so far.
func (r *Reader) Size() int64 { return r.sum.Size() }

// Copy copies src to dst, hashing the bytes on the way, and returns their
// digest and count. dst may be io.Discard.
func Copy(dst io.Writer, src io.Reader) (SHA256, int64, error) {
	s := New()
	buf := make([]byte, BufferSize)
	n, err := io.CopyBuffer(io.MultiWriter(dst, s), struct{ io.Reader }{src}, buf)
	return s.Digest(), n, err
}

// File returns the digest and size of the regular file at path, reading it
// once. A FIFO, device or directory is refused (a *regfile.NotRegularError)
// without blocking.
func File(path string) (SHA256, int64, error) { return FileContext(context.Background(), path) }

// FileContext is File that stops reading when ctx is done.
func FileContext(ctx context.Context, path string) (SHA256, int64, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return SHA256{}, 0, err
	}
	defer f.Close()
	s := New()
	buf := make([]byte, BufferSize)
	n, err := io.CopyBuffer(s, ContextReader(ctx, f), buf)
	if err != nil {
		return SHA256{}, 0, fmt.Errorf("reading %q: %w", path, err)
	}
	return s.Digest(), n, nil
}

// ContextReader returns a reader of r that fails with ctx's error once ctx
// is done: a long read stops at the next buffer.
func ContextReader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
