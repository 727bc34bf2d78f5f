package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/server"
	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/token"
)

// TestManifestKeptWithRelease: admission keeps the admitted manifest in
// the release's row, not as a blob; GET …/manifest serves it, and serves
// the blob of a release admitted before (schema version 3 kept it so), or
// a 404 saying why when neither is there.
func TestManifestKeptWithRelease(t *testing.T) {
	t.Parallel()
	var cfg *server.Config
	s := newSigner(t)
	site := startSite(t, s.writePolicy(t, t.TempDir(), ""), func(c *server.Config) { cfg = c })
	up, read := site.token(t, "ci", token.Upload), site.token(t, "reader", token.Read)
	dir := t.TempDir()
	s.release(t, dir, []byte("app 1"), testBuilder, testSource)
	code, a := admit(t, site.url, up, uploadAll(t, site.url, up, dir))
	if code != http.StatusCreated {
		t.Fatalf("admission: %d %+v", code, a)
	}
	ctx := context.Background()
	d, err := digest.Parse(a.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Blobs.Stat(ctx, d); !errors.Is(err, blobstore.ErrNotFound) {
		t.Errorf("the admitted manifest is a blob too (%v): it is kept in the release's row", err)
	}
	kept, err := cfg.Store.ReleaseManifest(ctx, a.ReleaseID)
	if err != nil || sha256.Sum256(kept) != d {
		t.Fatalf("the store's manifest of %q: %d bytes, %v; want the one of digest %s", a.ReleaseID, len(kept), err, a.Manifest)
	}

	// Releases as a schema 3 server recorded them: no manifest in the row,
	// the first with its manifest as a blob, the second without.
	old := []byte(`{"reference":"registry.example/app@sha256:` + strings.Repeat("cd", 32) + `"}`)
	oldDigest := digest.SHA256(sha256.Sum256(old))
	if _, err := cfg.Blobs.Put(ctx, bytes.NewReader(old), oldDigest, 0); err != nil {
		t.Fatal(err)
	}
	for id, md := range map[string]string{"r-0000000000000003": oldDigest.String(), "r-0000000000000004": "sha256:" + strings.Repeat("ab", 32)} {
		if err := cfg.Store.CreateRelease(ctx, store.Release{ID: id, ManifestDigest: md, Uploader: "token:old", Created: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		id   string
		code int
		want string
	}{
		{a.ReleaseID, http.StatusOK, string(kept)},
		{"r-0000000000000003", http.StatusOK, string(old)},
		{"r-0000000000000004", http.StatusNotFound, "admitted before this server kept admitted manifests"},
	} {
		code, body, hdr := do(t, "GET", site.url+"/api/v1/releases/"+tc.id+"/manifest", read, nil)
		if code != tc.code || !strings.Contains(string(body), tc.want) {
			t.Errorf("GET %s/manifest: %d %s; want %d with %q", tc.id, code, body, tc.code, tc.want)
		}
		if code == http.StatusOK && (hdr.Get("Content-Type") != "application/json" || !strings.HasPrefix(hdr.Get("ETag"), `"sha256:`)) {
			t.Errorf("GET %s/manifest: headers %v", tc.id, hdr)
		}
	}
}
