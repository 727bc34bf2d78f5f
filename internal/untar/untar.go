package untar

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/regfile"
)

// Defaults for Options' limits.
const (
	DefaultMaxBytes   int64 = 64 << 30
	DefaultMaxEntries       = 1_000_000
	// MaxNameBytes bounds an entry's name and a link's target.
	MaxNameBytes = 4096
)

// OCI whiteout names (image-spec layer.md).
const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// Options are the limits and the semantics of one extraction.
type Options struct {
	// MaxBytes bounds the total size of the regular files (0: DefaultMaxBytes);
	// MaxEntries the number of entries (0: DefaultMaxEntries).
	MaxBytes   int64
	MaxEntries int
	// Layer selects OCI layer semantics: whiteout entries remove what lower
	// layers unpacked, an entry replaces an existing one, and absolute
	// symbolic link targets are kept.
	Layer bool
}

// Stats is what an extraction unpacked.
type Stats struct {
	Entries int
	Bytes   int64
}

// EntryError is a refused or failed entry.
type EntryError struct {
	Name string
	Err  error
}

func (e *EntryError) Error() string { return fmt.Sprintf("tar entry %q: %v", e.Name, e.Err) }
func (e *EntryError) Unwrap() error { return e.Err }

// Extract unpacks the tar stream r into dir, which must exist. It stops at
// the first refused entry; what was unpacked before it stays (callers unpack
// into a fresh directory and remove it on error).
func Extract(ctx context.Context, r io.Reader, dir string, o Options) (Stats, error) {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return Stats{}, fmt.Errorf("opening %q to unpack into: %w", dir, err)
	}
	defer root.Close()
	x := &extractor{root: root, o: o, seen: map[string]bool{}}
	tr := tar.NewReader(digest.ContextReader(ctx, r))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return x.stats, nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return x.stats, ctx.Err()
			}
			return x.stats, fmt.Errorf("reading the tar stream after %d entries: %w; the archive is damaged or not a tar", x.stats.Entries, err)
		}
		if x.stats.Entries++; x.stats.Entries > o.MaxEntries {
			return x.stats, &EntryError{hdr.Name, fmt.Errorf("more than %d entries; the archive is too large to unpack", o.MaxEntries)}
		}
		if err := x.entry(hdr, tr); err != nil {
			if ctx.Err() != nil {
				return x.stats, ctx.Err()
			}
			return x.stats, &EntryError{hdr.Name, err}
		}
	}
}

type extractor struct {
	root  *os.Root
	o     Options
	stats Stats
	seen  map[string]bool // names this archive created (a layer's opaque whiteout keeps them)
}

// clean checks an entry name and returns it relative, slash-separated,
// without a trailing slash; "" for the root itself.
func clean(name string) (string, error) {
	if len(name) > MaxNameBytes {
		return "", fmt.Errorf("name longer than %d bytes", MaxNameBytes)
	}
	if strings.IndexByte(name, 0) >= 0 {
		return "", errors.New("name holds a NUL byte")
	}
	if strings.HasPrefix(name, "/") {
		return "", errors.New("absolute name; an archive names its files relative to where it is unpacked")
	}
	for _, el := range strings.Split(name, "/") {
		if el == ".." {
			return "", errors.New("name climbs out with ..")
		}
	}
	c := path.Clean(name)
	if c == "." {
		return "", nil
	}
	return c, nil
}

