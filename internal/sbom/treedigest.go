package sbom

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/dirhash"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/regfile"
)

// TreeDigest returns the digest of the directory tree at dir: the SHA-256 of
// the listing that this shell pipeline prints, with one "<sha256 hex>  <path>"
// line per regular file, sorted bytewise by slash-separated relative path:
//
//	cd DIR && find . -type f -printf '%P\n' | LC_ALL=C sort | xargs -r -d '\n' sha256sum | sha256sum
//
// It is Go's "h1:" directory hash (golang.org/x/mod/sumdb/dirhash) in hex.
// Symbolic links are not followed and not listed; empty directories, file
// modes and owners are not covered. Each file is read once, streaming; the
// memory used grows with the number of files, never with their size. It
// returns the number of files listed as well. A file whose name holds a line
// break cannot be listed and is an error.
func TreeDigest(ctx context.Context, dir string) (digest.SHA256, int, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return digest.SHA256{}, 0, fmt.Errorf("listing directory %q: %w", dir, err)
	}
	buf := make([]byte, 256<<10) // Hash1 reads the files one after another
	h1, err := dirhash.Hash1(files, func(name string) (io.ReadCloser, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f, err := regfile.Open(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return nil, err
		}
		return bufferedFile{f, buf}, nil
	})
	if err != nil {
		return digest.SHA256{}, 0, fmt.Errorf("hashing directory %q: %w", dir, err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h1, "h1:"))
	if err != nil || len(raw) != len(digest.SHA256{}) {
		return digest.SHA256{}, 0, fmt.Errorf("hashing directory %q: unexpected dirhash %q (internal error)", dir, h1)
	}
	var d digest.SHA256
	copy(d[:], raw)
	return d, len(files), nil
}

// bufferedFile makes io.Copy (inside dirhash) read with buf, one large
// buffer for the whole tree, instead of allocating 32 KiB per file.
type bufferedFile struct {
	f   *os.File
	buf []byte
}

func (b bufferedFile) Read(p []byte) (int, error) { return b.f.Read(p) }
func (b bufferedFile) Close() error               { return b.f.Close() }
func (b bufferedFile) WriteTo(w io.Writer) (int64, error) {
	return io.CopyBuffer(w, struct{ io.Reader }{b.f}, b.buf)
}
