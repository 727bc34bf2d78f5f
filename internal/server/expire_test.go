package server

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/slipway/actions/internal/token"
)

// TestExpireUploads: an upload nobody wrote to for longer than the TTL is
// removed (its client gets 404 and starts over), a fresh one is kept, and
// so is a file that is not an upload.
func TestExpireUploads(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	h, _ := blobServer(t, root, 0)
	tok := h.token(t, "ci", token.Upload)
	old := time.Now().Add(-48 * time.Hour)

	startUpload := func() string {
		resp, body := send(t, "POST", h.url+uploadPrefix, tok, nil, nil)
		want(t, resp, body, http.StatusAccepted, "", "")
		loc := resp.Header.Get("Location")
		resp, body = send(t, "PATCH", h.url+loc, tok, []byte("partial"), chunk(0, []byte("partial")))
		want(t, resp, body, http.StatusAccepted, "", "")
		return loc
	}
	stale, fresh := startUpload(), startUpload()
	uploads := filepath.Join(root, "uploads")
	if err := os.Chtimes(filepath.Join(uploads, filepath.Base(stale)), old, old); err != nil {
		t.Fatal(err)
	}
	// One a previous run of the server left, and a file that is no upload.
	leftover := filepath.Join(uploads, uuid.NewString())
	other := filepath.Join(uploads, "not-an-upload")
	for _, f := range []string{leftover, other} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f, old, old); err != nil {
			t.Fatal(err)
		}
	}

	if n := h.srv.uploads.expire(time.Now().Add(-DefaultUploadTTL)); n != 2 {
		t.Errorf("expire removed %d uploads, want 2 (the stale one and the leftover)", n)
	}
	resp, body := send(t, "GET", h.url+stale, tok, nil, nil)
	want(t, resp, body, http.StatusNotFound, "", "")
	resp, body = send(t, "GET", h.url+fresh, tok, nil, nil)
	want(t, resp, body, http.StatusNoContent, UploadOffsetHeader, "7")
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Errorf("leftover upload %s still there (%v)", leftover, err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("a file that is not an upload was removed: %v", err)
	}
}

// TestServeExpiresUploadsAtStart: Serve removes what a previous run left
// behind beyond the TTL as it starts.
func TestServeExpiresUploadsAtStart(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	uploads := filepath.Join(root, "uploads")
	if err := os.MkdirAll(uploads, 0o700); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(uploads, uuid.NewString())
	if err := os.WriteFile(leftover, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(leftover, old, old); err != nil {
		t.Fatal(err)
	}
	blobServerTTL(t, root, time.Hour)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(leftover); os.IsNotExist(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the upload %s left by a previous run was not removed at start", leftover)
		}
	}
}