func (x *extractor) entry(hdr *tar.Header, r io.Reader) error {
	name, err := clean(hdr.Name)
	if err != nil {
		return err
	}
	base := path.Base(name)
	if x.o.Layer && strings.HasPrefix(base, whiteoutPrefix) {
		return x.whiteout(name, base)
	}
	if name == "" {
		if hdr.Typeflag == tar.TypeDir {
			return nil
		}
		return errors.New("names the directory it is unpacked into, as something other than a directory")
	}
	if dir := path.Dir(name); dir != "." {
		if err := x.root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating its directory: %w", err)
		}
	}
	if hdr.Typeflag != tar.TypeDir {
		if err := x.replace(name); err != nil {
			return err
		}
	}
	x.seen[name] = true
	mode := fs.FileMode(hdr.Mode) & fs.ModePerm // no setuid, setgid or sticky
	switch hdr.Typeflag {
	case tar.TypeDir:
		fi, err := x.root.Lstat(name)
		switch {
		case err == nil && fi.IsDir():
			return x.root.Chmod(name, mode|0o700)
		case err == nil:
			if !x.o.Layer {
				return fmt.Errorf("a directory where the archive already put %s", regfile.Kind(fi.Mode()))
			}
			if err := x.root.Remove(name); err != nil {
				return err
			}
		}
		return x.root.Mkdir(name, mode|0o700)
	case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
		return x.file(name, mode, hdr.Size, r)
	case tar.TypeSymlink:
		return x.symlink(name, hdr.Linkname)
	case tar.TypeLink:
		target, err := clean(hdr.Linkname)
		if err != nil || target == "" {
			return fmt.Errorf("hard link to %q: not a file inside the archive", hdr.Linkname)
		}
		fi, err := x.root.Lstat(target)
		if err != nil || !fi.Mode().IsRegular() {
			return fmt.Errorf("hard link to %q, which is not a regular file unpacked before it", hdr.Linkname)
		}
		return x.root.Link(target, name)
	case tar.TypeChar, tar.TypeBlock:
		return errors.New("a device file; archives to unpack may not hold devices")
	case tar.TypeFifo:
		return errors.New("a named pipe (FIFO); archives to unpack may not hold FIFOs")
	}
	return fmt.Errorf("entry type %q is not supported; archives hold files, directories and links", string(rune(hdr.Typeflag)))
}

// replace makes room for a new entry at name: in a release, an entry of the
// same archive is never replaced; in a layer, whatever a lower layer put
// there goes.
func (x *extractor) replace(name string) error {
	fi, err := x.root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !x.o.Layer {
		return fmt.Errorf("appears twice (the archive already put %s there); an archive to unpack names each file once", regfile.Kind(fi.Mode()))
	}
	return x.root.RemoveAll(name)
}

func (x *extractor) file(name string, mode fs.FileMode, size int64, r io.Reader) error {
	if size < 0 {
		return fmt.Errorf("negative size %d", size)
	}
	if x.stats.Bytes+size > x.o.MaxBytes {
		return fmt.Errorf("unpacking it would exceed the limit of %s in all; the archive is too large", regfile.FormatSize(x.o.MaxBytes))
	}
	f, err := x.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode|0o600)
	if err != nil {
		return err
	}
	n, err := io.CopyBuffer(f, io.LimitReader(r, size), make([]byte, min(size+1, digest.BufferSize)))
	x.stats.Bytes += n
	if err == nil && n != size {
		err = fmt.Errorf("the archive ends after %d of its %d bytes", n, size)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if mode&0o600 != 0o600 {
		return x.root.Chmod(name, mode)
	}
	return nil
}

func (x *extractor) symlink(name, target string) error {
	switch {
	case target == "":
		return errors.New("symbolic link with an empty target")
	case len(target) > MaxNameBytes:
		return fmt.Errorf("symbolic link target longer than %d bytes", MaxNameBytes)
	case strings.IndexByte(target, 0) >= 0:
		return errors.New("symbolic link target holds a NUL byte")
	case x.o.Layer:
		// Kept as it is: inside a container it resolves in the container's
		// root; here every write goes through the os.Root, which does not
		// follow it out.
	case path.IsAbs(target):
		return fmt.Errorf("symbolic link to the absolute path %q; links in a release must stay inside it", target)
	case !localJoin(path.Dir(name), target):
		return fmt.Errorf("symbolic link to %q leads out of the directory it is unpacked into", target)
	}
	return x.root.Symlink(target, name)
}

// localJoin reports whether target, relative to dir, stays inside the tree
// at every step (a/../../x leaves it even though it may come back).
func localJoin(dir, target string) bool {
	depth := 0
	if dir != "." {
		depth = len(strings.Split(dir, "/"))
	}
	for _, el := range strings.Split(target, "/") {
		switch el {
		case "", ".":
		case "..":
			if depth--; depth < 0 {
				return false
			}
		default:
			depth++
		}
	}
	return true
}

// whiteout applies an OCI whiteout entry: .wh.NAME removes NAME from the
// lower layers, .wh..wh..opq empties its directory of them.
func (x *extractor) whiteout(name, base string) error {
	dir := path.Dir(name)
	if base == whiteoutOpaque {
		entries, err := fs.ReadDir(x.root.FS(), dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			p := path.Join(dir, e.Name())
			if !x.seen[p] {
				if err := x.root.RemoveAll(p); err != nil {
					return err
				}
			}
		}
		return nil
	}
	target := path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix))
	if target == "." || strings.TrimPrefix(base, whiteoutPrefix) == ".." {
		return errors.New("whiteout of the directory itself")
	}
	if err := x.root.RemoveAll(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
