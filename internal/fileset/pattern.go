package fileset

import (
	"path"
	"path/filepath"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Pattern is one parsed glob.
type Pattern struct {
	// Glob is the doublestar pattern, relative to the workspace, cleaned.
	Glob string
	// Exclude is true for "!pattern".
	Exclude bool
	// Source is the pattern as the user wrote it, for errors.
	Source string
}

// Parse parses patterns as the user wrote them. root is the workspace
// (absolute): an absolute pattern inside it is made relative, anything that
// leaves it is refused.
func Parse(root string, patterns []string) ([]Pattern, error) {
	var out []Pattern
	hasInclude := false
	for _, src := range patterns {
		p, err := parseOne(root, src)
		if err != nil {
			return nil, err
		}
		if p.Glob == "" {
			continue
		}
		hasInclude = hasInclude || !p.Exclude
		out = append(out, p)
	}
	if !hasInclude {
		return nil, inputErrorf("no pattern selects files (patterns %q); give at least one glob such as \"dist/*\"", patterns)
	}
	return out, nil
}

func parseOne(root, src string) (Pattern, error) {
	p := Pattern{Source: src}
	g := strings.TrimSpace(src)
	if rest, ok := strings.CutPrefix(g, "!"); ok {
		p.Exclude = true
		g = strings.TrimSpace(rest)
	}
	if g == "" {
		return p, nil
	}
	if strings.ContainsRune(g, 0) {
		return p, inputErrorf("pattern %q contains a NUL byte; remove it", src)
	}
	if filepath.IsAbs(g) {
		rel, ok := within(root, g)
		if !ok {
			return p, inputErrorf("pattern %q is outside the workspace %q; artifacts must be inside it: use a path relative to the workspace", src, root)
		}
		g = rel
	}
	for _, seg := range strings.Split(g, "/") {
		if seg == ".." {
			return p, inputErrorf("pattern %q leaves the workspace (\"..\"); artifacts must be inside the workspace: use a path relative to it without \"..\"", src)
		}
	}
	g = path.Clean(g)
	if g == "." {
		g = "**"
	}
	if !doublestar.ValidatePattern(g) {
		return p, inputErrorf("pattern %q is not a valid glob (check its brackets and braces; commas separate patterns, so write alternatives as separate lines)", src)
	}
	p.Glob = g
	return p, nil
}

// within returns abs relative to root (slash-separated) when abs is root or
// below it.
func within(root, abs string) (string, bool) {
	rel, err := filepath.Rel(root, filepath.Clean(abs))
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// Match reports whether the patterns select the file at rel (slash-separated,
// relative): the last pattern that matches rel or a directory above it
// decides; a path no pattern matches is not selected.
func Match(patterns []Pattern, rel string) bool {
	selected := false
	for _, p := range patterns {
		if matchPathOrParent(p.Glob, rel) {
			selected = !p.Exclude
		}
	}
	return selected
}

// matchPathOrParent reports whether glob matches rel or one of its parent
// directories (a matched directory stands for everything under it).
func matchPathOrParent(glob, rel string) bool {
	for p := rel; p != "." && p != "/" && p != ""; p = path.Dir(p) {
		if doublestar.MatchUnvalidated(glob, p) {
			return true
		}
	}
	return false
}

// EscapeMeta quotes the glob metacharacters in a literal path, so that it
// can be used as a pattern that matches only itself.
func EscapeMeta(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]{}\!`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
