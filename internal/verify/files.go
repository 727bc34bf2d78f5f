package verify

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/slipway/actions/internal/regfile"
)

// openFile opens a file of subject s (the subject, a bundle, an SBOM) for
// reading. Only a regular file is opened, without ever blocking on a FIFO;
// when s.Workspace is set the file must be inside it, also through symbolic
// links, so that a manifest cannot make verify read anything else.
func openFile(s Subject, path string) (*os.File, error) {
	if s.Workspace == "" {
		return regfile.Open(path)
	}
	rel, err := filepath.Rel(s.Workspace, path)
	if err != nil || !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("%q is outside the workspace %q; a manifest names files inside the workspace only", path, s.Workspace)
	}
	if s.root != nil {
		return regfile.OpenIn(s.root, filepath.ToSlash(rel))
	}
	root, err := os.OpenRoot(s.Workspace)
	if err != nil {
		return nil, fmt.Errorf("opening the workspace: %w", err)
	}
	defer root.Close() // files opened from it stay open
	return regfile.OpenIn(root, filepath.ToSlash(rel))
}
