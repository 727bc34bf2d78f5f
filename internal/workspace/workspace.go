package workspace

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// maxLinks bounds the symbolic links followed while resolving one path, as
// the kernel's ELOOP does.
const maxLinks = 255

// Root is a workspace root: the directory as the caller names it and where
// it really is after its own symbolic links.
type Root struct {
	dir  string // absolute and clean, as given
	real string // dir with every symbolic link resolved
}

// New returns the root for dir, which must exist. A relative dir is made
// absolute against the working directory.
func New(dir string) (*Root, error) {
	if dir == "" {
		return nil, errors.New("the workspace directory is empty (internal error)")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("making the workspace %q absolute: %w", dir, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("resolving the workspace %q: %w; run from an existing directory", dir, err)
	}
	return &Root{dir: abs, real: real}, nil
}

// Dir returns the root as the caller named it, absolute.
func (r *Root) Dir() string { return r.dir }

// Resolve returns where p leads: p relative to the root (or absolute),
// with every existing component's symbolic links followed and a missing
// tail kept as written. The result is absolute, under r.Dir(). It returns an
// *EscapeError when p leads outside the root.
func (r *Root) Resolve(p string) (string, error) {
	if p == "" {
		return "", &EscapeError{Input: p, Root: r.dir, Reason: Empty}
	}
	if strings.ContainsRune(p, 0) {
		return "", &EscapeError{Input: p, Root: r.dir, Reason: NUL}
	}
	rel := p
	if filepath.IsAbs(p) {
		var ok bool
		if rel, ok = r.relLexical(p); !ok {
			return "", &EscapeError{Input: p, Path: filepath.Clean(p), Root: r.dir, Reason: Absolute}
		}
	}
	w := walker{root: r.real, cur: r.real}
	if err := w.walk(rel); err != nil {
		return "", fmt.Errorf("resolving %q in the workspace %q: %w", p, r.dir, err)
	}
	inside, ok := within(r.real, w.cur)
	if !ok {
		return "", &EscapeError{Input: p, Path: w.cur, Root: r.dir, Reason: w.cause, Link: w.link, Target: w.target}
	}
	return filepath.Join(r.dir, inside), nil
}

// Rel returns the resolved path p (a result of Resolve) relative to the
// root, with forward slashes: the name a manifest records.
func (r *Root) Rel(p string) (string, bool) {
	if rel, ok := within(r.dir, filepath.Clean(p)); ok {
		return filepath.ToSlash(rel), true
	}
	if rel, ok := within(r.real, filepath.Clean(p)); ok {
		return filepath.ToSlash(rel), true
	}
	return "", false
}

// Resolve is New(root) followed by Resolve(p), for callers that resolve
// one path.
func Resolve(root, p string) (string, error) {
	r, err := New(root)
	if err != nil {
		return "", err
	}
	return r.Resolve(p)
}

// relLexical returns the absolute path p relative to the root, under either
// the root's given or its real name; false when it is under neither.
func (r *Root) relLexical(p string) (string, bool) {
	c := filepath.Clean(p)
	if rel, ok := within(r.dir, c); ok {
		return rel, true
	}
	return within(r.real, c)
}

// within returns p relative to dir when p is dir or below it (both clean and
// absolute).
func within(dir, p string) (string, bool) {
	if p == dir {
		return ".", true
	}
	prefix := dir
	if !strings.HasSuffix(prefix, string(filepath.Separator)) {
		prefix += string(filepath.Separator)
	}
	if strings.HasPrefix(p, prefix) {
		return p[len(prefix):], true
	}
	return "", false
}

// walker follows a relative path from root the way the kernel does.
type walker struct {
	root, cur string
	links     int
	// The links whose targets are being walked, innermost last, each with
	// the number of components left to walk when its target is done.
	active []activeLink
	// Why the walk is outside root, when it is: the step that left (and,
	// for a link, the link as named from the root and its target).
	cause        Reason
	link, target string
}

type activeLink struct {
	name, target string
	until        int
}

func (w *walker) walk(rel string) error {
	todo := splitPath(rel)
	for len(todo) > 0 {
		for n := len(w.active); n > 0 && len(todo) <= w.active[n-1].until; n-- {
			w.active = w.active[:n-1]
		}
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			w.move(filepath.Dir(w.cur))
			continue
		}
		next := filepath.Join(w.cur, c)
		fi, err := os.Lstat(next)
		switch {
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
			// A missing tail (or a file used as a directory): the kernel
			// creates it as named or fails on it; there is no link to follow.
			w.move(next)
			continue
		case err != nil:
			return err
		case fi.Mode()&fs.ModeSymlink == 0:
			w.move(next)
			continue
		}
		if w.links++; w.links > maxLinks {
			return fmt.Errorf("more than %d symbolic links (a loop?) at %q; remove the loop", maxLinks, next)
		}
		target, err := os.Readlink(next)
		if err != nil {
			return err
		}
		name, ok := within(w.root, next)
		if !ok {
			name = next
		}
		w.active = append(w.active, activeLink{name: filepath.ToSlash(name), target: target, until: len(todo)})
		if filepath.IsAbs(target) {
			w.move(string(filepath.Separator))
		}
		todo = append(splitPath(target), todo...)
	}
	return nil
}

// move steps to next, noting why when the step leaves root (the innermost
// link being followed, or a "..") and forgetting it when back inside.
func (w *walker) move(next string) {
	switch {
	case w.inside(next):
		w.cause, w.link, w.target = none, "", ""
	case w.inside(w.cur):
		w.cause, w.link, w.target = DotDot, "", ""
		if n := len(w.active); n > 0 {
			w.cause, w.link, w.target = Symlink, w.active[n-1].name, w.active[n-1].target
		}
	}
	w.cur = next
}

func (w *walker) inside(p string) bool {
	_, ok := within(w.root, filepath.Clean(p))
	return ok
}

func splitPath(p string) []string {
	return strings.Split(strings.TrimPrefix(filepath.ToSlash(p), "/"), "/")
}
