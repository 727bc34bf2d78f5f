package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/slipway/actions/internal/digest"
)

// Adopter is a Store that can take in a complete file its caller received
// and hashed, without copying and hashing it a second time.
type Adopter interface {
	// Adopt makes the file at path the blob d of size bytes: the caller
	// computed d while it wrote the file and has closed it. The file is
	// made read-only and synced; afterwards the caller removes path (the
	// blob keeps its own link). Adopting content already stored succeeds
	// (Blob.Existed).
	Adopt(ctx context.Context, path string, d digest.SHA256, size int64) (Blob, error)
}

var _ Adopter = (*FS)(nil)

// Adopt implements Adopter with a hard link into the blob directory; when
// path is on another filesystem it falls back to Put, which copies and
// checks the digest again.
func (s *FS) Adopt(ctx context.Context, path string, d digest.SHA256, size int64) (Blob, error) {
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return Blob{}, fmt.Errorf("adopting %q as blob %q: %w", path, d, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != size {
		return Blob{}, fmt.Errorf("adopting %q as blob %q: not a regular file of %d bytes (%v); upload the blob again", path, d, size, err)
	}
	if err := f.Chmod(0o444); err != nil {
		return Blob{}, s.fail("making the blob read-only", err)
	}
	if err := f.Sync(); err != nil {
		return Blob{}, s.fail("syncing the blob", err)
	}
	switch err := os.Link(path, s.path(d)); {
	case errors.Is(err, fs.ErrExist):
		return Blob{Digest: d, Size: size, Existed: true}, nil
	case errors.Is(err, syscall.EXDEV):
		return s.Put(ctx, f, d, 0)
	case err != nil:
		return Blob{}, s.fail("storing the blob", err)
	}
	if err := syncDir(s.dir); err != nil {
		return Blob{}, s.fail("syncing the blob directory", err)
	}
	return Blob{Digest: d, Size: size}, nil
}

// Linker is a Store that can give a stored blob a second name on the same
// filesystem, for admission's staging directory.
type Linker interface {
	// LinkTo makes dst (which must not exist) a hard link to blob d;
	// ErrNotFound when there is no such blob.
	LinkTo(ctx context.Context, d digest.SHA256, dst string) error
}

var _ Linker = (*FS)(nil)

// LinkTo implements Linker.
func (s *FS) LinkTo(ctx context.Context, d digest.SHA256, dst string) error {
	err := os.Link(s.path(d), dst)
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Lstat(s.path(d)); errors.Is(serr, fs.ErrNotExist) {
			return fmt.Errorf("blob %q: %w", d, ErrNotFound)
		}
	}
	if err != nil {
		return fmt.Errorf("linking blob %q to %q: %w", d, dst, err)
	}
	return nil
}
