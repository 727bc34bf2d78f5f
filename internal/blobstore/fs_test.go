package blobstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/digest"
)

func newFS(t *testing.T, root string) *FS {
	t.Helper()
	s, err := NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// entries lists the blob directory, temporary files included.
func entries(t *testing.T, s *FS) []string {
	t.Helper()
	es, err := os.ReadDir(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// The FS store passes the conformance suite (its external test,
// fs_external_test.go); here what only the filesystem shows: a stored blob
// is read-only, refused Puts leave no file.
func TestPutFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newFS(t, t.TempDir())
	content := []byte("hello, archive")
	want := digest.SHA256(sha256.Sum256(content))
	if _, err := s.Put(ctx, bytes.NewReader(content), want, 1<<20); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(s.dir, want.Hex()))
	if err != nil || fi.Mode().Perm() != 0o444 {
		t.Fatalf("stored blob: %v, mode %v; want read-only", err, fi.Mode())
	}
	if _, err := s.Put(ctx, bytes.NewReader(content), digest.SHA256{}, 0); err != nil {
		t.Fatal(err)
	}
	other := digest.SHA256(sha256.Sum256([]byte("other")))
	if _, err := s.Put(ctx, strings.NewReader("x"), other, 0); err == nil {
		t.Fatal("Put with a wrong digest: no error")
	}
	if _, err := s.Put(ctx, strings.NewReader("xx"), digest.SHA256{}, 1); err == nil {
		t.Fatal("Put over the limit: no error")
	}
	if got := entries(t, s); len(got) != 1 || got[0] != want.Hex() {
		t.Errorf("blob directory holds %v, want only %s", got, want.Hex())
	}
}

func TestStaleTempsRemoved(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	s := newFS(t, root)
	stale := filepath.Join(s.dir, tempPrefix+"123")
	if err := os.WriteFile(stale, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	newFS(t, root)
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the partial blob a crash left is still there: %v", err)
	}
}

// A full filesystem: a clear error, and no partial file. Needs root to
// mount a 1 MiB tmpfs.
func TestPutFullDisk(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (mount refused: %v: %s); the full-disk path is untested here", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	s := newFS(t, dir)
	small := []byte("fits")
	if _, err := s.Put(context.Background(), bytes.NewReader(small), digest.SHA256{}, 0); err != nil {
		t.Fatal(err)
	}
	_, err := s.Put(context.Background(), io.LimitReader(zeros{}, 4<<20), digest.SHA256{}, 0)
	if !errors.Is(err, ErrNoSpace) || !strings.Contains(err.Error(), "free space there") {
		t.Fatalf("Put on a full disk: %v, want ErrNoSpace saying what to do", err)
	}
	if got := entries(t, s); len(got) != 1 {
		t.Errorf("after the full disk the blob directory holds %v, want only the first blob", got)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
