package fileset

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// File is one selected file.
type File struct {
	// Name is the path the patterns selected: slash-separated and relative
	// to the workspace. It is the artifact's subject name.
	Name string
	// Open is where the content is, relative to the workspace: Name itself,
	// or the path the symbolic links on the way resolve to.
	Open string
}

// Options tune Resolve.
type Options struct {
	// Exclude lists relative, slash-separated paths never selected, with
	// everything under them (the files the caller itself writes there).
	Exclude []string
}

// ErrInput is matched (errors.Is) by every error Resolve and Parse return
// for what the user gave: a bad pattern, a pattern that matches nothing, a
// link leaving the workspace, a file that is not a regular file. Other errors
// come from the file system.
var ErrInput = errors.New("bad artifact pattern or file")

type inputError struct{ msg string }

func (e *inputError) Error() string        { return e.msg }
func (e *inputError) Is(target error) bool { return target == ErrInput }

func inputErrorf(format string, a ...any) error {
	return &inputError{msg: fmt.Sprintf(format, a...)}
}

// Resolve returns the files the patterns select under root (an absolute
// directory), sorted by name. Every include pattern must match at least one
// file, and the result must not be empty.
func Resolve(ctx context.Context, root string, patterns []Pattern, o Options) ([]File, error) {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, fmt.Errorf("resolving the workspace %q: %w", root, err)
	}
	w := &walker{ctx: ctx, root: realRoot, exclude: o.Exclude, found: map[string]File{}}
	for _, p := range patterns {
		if p.Exclude {
			continue
		}
		w.pattern, w.count = p, 0
		if err := w.start(); err != nil {
			return nil, err
		}
		if w.count == 0 {
			return nil, inputErrorf("pattern %q matched no files in the workspace %q; check the path (it is relative to the workspace), or remove the pattern", p.Source, root)
		}
	}
	var out []File
	for _, f := range w.found {
		if Match(patterns, f.Name) {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, inputErrorf("the patterns %q exclude every file they match; check the \"!\" patterns", sources(patterns))
	}
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func sources(ps []Pattern) []string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Source)
	}
	return s
}

type walker struct {
	ctx     context.Context
	root    string // real (symlink-free) absolute workspace
	exclude []string
	pattern Pattern
	count   int
	found   map[string]File
	// onStack holds the real directories being walked through symbolic
	// links, to refuse loops.
	onStack []string
}

// start walks from the pattern's static prefix.
func (w *walker) start() error {
	glob := w.pattern.Glob
	if !hasMeta(glob) {
		// A literal path: look at it alone.
		name := unescape(glob)
		dir, base := path.Split(name)
		openDir, ok, err := w.resolveDir(strings.TrimSuffix(dir, "/"))
		if err != nil || !ok {
			return err
		}
		fi, err := os.Lstat(w.abs(path.Join(openDir, base)))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading %q: %w", name, err)
		}
		return w.visit(name, path.Join(openDir, base), fi.Mode().Type(), true)
	}
	base, _ := doublestar.SplitPattern(glob)
	base = unescape(base)
	openBase, ok, err := w.resolveDir(base)
	if err != nil || !ok {
		return err
	}
	return w.walk(base, openBase, false)
}

// resolveDir resolves the directory rel (symbolic links allowed, inside
// the workspace only); ok is false when it does not exist or is no directory.
func (w *walker) resolveDir(rel string) (open string, ok bool, err error) {
	if rel == "" || rel == "." {
		return ".", true, nil
	}
	real, err := filepath.EvalSymlinks(w.abs(rel))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) {
		return "", false, nil
	} else if err != nil {
		return "", false, fmt.Errorf("resolving %q: %w", rel, err)
	}
	openRel, inside := within(w.root, real)
	if !inside {
		return "", false, inputErrorf("pattern %q: %q leads outside the workspace (to %q) through a symbolic link; artifacts must be inside the workspace", w.pattern.Source, rel, real)
	}
	fi, err := os.Stat(real)
	if err != nil || !fi.IsDir() {
		return "", false, nil
	}
	return openRel, true, nil
}

