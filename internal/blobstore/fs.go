package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/regfile"
)

// tempPrefix starts the names of blobs being received; a crash can leave
// one behind, and FS.New removes them.
const tempPrefix = ".incoming-"

// ErrNoSpace is wrapped by Put's error when the filesystem is full (HTTP 507).
var ErrNoSpace = errors.New("no space left on the blob store's filesystem")

// FS is a Store on a local directory: ROOT/sha256/<hex>.
type FS struct {
	dir string // ROOT/sha256
}

var _ Store = (*FS)(nil)

// NewFS opens (creating it) the blob store under root and removes
// temporary files a crash left behind (no Put may be running in another
// process on the same root).
func NewFS(root string) (*FS, error) {
	dir := filepath.Join(root, "sha256")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the blob directory %q: %w; check that the data directory is writable", dir, err)
	}
	stale, err := filepath.Glob(filepath.Join(dir, tempPrefix+"*"))
	if err != nil {
		return nil, fmt.Errorf("listing %q: %w", dir, err)
	}
	for _, p := range stale {
		if err := os.Remove(p); err != nil {
			return nil, fmt.Errorf("removing the partial blob %q a crash left: %w; remove it by hand", p, err)
		}
	}
	return &FS{dir: dir}, nil
}

func (s *FS) path(d digest.SHA256) string { return filepath.Join(s.dir, d.Hex()) }

// Put implements Store.
func (s *FS) Put(ctx context.Context, r io.Reader, want digest.SHA256, limit int64) (b Blob, err error) {
	tmp, err := os.CreateTemp(s.dir, tempPrefix+"*")
	if err != nil {
		return Blob{}, s.fail("creating a temporary file", err)
	}
	name := tmp.Name()
	defer func() {
		if tmp != nil {
			tmp.Close()
		}
		if err != nil {
			os.Remove(name)
		}
	}()
	got, n, err := Receive(ctx, tmp, r, want, limit)
	switch {
	case err == nil:
	case ctx.Err() != nil, errors.As(err, new(*TooLargeError)), errors.As(err, new(*MismatchError)):
		return Blob{}, err
	default:
		return Blob{}, s.fail("receiving a blob", err)
	}
	if err := tmp.Chmod(0o444); err != nil {
		return Blob{}, s.fail("making the blob read-only", err)
	}
	if err := tmp.Sync(); err != nil {
		return Blob{}, s.fail("syncing the blob", err)
	}
	if err := tmp.Close(); err != nil {
		return Blob{}, s.fail("closing the blob", err)
	}
	final := s.path(got)
	// A hard link never replaces: a blob already stored stays as it is.
	tmp = nil
	switch err := os.Link(name, final); {
	case errors.Is(err, fs.ErrExist):
		os.Remove(name)
		return Blob{Digest: got, Size: n, Existed: true}, nil
	case err != nil:
		return Blob{}, s.fail("storing the blob", err)
	}
	os.Remove(name)
	if err := syncDir(s.dir); err != nil {
		return Blob{}, s.fail("syncing the blob directory", err)
	}
	return Blob{Digest: got, Size: n}, nil
}

// fail wraps err with op, naming a full disk as such.
func (s *FS) fail(op string, err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%s in %q: %w (%v); free space there or move --data to a larger filesystem, then send it again", op, s.dir, ErrNoSpace, err)
	}
	return fmt.Errorf("%s in %q: %w", op, s.dir, err)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Open implements Store.
func (s *FS) Open(ctx context.Context, d digest.SHA256) (Reader, error) {
	f, err := regfile.Open(s.path(d))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %q: %w", d, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("opening blob %q: %w", d, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("opening blob %q: %w", d, err)
	}
	return &file{File: f, size: fi.Size()}, nil
}

// Stat implements Store.
func (s *FS) Stat(ctx context.Context, d digest.SHA256) (Blob, error) {
	fi, err := os.Lstat(s.path(d))
	if errors.Is(err, fs.ErrNotExist) {
		return Blob{}, fmt.Errorf("blob %q: %w", d, ErrNotFound)
	}
	if err != nil {
		return Blob{}, fmt.Errorf("reading blob %q: %w", d, err)
	}
	if !fi.Mode().IsRegular() {
		return Blob{}, fmt.Errorf("blob %q is a %s, not a regular file; remove it from %q", d, regfile.Kind(fi.Mode()), s.dir)
	}
	return Blob{Digest: d, Size: fi.Size(), Existed: true}, nil
}

type file struct {
	*os.File
	size int64
}

func (f *file) Size() int64 { return f.size }
