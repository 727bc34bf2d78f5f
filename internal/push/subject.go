package push

import (
	"fmt"
	"strings"

	"github.com/slipway/actions/internal/digest"
)

// LayoutPrefix introduces a subject that is an OCI image layout directory.
const LayoutPrefix = "oci-layout:"

// Subject is what to push: files, pushed as one OCI artifact, or an OCI
// image layout.
type Subject struct {
	// Files are paths or glob patterns of files, relative to the workspace.
	Files []string
	// Layout is the directory of an OCI image layout.
	Layout string
	// Select picks one manifest of the layout's index.json, by digest
	// ("sha256:<hex>") or by its org.opencontainers.image.ref.name annotation.
	// Empty means the only manifest there is.
	Select string
}

// IsZero reports whether s names nothing.
func (s Subject) IsZero() bool { return len(s.Files) == 0 && s.Layout == "" }

// ParseSubject parses the subject input: file paths or globs, or exactly one
// "oci-layout:DIR", "oci-layout:DIR@sha256:<hex>" or "oci-layout:DIR@NAME".
// The selector is what follows the last "@" when that contains no "/"; a
// directory whose name has an "@" is written with a trailing "/".
func ParseSubject(items []string) (Subject, error) {
	var s Subject
	for i, item := range items {
		switch {
		case strings.TrimSpace(item) == "":
			return Subject{}, fmt.Errorf("subject %d is empty; list files, or give one %sDIR", i+1, LayoutPrefix)
		case strings.ContainsRune(item, 0):
			return Subject{}, fmt.Errorf("subject %q contains a NUL byte; give a file path", item)
		case strings.HasPrefix(item, LayoutPrefix):
			if len(items) > 1 {
				return Subject{}, fmt.Errorf("subject %q is an OCI image layout and must be the only subject (got %d); push files and layouts in separate steps", item, len(items))
			}
			return parseLayout(item)
		}
		s.Files = append(s.Files, item)
	}
	return s, nil
}

func parseLayout(item string) (Subject, error) {
	rest := strings.TrimPrefix(item, LayoutPrefix)
	dir, sel := rest, ""
	if i := strings.LastIndexByte(rest, '@'); i >= 0 && !strings.Contains(rest[i+1:], "/") {
		dir, sel = rest[:i], rest[i+1:]
		if sel == "" {
			return Subject{}, fmt.Errorf("subject %q ends in \"@\" without a selector; write %sDIR@sha256:<hex> or %sDIR@NAME, or drop the \"@\"", item, LayoutPrefix, LayoutPrefix)
		}
	}
	if strings.TrimSpace(dir) == "" {
		return Subject{}, fmt.Errorf("subject %q names no directory; write %sDIR, e.g. %sdist/image", item, LayoutPrefix, LayoutPrefix)
	}
	if strings.HasPrefix(sel, "sha256:") {
		if _, err := digest.Parse(sel); err != nil {
			return Subject{}, fmt.Errorf("subject %q: selector: %w", item, err)
		}
	}
	return Subject{Layout: dir, Select: sel}, nil
}
