package server

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/token"
)

func TestGetArtifact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	blobs, err := blobstore.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, Config{Blobs: blobs})
	admitted, err := blobs.Put(ctx, strings.NewReader("0123456789"), digest.SHA256{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	stray, err := blobs.Put(ctx, strings.NewReader("refused"), digest.SHA256{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.db.CreateRelease(ctx, store.Release{ID: "r1", SourceRepository: "github.com/o/r", Uploader: "ci",
		ManifestDigest: "sha256:00", Created: time.Now(),
		Artifacts: []store.Artifact{{Digest: admitted.Digest.String(), Size: admitted.Size, Name: "bin/a"}}}); err != nil {
		t.Fatal(err)
	}
	read := "Bearer " + h.token(t, "reader", token.Read)
	upload := "Bearer " + h.token(t, "uploader", token.Upload)

	tests := []struct {
		name, path, auth, rng string
		status                int
		body                  string
	}{
		{"whole", admitted.Digest.String(), read, "", 200, "0123456789"},
		{"range", admitted.Digest.String(), read, "bytes=2-4", 206, "234"},
		{"suffix range", admitted.Digest.String(), read, "bytes=-3", 206, "789"},
		{"open range", admitted.Digest.String(), read, "bytes=7-", 206, "789"},
		{"range past the end", admitted.Digest.String(), read, "bytes=20-30", 416, ""},
		{"no token", admitted.Digest.String(), "", "", 401, ""},
		{"wrong scope", admitted.Digest.String(), upload, "", 403, ""},
		{"stored but not admitted", stray.Digest.String(), read, "", 404, ""},
		{"malformed digest", "sha256:zz", read, "", 400, ""},
		{"traversal", "..%2f..%2fdb.sqlite", read, "", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodGet, h.url+"/api/v1/artifacts/"+tt.path, nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			if tt.rng != "" {
				req.Header.Set("Range", tt.rng)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.body != "" && string(body) != tt.body {
				t.Errorf("body %q, want %q", body, tt.body)
			}
			if tt.status == 200 && resp.Header.Get("ETag") != `"`+admitted.Digest.String()+`"` {
				t.Errorf("ETag %q", resp.Header.Get("ETag"))
			}
			if tt.status == 206 && resp.Header.Get("Content-Range") == "" {
				t.Error("206 without Content-Range")
			}
		})
	}
	// A client holding the artifact asks again: 304, no body.
	req, _ := http.NewRequest(http.MethodGet, h.url+"/api/v1/artifacts/"+admitted.Digest.String(), nil)
	req.Header.Set("Authorization", read)
	req.Header.Set("If-None-Match", `"`+admitted.Digest.String()+`"`)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match with its digest: %d, want 304", resp.StatusCode)
	}
}
