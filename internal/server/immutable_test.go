package server

import (
	"crypto/sha256"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/token"
)

// A stored blob is never rewritten or deleted through the API: it is
// read-only on disk; no method on its path changes it; uploading the same
// bytes again leaves the very same file (same inode, same mtime); other
// bytes announced under its digest are refused.
func TestStoredBlobNeverRewritten(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	h, _ := blobServer(t, root, 0)
	tok := h.token(t, "ci", token.Upload, token.Read)
	content := []byte("admitted once, kept as it is")
	d := digest.SHA256(sha256.Sum256(content))
	upload := func(body []byte) (*http.Response, string) {
		resp, b := send(t, "POST", h.url+uploadPrefix, tok, nil, nil)
		want(t, resp, b, http.StatusAccepted, "", "")
		return send(t, "PUT", h.url+resp.Header.Get("Location")+"?digest="+d.String(), tok, body, chunk(0, body))
	}
	resp, body := upload(content)
	want(t, resp, body, http.StatusCreated, "Docker-Content-Digest", d.String())

	path := filepath.Join(root, "blobs", "sha256", d.Hex())
	before, err := os.Stat(path)
	if err != nil || before.Mode().Perm() != 0o444 {
		t.Fatalf("stored blob: %v, mode %v; want read-only 0444", err, before.Mode().Perm())
	}
	for _, method := range []string{"DELETE", "PUT", "PATCH", "POST"} {
		resp, body := send(t, method, h.url+blobPrefix+d.String(), tok, []byte("other bytes"), nil)
		if resp.StatusCode < 400 {
			t.Errorf("%s %s%s = %d %s, want a refusal", method, blobPrefix, d, resp.StatusCode, body)
		}
	}
	resp, body = upload(content)
	want(t, resp, body, http.StatusCreated, "", "")
	resp, body = upload([]byte("other bytes, same announced digest"))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "DIGEST_INVALID") {
		t.Errorf("other bytes under the stored digest: %d %s, want 400 DIGEST_INVALID", resp.StatusCode, body)
	}

	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) || after.Mode() != before.Mode() {
		t.Errorf("the blob file changed: same file %v, mtime %s → %s, mode %v → %v",
			os.SameFile(before, after), before.ModTime(), after.ModTime(), before.Mode(), after.Mode())
	}
	if got, _, err := digest.File(path); err != nil || got != d {
		t.Errorf("the blob's content: %s, %v; want %s", got, err, d)
	}
}
