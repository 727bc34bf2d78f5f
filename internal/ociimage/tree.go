package ociimage

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/slipway/actions/internal/exitcode"
)

// treeEntry is one entry of a root tree, as Lstat saw it.
type treeEntry struct {
	name   string      // slash-separated, relative to the tree
	mode   fs.FileMode // type and permission bits
	size   int64       // a file's size
	target string      // a symbolic link's target, as written
}

// AddRoot writes the directory tree dir (absolute) as a layer of its own,
// below the layer of the files: like Docker's COPY dir/ /. Directories,
// regular files and symbolic links are kept; a link's target is stored as
// written and resolved in the image, never on this machine (so a link may
// point anywhere: /bin/sh -> busybox). Owners are 0:0, times the creation
// time, modes 0755 for directories (1777 for a sticky one, such as /tmp),
// 0755 or 0644 for files by their execute bits. Anything else (a FIFO, a
// socket, a device) is refused. Call it at most once, before Commit.
func (b *Builder) AddRoot(ctx context.Context, dir string) error {
	if b.tree != nil {
		return fmt.Errorf("the image root tree was already added (internal error)")
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return exitcode.BadInputf("opening the image root tree %q: %w; it must be a directory", dir, err)
	}
	defer root.Close()
	entries, err := readTree(ctx, root)
	if err != nil {
		return err
	}
	lw, err := newLayerWriter(b.blobs(), b.opts.Created)
	if err != nil {
		return err
	}
	if err := writeTree(ctx, root, entries, lw); err != nil {
		lw.file.Close()
		os.Remove(lw.file.Name())
		return err
	}
	b.tree, err = lw.finish(b.blobs())
	return err
}

// readTree lists every entry under root, sorted by name (the order the
// layer needs: byte order of the whole path).
func readTree(ctx context.Context, root *os.Root) ([]treeEntry, error) {
	var out []treeEntry
	var walk func(dir string) error
	walk = func(dir string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := root.Open(dir)
		if err != nil {
			return exitcode.Infraf("reading the image root tree: %w", err)
		}
		ents, err := f.ReadDir(-1)
		f.Close()
		if err != nil {
			return exitcode.Infraf("reading the image root tree: %w", err)
		}
		for _, e := range ents {
			name := path.Join(dir, e.Name())
			fi, err := root.Lstat(name)
			if err != nil {
				return exitcode.Infraf("reading the image root tree: %w", err)
			}
			ent := treeEntry{name: name, mode: fi.Mode(), size: fi.Size()}
			switch {
			case fi.IsDir():
				out = append(out, ent)
				if err := walk(name); err != nil {
					return err
				}
			case fi.Mode().IsRegular():
				out = append(out, ent)
			case fi.Mode()&fs.ModeSymlink != 0:
				if ent.target, err = root.Readlink(name); err != nil {
					return exitcode.Infraf("reading the image root tree: %w", err)
				}
				out = append(out, ent)
			default:
				return exitcode.BadInputf("image root tree entry %q is a %v, not a file, directory or symbolic link; remove it from the tree", name, fi.Mode().Type())
			}
		}
		return nil
	}
	if err := walk("."); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b treeEntry) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// writeTree writes the entries into the layer, reading each file once.
func writeTree(ctx context.Context, root *os.Root, entries []treeEntry, lw *layerWriter) error {
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		var err error
		switch {
		case e.mode.IsDir():
			err = lw.tar.Dir(e.name, e.mode&fs.ModeSticky != 0)
		case e.mode&fs.ModeSymlink != 0:
			err = lw.tar.Symlink(e.name, e.target)
		default:
			err = copyTreeFile(root, e, lw)
		}
		if err != nil {
			return exitcode.Infraf("writing the image root tree layer: %w", err)
		}
	}
	return nil
}

func copyTreeFile(root *os.Root, e treeEntry, lw *layerWriter) error {
	f, err := root.Open(e.name)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := lw.tar.File(e.name, e.mode&0o111 != 0, e.size)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, f)
	return err
}
