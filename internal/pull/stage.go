package pull

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/workspace"
)

// stage is the temporary directory a release is written and verified in,
// next to the output directory it becomes by a rename.
type stage struct {
	out, dir string
	root     *workspace.Root
	done     bool
}

// checkOutputDir refuses an output directory that exists and is not empty,
// or is not a directory: a release is never merged into other files.
func checkOutputDir(out string) error {
	fi, err := os.Lstat(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return exitcode.Infra(fmt.Errorf("output directory %q: %w", out, err))
	case !fi.IsDir():
		return exitcode.BadInputf("output directory %q exists and is not a directory; give a new directory", out)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return exitcode.Infra(fmt.Errorf("reading output directory %q: %w", out, err))
	}
	if len(entries) > 0 {
		return exitcode.BadInputf("output directory %q is not empty; pull into a new or empty directory (a release is never merged into other files)", out)
	}
	return nil
}

// newStage creates the temporary directory beside out, mode 0700.
func newStage(out string) (*stage, error) {
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, exitcode.Infra(fmt.Errorf("creating the directory %q: %w", parent, err))
	}
	dir, err := os.MkdirTemp(parent, "."+filepath.Base(out)+".pull-*")
	if err != nil {
		return nil, exitcode.Infra(fmt.Errorf("creating a temporary directory in %q: %w", parent, err))
	}
	root, err := workspace.New(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, exitcode.Infra(err)
	}
	return &stage{out: out, dir: dir, root: root}, nil
}

// path is where name goes in the stage.
func (s *stage) path(name string) string { return filepath.Join(s.dir, filepath.FromSlash(name)) }

// create makes the new file name (a checked name, see checkName) and the
// directories above it. The name is resolved inside the stage through the
// workspace rules as well, and the file must not exist.
func (s *stage) create(name string) (*os.File, error) {
	p, err := s.root.Resolve(filepath.FromSlash(name))
	if err != nil {
		return nil, &contentError{fmt.Sprintf("%q cannot be written inside the output directory: %v", name, err)}
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, &fileError{err}
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, &fileError{err}
	}
	return f, nil
}

// write creates name with data.
func (s *stage) write(name string, data []byte) error {
	f, err := s.create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return &fileError{err}
	}
	return closeSynced(f)
}

func closeSynced(f *os.File) error {
	if err := f.Sync(); err != nil {
		f.Close()
		return &fileError{err}
	}
	if err := f.Close(); err != nil {
		return &fileError{err}
	}
	return nil
}

// commit renames the stage into place: the output directory appears whole.
func (s *stage) commit() error {
	if err := os.Chmod(s.dir, 0o755); err != nil {
		return exitcode.Infra(fmt.Errorf("setting the mode of %q: %w", s.dir, err))
	}
	// os.Rename refuses an existing directory as its target; an empty one
	// (checked by checkOutputDir) is removed first, and if something fills
	// it meanwhile, the removal fails.
	if err := os.Remove(s.out); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return exitcode.Failuref("output directory %q was filled by something else during the pull; nothing was written: pull into a new directory", s.out)
	}
	if err := os.Rename(s.dir, s.out); err != nil {
		if errors.Is(err, fs.ErrExist) || errors.Is(err, errNotEmpty) {
			return exitcode.Failuref("output directory %q was filled by something else during the pull; nothing was written: pull into a new directory", s.out)
		}
		return exitcode.Infra(fmt.Errorf("moving the verified release into %q: %w", s.out, err))
	}
	s.done = true
	if d, err := os.Open(filepath.Dir(s.out)); err == nil {
		_ = d.Sync() // durability of the rename; the files are synced
		d.Close()
	}
	return nil
}

// errNotEmpty is rename's error for a target directory that is not empty.
var errNotEmpty = syscall.ENOTEMPTY

// cleanup removes the stage unless it was committed.
func (s *stage) cleanup() {
	if !s.done {
		os.RemoveAll(s.dir)
	}
}
