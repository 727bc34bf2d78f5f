package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestWriteTracksWhatItWrote(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "sub", "ok.json")
	before := len(Written())
	if err := WriteFile(ok, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	failed := filepath.Join(dir, "failed.json")
	boom := errors.New("boom")
	if err := Write(failed, 0o644, func(w io.Writer) error { w.Write([]byte("half")); return boom }); !errors.Is(err, boom) {
		t.Fatalf("Write = %v", err)
	}
	if got := Written()[before:]; !slices.Contains(got, ok) || slices.Contains(got, failed) {
		t.Errorf("Written() = %v, want %q and not %q", got, ok, failed)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "sub" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// RemoveTemps removes the temporary file of a write still in progress, as
// a process that must exit at once does.
func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	inside := make(chan string)
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- Write(filepath.Join(dir, "slow.json"), 0o644, func(w io.Writer) error {
			inside <- w.(*os.File).Name()
			<-release
			return errors.New("stopped")
		})
	}()
	tmp := <-inside
	RemoveTemps()
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary file %q is still there: %v", tmp, err)
	}
	close(release)
	<-done
}