// walk visits the entries of the directory name (found at open); all is
// true under a matched directory, where every file is selected.
func (w *walker) walk(name, open string, all bool) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(w.abs(open))
	if err != nil {
		return fmt.Errorf("listing %q: %w", name, err)
	}
	for _, e := range entries {
		if e.Name() == ".git" && e.IsDir() {
			continue
		}
		childName, childOpen := join(name, e.Name()), join(open, e.Name())
		matched := all || doublestar.MatchUnvalidated(w.pattern.Glob, childName)
		if err := w.visit(childName, childOpen, e.Type(), matched); err != nil {
			return err
		}
	}
	return nil
}

// visit handles one directory entry of type typ.
func (w *walker) visit(name, open string, typ fs.FileMode, matched bool) error {
	if w.excluded(name) {
		return nil
	}
	switch {
	case typ.IsDir():
		if matched {
			return w.walk(name, open, true)
		}
		if w.canDescend(name) {
			return w.walk(name, open, false)
		}
		return nil
	case typ.IsRegular():
		if matched {
			w.add(name, open)
		}
		return nil
	case typ&fs.ModeSymlink != 0:
		if !matched {
			return nil // searching never follows links; only matched ones count
		}
		return w.link(name, open)
	}
	if matched {
		return inputErrorf("%q is not a regular file (%v); artifacts must be files or directories", name, typ)
	}
	return nil
}

// link resolves a matched symbolic link: it must stay in the workspace.
func (w *walker) link(name, open string) error {
	real, err := filepath.EvalSymlinks(w.abs(open))
	if err != nil {
		return inputErrorf("symbolic link %q cannot be resolved: %v; fix or remove the link", name, err)
	}
	openRel, inside := within(w.root, real)
	if !inside {
		target, _ := os.Readlink(w.abs(open))
		return inputErrorf("%q is a symbolic link to %q, outside the workspace; artifacts must be inside the workspace: copy the file in or narrow the pattern", name, target)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("reading %q: %w", name, err)
	}
	switch {
	case fi.Mode().IsRegular():
		w.add(name, openRel)
		return nil
	case fi.IsDir():
		if slices.Contains(w.onStack, openRel) {
			return inputErrorf("symbolic link %q leads back to %q, a directory it is in: a loop; remove the link or narrow the pattern", name, openRel)
		}
		w.onStack = append(w.onStack, openRel)
		defer func() { w.onStack = w.onStack[:len(w.onStack)-1] }()
		return w.walk(name, openRel, true)
	}
	return inputErrorf("%q links to %q, which is not a regular file; artifacts must be files or directories", name, openRel)
}

func (w *walker) add(name, open string) {
	w.count++
	w.found[name] = File{Name: name, Open: open}
}

// canDescend reports whether a directory that the pattern does not match
// may hold paths it does. Only patterns without "**" and alternatives are
// pruned, by depth and by their leading segments.
func (w *walker) canDescend(name string) bool {
	glob := w.pattern.Glob
	if strings.Contains(glob, "**") || strings.Contains(glob, "{") {
		return true
	}
	segs := strings.Split(glob, "/")
	depth := strings.Count(name, "/") + 1
	if depth >= len(segs) {
		return false
	}
	return doublestar.MatchUnvalidated(strings.Join(segs[:depth], "/"), name)
}

func (w *walker) excluded(name string) bool {
	for _, ex := range w.exclude {
		if name == ex || strings.HasPrefix(name, ex+"/") {
			return true
		}
	}
	return false
}

func (w *walker) abs(rel string) string { return filepath.Join(w.root, filepath.FromSlash(rel)) }

func join(dir, name string) string {
	if dir == "." || dir == "" {
		return name
	}
	return dir + "/" + name
}

// hasMeta reports whether a glob has an unescaped metacharacter.
func hasMeta(glob string) bool {
	for i := 0; i < len(glob); i++ {
		switch glob[i] {
		case '\\':
			i++
		case '*', '?', '[', '{':
			return true
		}
	}
	return false
}

// unescape removes the backslashes that quote metacharacters in a static
// part of a glob.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
