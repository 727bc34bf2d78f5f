package server

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/slipway/actions/internal/workspace"
)

// maxIdleStaging bounds the empty staging directories kept for reuse.
const maxIdleStaging = 256

// stagingDirs keeps emptied staging directories for the next admissions.
// Creating and removing a directory for every admission cost more CPU and
// time than the rest of staging (a block allocated and freed, and
// discarded on a filesystem mounted with discard); emptying one costs an
// unlink per file, which a hard link to a blob makes cheap.
type stagingDirs struct {
	mu   sync.Mutex
	idle []stagingDir
}

// stagingDir is one staging directory and its workspace root, resolved
// once when the directory is made (resolving it again for every admission
// cost a system call per component of its path): the directory is the
// server's own, under its data directory, and stays where it is.
type stagingDir struct {
	path string
	root *workspace.Root
	// placed are the names in the directory that staging may have made
	// (the first element of each record's path): all that is in it, since
	// nothing else writes there. Emptying the directory removes them,
	// without listing it.
	placed []string
}

// take returns an empty directory under root: an idle one, or a new one.
func (s *stagingDirs) take(root string) (stagingDir, error) {
	s.mu.Lock()
	if n := len(s.idle); n > 0 {
		d := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		return d, nil
	}
	s.mu.Unlock()
	if err := os.MkdirAll(root, 0o700); err != nil {
		return stagingDir{}, fmt.Errorf("creating the staging directory %q: %w", root, err)
	}
	dir, err := os.MkdirTemp(root, "admit-")
	if err != nil {
		return stagingDir{}, fmt.Errorf("creating a staging directory in %q: %w", root, err)
	}
	ws, err := workspace.New(dir)
	if err != nil {
		os.RemoveAll(dir)
		return stagingDir{}, err
	}
	return stagingDir{path: dir, root: ws}, nil
}

// put empties d and keeps it, or removes it when it cannot be emptied or
// enough are kept: a directory is reused only once it is empty.
func (s *stagingDirs) put(d stagingDir) {
	var err error
	for _, name := range d.placed {
		if err == nil {
			err = os.RemoveAll(filepath.Join(d.path, name))
		}
	}
	d.placed = d.placed[:0]
	s.mu.Lock()
	keep := err == nil && len(s.idle) < maxIdleStaging
	if keep {
		s.idle = append(s.idle, d)
	}
	s.mu.Unlock()
	if !keep {
		s.drop(d)
	}
}

// drop removes d and everything in it.
func (s *stagingDirs) drop(d stagingDir) { os.RemoveAll(d.path) }
