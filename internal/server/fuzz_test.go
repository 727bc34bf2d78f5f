package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/store/sqlite"
	"github.com/slipway/actions/internal/testutil/logbuf"
	"github.com/slipway/actions/internal/token"
)

// FuzzRequest sends requests with any Authorization header, request id and
// artifact path: the server answers with a status it documents, never
// panics, and never puts the presented credentials in its answer or log.
func FuzzRequest(f *testing.F) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "db.sqlite"))
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	blobs, err := blobstore.NewFS(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	tokens := token.NewManager(db, token.WithParams(cheap))
	valid, _, err := tokens.Create(ctx, token.CreateOptions{Name: "fuzz", Scopes: []token.Scope{token.Read}})
	if err != nil {
		f.Fatal(err)
	}
	log := &logbuf.Buffer{}
	s, err := New(Config{Store: db, Blobs: blobs, Auth: tokens, Log: slog.New(slog.NewJSONHandler(log, nil))})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("Bearer "+valid, "sha256:"+strings.Repeat("a", 64), "")
	f.Add("Bearer "+valid[:len(valid)-1]+"b", "sha256:00", "id-1")
	f.Add("Basic Zm9vOmJhcg==", "..%2F..%2Fdb.sqlite", strings.Repeat("x", 65))
	f.Add("bearer", "", "a b")
	f.Fuzz(func(t *testing.T, auth, digestPath, requestID string) {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/artifacts/x", nil)
		req.URL.Path = "/api/v1/artifacts/" + digestPath
		req.URL.RawPath = ""
		req.Header.Set("Authorization", auth)
		req.Header.Set(RequestIDHeader, requestID)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 401, 403, 404, 429:
		case 301, 307, 308: // ServeMux redirects an unclean path (/a/./b) to its clean form
		default:
			t.Fatalf("status %d for Authorization %q, path %q: %s", rec.Code, auth, digestPath, rec.Body)
		}
		if _, secret, ok := strings.Cut(strings.TrimPrefix(auth, "Bearer "), "_"); ok && len(secret) >= 16 {
			if strings.Contains(rec.Body.String(), secret) || strings.Contains(log.String(), secret) {
				t.Fatalf("a presented secret %q is echoed", secret)
			}
		}
		if id := rec.Header().Get(RequestIDHeader); id == "" || len(id) > 64 || !plain(id) {
			t.Fatalf("request id %q", id)
		}
	})
}
