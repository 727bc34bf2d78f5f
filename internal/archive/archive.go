package archive

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// GzipLevel is the fixed compression level: changing it changes every
// archive's digest.
const GzipLevel = 6

// Modes of the entries: directories and executables get 0755, other files
// 0644, whatever their mode on disk.
const (
	ModeFile = 0o644
	ModeExec = 0o755
	ModeDir  = 0o755
)

// NewGzip returns a gzip writer with the fixed level and an empty header (no
// file name, no modification time), so that its output depends only on what
// is written to it. Close it to flush the stream; it does not close w.
func NewGzip(w io.Writer) *gzip.Writer {
	gz, err := gzip.NewWriterLevel(w, GzipLevel)
	if err != nil {
		panic(err) // GzipLevel is a valid constant
	}
	return gz
}

// Tar writes a deterministic tar stream. Add files in increasing byte order
// of their names; the directories above each file are added before it.
type Tar struct {
	tw    *tar.Writer
	mtime time.Time
	dirs  map[string]bool
	last  string
	open  string // the entry being written, for errors
	want  int64  // its size
	n     int64  // bytes written to it so far
}

// NewTar returns a Tar writing to w whose entries all have modification
// time mtime (truncated to whole seconds).
func NewTar(w io.Writer, mtime time.Time) *Tar {
	return &Tar{tw: tar.NewWriter(w), mtime: time.Unix(mtime.Unix(), 0).UTC(), dirs: map[string]bool{}}
}

// File starts the entry for a regular file: name is slash-separated and
// relative ("dir/file"), exec selects mode 0755 over 0644, and exactly size
// bytes must then be written to the returned writer.
func (t *Tar) File(name string, exec bool, size int64) (io.Writer, error) {
	if err := t.begin(name); err != nil {
		return nil, err
	}
	mode := int64(ModeFile)
	if exec {
		mode = ModeExec
	}
	hdr := t.header(tar.TypeReg, name, mode)
	hdr.Size = size
	if err := t.tw.WriteHeader(hdr); err != nil {
		return nil, fmt.Errorf("writing archive header for %q: %w", name, err)
	}
	t.last, t.open, t.want, t.n = name, name, size, 0
	return entryWriter{t}, nil
}

// ModeSticky is the mode of a sticky, world-writable directory such as /tmp:
// the one directory mode besides ModeDir that Dir writes.
const ModeSticky = 0o1777

// Dir adds a directory entry with mode ModeDir, or ModeSticky when sticky
// is true. Like File, names come in increasing order; a directory added
// this way is not added again as a parent.
func (t *Tar) Dir(name string, sticky bool) error {
	mode := int64(ModeDir)
	if sticky {
		mode = ModeSticky
	}
	if err := t.begin(name); err != nil {
		return err
	}
	if err := t.tw.WriteHeader(t.header(tar.TypeDir, name+"/", mode)); err != nil {
		return fmt.Errorf("writing archive header for directory %q: %w", name, err)
	}
	t.dirs[name], t.last = true, name
	return nil
}

// Symlink adds a symbolic link entry to target, kept as given: it is
// resolved where the archive is unpacked (in an image, inside the image),
// never here.
func (t *Tar) Symlink(name, target string) error {
	if target == "" || strings.Contains(target, "\x00") {
		return fmt.Errorf("symbolic link %q has the target %q, which cannot be archived", name, target)
	}
	if err := t.begin(name); err != nil {
		return err
	}
	hdr := t.header(tar.TypeSymlink, name, 0o777)
	hdr.Linkname = target
	if err := t.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing archive header for symbolic link %q: %w", name, err)
	}
	t.last = name
	return nil
}

// begin checks name and its order, finishes the open entry and adds the
// directories above name that are not in the archive yet.
func (t *Tar) begin(name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if t.last != "" && name <= t.last {
		return fmt.Errorf("adding %q to the archive after %q: entries must come in increasing order (internal error)", name, t.last)
	}
	if err := t.finish(); err != nil {
		return err
	}
	return t.parents(name)
}

// Close finishes the last entry and writes the tar footer. It does not close
// the underlying writer.
func (t *Tar) Close() error {
	if err := t.finish(); err != nil {
		return err
	}
	return t.tw.Close()
}

// finish checks that the open entry got all its bytes.
func (t *Tar) finish() error {
	if t.open != "" && t.n != t.want {
		return fmt.Errorf("archive entry %q: got %d bytes, want %d; did the file change while it was read?", t.open, t.n, t.want)
	}
	t.open = ""
	return nil
}

func (t *Tar) parents(name string) error {
	var missing []string
	for d := path.Dir(name); d != "." && !t.dirs[d]; d = path.Dir(d) {
		missing = append(missing, d)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		if err := t.tw.WriteHeader(t.header(tar.TypeDir, d+"/", ModeDir)); err != nil {
			return fmt.Errorf("writing archive header for directory %q: %w", d, err)
		}
		t.dirs[d] = true
	}
	return nil
}

func (t *Tar) header(typ byte, name string, mode int64) *tar.Header {
	return &tar.Header{
		Typeflag: typ,
		Name:     name,
		Mode:     mode,
		ModTime:  t.mtime,
		// Uid, Gid, Uname, Gname, AccessTime and ChangeTime stay zero.
	}
}

type entryWriter struct{ t *Tar }

func (e entryWriter) Write(p []byte) (int, error) {
	n, err := e.t.tw.Write(p)
	e.t.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("archive entry %q: %w; did the file grow while it was read?", e.t.open, err)
	}
	return n, nil
}

// checkName refuses names that are not clean, relative, slash-separated
// paths inside the archive.
func checkName(name string) error {
	if name == "" || name == "." || strings.HasPrefix(name, "/") || path.Clean(name) != name ||
		name == ".." || strings.HasPrefix(name, "../") || strings.Contains(name, "\x00") {
		return fmt.Errorf("archive entry name %q is not a clean relative path (internal error)", name)
	}
	return nil
}
