package pull

import (
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
)

// Bounds on what a release may name.
const (
	maxNameLength    = 4096 // PATH_MAX
	maxComponentSize = 255  // NAME_MAX
)

// checkName reports why name cannot be a file's path relative to the output
// directory, or nil: it must be a clean, relative, slash-separated path of
// printable UTF-8 without "." or ".." components or backslashes.
func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("the name is empty")
	case len(name) > maxNameLength:
		return fmt.Errorf("the name is longer than %d bytes", maxNameLength)
	case !utf8.ValidString(name):
		return fmt.Errorf("the name is not UTF-8")
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("the name holds a control character")
	case strings.Contains(name, `\`):
		return fmt.Errorf("the name holds a backslash, which some systems read as a directory separator")
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("the name is an absolute path")
	case path.Clean(name) != name:
		return fmt.Errorf("the name is not a clean path (it has \".\", \"..\", \"//\" or a trailing \"/\")")
	case name == ".":
		return fmt.Errorf("the name is \".\", the output directory itself")
	case name == ".." || strings.HasPrefix(name, "../"):
		return fmt.Errorf("the name climbs out of the output directory with \"..\"")
	}
	for _, c := range strings.Split(name, "/") {
		if len(c) > maxComponentSize {
			return fmt.Errorf("the name has a component longer than %d bytes", maxComponentSize)
		}
	}
	return nil
}

// namespace holds the names taken in the output directory, as files and as
// the directories above them, to refuse a name given twice and a file
// where another name needs a directory ("a" and "a/b").
type namespace struct {
	files map[string]string // name -> where it came from
	dirs  map[string]string // directory -> the first name below it
}

func newNamespace() *namespace {
	return &namespace{files: map[string]string{}, dirs: map[string]string{}}
}

// add claims name for what (a description, for errors).
func (n *namespace) add(name, what string) error {
	if prev, ok := n.files[name]; ok {
		return fmt.Errorf("%s and %s are both named %q", prev, what, name)
	}
	if below, ok := n.dirs[name]; ok {
		return fmt.Errorf("%s is named %q, which %q needs as a directory", what, name, below)
	}
	for d := path.Dir(name); d != "."; d = path.Dir(d) {
		if prev, ok := n.files[d]; ok {
			return fmt.Errorf("%s is named %q, which needs %q as a directory, but %s is a file of that name", what, name, d, prev)
		}
		if _, ok := n.dirs[d]; !ok {
			n.dirs[d] = name
		}
	}
	n.files[name] = what
	return nil
}
