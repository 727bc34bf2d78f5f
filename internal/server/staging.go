package server

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
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
	idle []string
}

// take returns an empty directory under root: an idle one, or a new one.
func (s *stagingDirs) take(root string) (string, error) {
	s.mu.Lock()
	if n := len(s.idle); n > 0 {
		dir := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		return dir, nil
	}
	s.mu.Unlock()
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", fmt.Errorf("creating the staging directory %q: %w", root, err)
	}
	dir, err := os.MkdirTemp(root, "admit-")
	if err != nil {
		return "", fmt.Errorf("creating a staging directory in %q: %w", root, err)
	}
	return dir, nil
}

// put empties dir and keeps it, or removes it when it cannot be emptied
// or enough are kept: a directory is reused only once it is empty.
func (s *stagingDirs) put(dir string) {
	entries, err := os.ReadDir(dir)
	for _, e := range entries {
		if err == nil {
			err = os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
	s.mu.Lock()
	if err == nil && len(s.idle) < maxIdleStaging {
		s.idle = append(s.idle, dir)
		dir = ""
	}
	s.mu.Unlock()
	if dir != "" {
		s.drop(dir)
	}
}

// drop removes dir and everything in it.
func (s *stagingDirs) drop(dir string) { os.RemoveAll(dir) }
