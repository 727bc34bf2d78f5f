package workspace

import (
	"fmt"
)

// Reason says how a path leaves the workspace.
type Reason int

const (
	none Reason = iota
	// Empty: no path was given.
	Empty
	// NUL: the path holds a NUL byte, which no file name can.
	NUL
	// Absolute: an absolute path outside the workspace.
	Absolute
	// DotDot: a ".." climbs out of the workspace.
	DotDot
	// Symlink: a symbolic link points outside the workspace.
	Symlink
)

// EscapeError says that a path given by the user leads outside the
// workspace, or is no path at all.
type EscapeError struct {
	Input  string // the path as given
	Path   string // where it leads, when known
	Root   string // the workspace
	Reason Reason
	// Link and Target name the symbolic link that leaves (Reason Symlink):
	// the link relative to the workspace, and its target as written.
	Link, Target string
}

func (e *EscapeError) Error() string {
	const fix = "give a path inside the workspace (relative paths are relative to it)"
	switch e.Reason {
	case Empty:
		return fmt.Sprintf("the path is empty; %s", fix)
	case NUL:
		return fmt.Sprintf("the path %q holds a NUL byte; %s", e.Input, fix)
	case Absolute:
		return fmt.Sprintf("the path %q is outside the workspace %q; %s", e.Input, e.Root, fix)
	case Symlink:
		return fmt.Sprintf("the path %q leads to %q, outside the workspace %q, through the symbolic link %q -> %q; "+
			"%s, or replace the link with a directory or file of the workspace", e.Input, e.Path, e.Root, e.Link, e.Target, fix)
	}
	return fmt.Sprintf("the path %q climbs out of the workspace %q with \"..\" (to %q); %s", e.Input, e.Root, e.Path, fix)
}
