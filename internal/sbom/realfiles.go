package sbom

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"syscall"

	stfile "github.com/anchore/stereoscope/pkg/file"
	"github.com/anchore/syft/syft/file"
	"github.com/bmatcuk/doublestar/v4"

	"github.com/slipway/actions/internal/regfile"
)

// realFiles is a syft file.Resolver over a fixed set of regular files of the
// local filesystem, each served under a virtual absolute path: "/app" for a
// file subject, or its own path for a package database of the build host.
// It never walks a directory tree, so syft's catalogers read exactly the
// files it was given, and nothing else; only regular files are opened
// (package regfile), so a FIFO put in their place cannot block a cataloger.
type realFiles struct {
	paths []string          // virtual paths, sorted
	real  map[string]string // virtual path → path on disk

	mu   sync.Mutex
	mime map[string]string // virtual path → MIME type, read on first use
}

var _ file.Resolver = (*realFiles)(nil)

// newRealFiles serves each real path (a path on disk) under its virtual path
// (the map's keys, absolute slash-separated paths).
func newRealFiles(files map[string]string) *realFiles {
	r := &realFiles{real: make(map[string]string, len(files)), mime: map[string]string{}}
	for v, p := range files {
		v = path.Clean("/" + v)
		r.real[v] = p
		r.paths = append(r.paths, v)
	}
	sort.Strings(r.paths)
	return r
}

// FileContentsByLocation opens the file a location names.
func (r *realFiles) FileContentsByLocation(l file.Location) (io.ReadCloser, error) {
	p, ok := r.real[l.RealPath]
	if !ok {
		return nil, fmt.Errorf("no file %q in this source", l.RealPath)
	}
	return regfile.Open(p)
}

// HasPath reports whether p is one of the files or a directory above one.
func (r *realFiles) HasPath(p string) bool {
	p = path.Clean("/" + p)
	if _, ok := r.real[p]; ok {
		return true
	}
	dir := strings.TrimSuffix(p, "/") + "/"
	i := sort.SearchStrings(r.paths, dir)
	return i < len(r.paths) && strings.HasPrefix(r.paths[i], dir)
}

// FilesByPath returns the locations of the given paths that are files here.
func (r *realFiles) FilesByPath(paths ...string) ([]file.Location, error) {
	var out []file.Location
	for _, p := range paths {
		p = path.Clean("/" + p)
		if _, ok := r.real[p]; ok {
			out = append(out, file.NewLocation(p))
		}
	}
	return out, nil
}

// FilesByGlob matches patterns (doublestar syntax, as syft writes them)
// against the files; only the files that start with a pattern's literal
// prefix are looked at, so that a per-package lookup in a database of
// thousands of files stays cheap.
func (r *realFiles) FilesByGlob(patterns ...string) ([]file.Location, error) {
	seen := map[string]bool{}
	var out []file.Location
	for _, pat := range patterns {
		if !doublestar.ValidatePattern(pat) {
			return nil, fmt.Errorf("invalid glob %q", pat)
		}
		prefix := pat
		if i := strings.IndexAny(pat, `*?[{\`); i >= 0 {
			prefix = pat[:i]
		}
		for i := sort.SearchStrings(r.paths, prefix); i < len(r.paths) && strings.HasPrefix(r.paths[i], prefix); i++ {
			p := r.paths[i]
			if seen[p] {
				continue
			}
			if ok, _ := doublestar.Match(pat, p); ok || strings.HasPrefix(pat, "**/") && matchesTail(pat, p) {
				seen[p] = true
				out = append(out, file.NewLocation(p))
			}
		}
	}
	return out, nil
}

// matchesTail matches "**/rest" against an absolute path: doublestar
// anchors "**/" at a relative path's start, syft's resolvers at the root.
func matchesTail(pat, p string) bool {
	ok, _ := doublestar.Match(pat, strings.TrimPrefix(p, "/"))
	return ok
}

// FilesByMIMEType returns the files whose content has one of the types.
func (r *realFiles) FilesByMIMEType(types ...string) ([]file.Location, error) {
	var out []file.Location
	for _, p := range r.paths {
		m := r.mimeType(p)
		for _, t := range types {
			if m == t {
				out = append(out, file.NewLocation(p))
				break
			}
		}
	}
	return out, nil
}

// RelativeFileByPath returns the file at p, if it is one here.
func (r *realFiles) RelativeFileByPath(_ file.Location, p string) *file.Location {
	locs, _ := r.FilesByPath(p)
	if len(locs) == 0 {
		return nil
	}
	return &locs[0]
}

// AllLocations sends every file's location.
func (r *realFiles) AllLocations(ctx context.Context) <-chan file.Location {
	ch := make(chan file.Location)
	go func() {
		defer close(ch)
		for _, p := range r.paths {
			select {
			case ch <- file.NewLocation(p):
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

// FileMetadataByLocation describes a file as syft's directory resolver does.
func (r *realFiles) FileMetadataByLocation(l file.Location) (file.Metadata, error) {
	p, ok := r.real[l.RealPath]
	if !ok {
		return file.Metadata{}, fmt.Errorf("no file %q in this source", l.RealPath)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return file.Metadata{}, err
	}
	m := file.Metadata{FileInfo: fi, Path: l.RealPath, Type: stfile.TypeFromMode(fi.Mode()), MIMEType: r.mimeType(l.RealPath), UserID: -1, GroupID: -1}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		m.UserID, m.GroupID = int(st.Uid), int(st.Gid)
	}
	return m, nil
}

// mimeType sniffs a file's MIME type from its first bytes, once.
func (r *realFiles) mimeType(v string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m, ok := r.mime[v]; ok {
		return m
	}
	var m string
	if f, err := regfile.Open(r.real[v]); err == nil {
		m = stfile.MIMEType(f)
		f.Close()
	}
	r.mime[v] = m
	return m
}
