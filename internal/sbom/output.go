package sbom

import (
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/lazyregexp"
)

// DefaultOutput returns where the SBOM of a resolved subject goes when the
// "output" input is empty (EXT is .cdx.json or .spdx.json):
//
//	file PATH            PATH.EXT, next to the file
//	directory DIR        DIR.EXT, next to the directory (never inside it, so
//	                     the tree's digest does not change); the workspace
//	                     itself or / has no default: give output
//	oci-layout:DIR       DIR.EXT, next to the layout
//	registry image       REPO-TAG.EXT (REPO-sha256-HEX12.EXT for a digest
//	                     reference) in the workspace, REPO being the last
//	                     path element of the repository
//
// The returned path is relative to workspace when the subject's was.
func DefaultOutput(s Subject, f Format, workspace string) (string, error) {
	ext := f.Extension()
	switch s.Kind {
	case KindFile:
		return relIfInside(s.Path+ext, workspace), nil
	case KindDir, KindOCILayout:
		dir := filepath.Clean(s.Path)
		if dir == filepath.Clean(workspace) || dir == filepath.Dir(dir) {
			return "", exitcode.BadInputf("subject %q is the workspace or the root directory, and its SBOM has no default place outside it; describe a subdirectory instead (subject: src), or set output to a file inside the workspace (for example output: source%s)", s.String(), ext)
		}
		return relIfInside(dir+ext, workspace), nil
	case KindRegistry:
		return imageFileName(s.Ref) + ext, nil
	}
	return "", exitcode.Infraf("no default output for unresolved subject %q (internal error)", s.String())
}

var unsafeFileChars = lazyregexp.New(`[^A-Za-z0-9._-]+`)

// imageFileName turns an image reference into a file name.
func imageFileName(ref string) string {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "image"
	}
	repo := r.Context().RepositoryStr()
	base := repo[strings.LastIndex(repo, "/")+1:]
	id := r.Identifier()
	if d, ok := strings.CutPrefix(id, "sha256:"); ok && len(d) >= 12 {
		id = "sha256-" + d[:12]
	}
	return unsafeFileChars.ReplaceAllString(base+"-"+id, "_")
}

func relIfInside(p, workspace string) string {
	n := workspaceName(p, workspace)
	if filepath.IsAbs(filepath.FromSlash(n)) {
		return p
	}
	return filepath.FromSlash(n)
}

// outputPath is the "output" input or its default.
func outputPath(output string, s Subject, f Format, workspace string) (string, error) {
	if output = strings.TrimSpace(output); output != "" {
		if strings.HasSuffix(output, "/") || strings.HasSuffix(output, string(filepath.Separator)) {
			return "", exitcode.BadInputf("output %q is a directory; give a file name such as %s", output, filepath.Join(output, "sbom"+f.Extension()))
		}
		return output, nil
	}
	return DefaultOutput(s, f, workspace)
}
