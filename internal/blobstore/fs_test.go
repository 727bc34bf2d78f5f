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

func TestPutOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newFS(t, t.TempDir())
	content := []byte("hello, archive")
	want := digest.SHA256(sha256.Sum256(content))

	b, err := s.Put(ctx, bytes.NewReader(content), want, 1<<20)
	if err != nil || b.Digest != want || b.Size != int64(len(content)) || b.Existed {
		t.Fatalf("Put = %+v, %v", b, err)
	}
	fi, err := os.Stat(filepath.Join(s.dir, want.Hex()))
	if err != nil || fi.Mode().Perm() != 0o444 {
		t.Fatalf("stored blob: %v, mode %v; want read-only", err, fi.Mode())
	}
	// The same content again, with no announced digest: stored once.
	b, err = s.Put(ctx, bytes.NewReader(content), digest.SHA256{}, 0)
	if err != nil || !b.Existed || b.Digest != want {
		t.Fatalf("second Put = %+v, %v", b, err)
	}
	if got := entries(t, s); len(got) != 1 || got[0] != want.Hex() {
		t.Errorf("blob directory holds %v, want only %s", got, want.Hex())
	}

	r, err := s.Open(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != int64(len(content)) {
		t.Errorf("Size() = %d", r.Size())
	}
	if _, err := r.Seek(7, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if rest, _ := io.ReadAll(r); string(rest) != "archive" {
		t.Errorf("read from offset 7: %q", rest)
	}
	if st, err := s.Stat(ctx, want); err != nil || st.Size != int64(len(content)) {
		t.Errorf("Stat = %+v, %v", st, err)
	}
	missing := digest.SHA256(sha256.Sum256([]byte("nope")))
	if _, err := s.Open(ctx, missing); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open(missing) = %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(ctx, missing); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat(missing) = %v, want ErrNotFound", err)
	}
}

func TestPutRefusals(t *testing.T) {
	t.Parallel()
	content := strings.Repeat("x", 1000)
	other := digest.SHA256(sha256.Sum256([]byte("other")))
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name  string
		ctx   context.Context
		want  digest.SHA256
		limit int64
		check func(error) bool
	}{
		{"over the limit", context.Background(), digest.SHA256{}, 999, func(err error) bool {
			var tl *TooLargeError
			return errors.As(err, &tl) && tl.Limit == 999 && strings.Contains(err.Error(), "limit of 999 bytes")
		}},
		{"digest mismatch", context.Background(), other, 0, func(err error) bool {
			var m *MismatchError
			return errors.As(err, &m) && m.Want == other && m.Size == 1000
		}},
		{"cancelled", cancelled, digest.SHA256{}, 0, func(err error) bool { return errors.Is(err, context.Canceled) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFS(t, t.TempDir())
			_, err := s.Put(tt.ctx, strings.NewReader(content), tt.want, tt.limit)
			if !tt.check(err) {
				t.Fatalf("Put error = %v", err)
			}
			if got := entries(t, s); len(got) != 0 {
				t.Errorf("a refused Put left %v", got)
			}
		})
	}
	t.Run("exactly the limit", func(t *testing.T) {
		t.Parallel()
		s := newFS(t, t.TempDir())
		if _, err := s.Put(context.Background(), strings.NewReader(content), digest.SHA256{}, 1000); err != nil {
			t.Fatal(err)
		}
	})
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
