package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// Write creates or replaces path with what fill writes. The file gets mode
// perm. If fill or any step fails, path is left untouched and the temporary
// file is removed.
func Write(path string, perm os.FileMode, fill func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating directory %q: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating temporary file for %q: %w", path, err)
	}
	tmp := f.Name()
	track(tmp, true)
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
		track(tmp, false)
	}()
	if err := fill(f); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("setting mode of %q: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %q: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %q: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("renaming into place %q: %w", path, err)
	}
	done(path)
	return syncDir(dir)
}

// WriteFile is Write for content already in memory.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening directory %q to sync it: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("syncing directory %q: %w", dir, err)
	}
	return nil
}

// The process's writes: temporary files being filled, and the files
// written, so that a process that must exit at once (a second signal) can
// remove the former and say which the latter are.
var state struct {
	sync.Mutex
	temps   map[string]bool
	written []string
}

func track(tmp string, open bool) {
	state.Lock()
	defer state.Unlock()
	if state.temps == nil {
		state.temps = map[string]bool{}
	}
	if open {
		state.temps[tmp] = true
	} else {
		delete(state.temps, tmp)
	}
}

func done(path string) {
	state.Lock()
	defer state.Unlock()
	state.written = append(state.written, path)
}

// Written returns the files this process has written with Write, in order.
func Written() []string {
	state.Lock()
	defer state.Unlock()
	return append([]string(nil), state.written...)
}

// RemoveTemps removes the temporary files of writes still in progress, for
// a process about to exit without letting them finish.
func RemoveTemps() {
	state.Lock()
	defer state.Unlock()
	for tmp := range state.temps {
		os.Remove(tmp)
		delete(state.temps, tmp)
	}
}
