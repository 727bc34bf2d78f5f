package tlog

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/client"
)

func TestHandler(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	dir := filepath.Join(data, "log")
	// The key inside the served directory: it must still not be served.
	l := openTest(t, dir, Options{Origin: "slipway.test/serve", KeyFile: filepath.Join(dir, "log.key")})
	for i := range 300 {
		if i%100 == 99 {
			if _, err := l.Append(context.Background(), testEntry(t, i, "a", "x")); err != nil {
				t.Fatal(err)
			}
		} else {
			l.appender.Add(context.Background(), tessera.NewEntry([]byte{byte(i)}))
		}
	}
	secret := filepath.Join(data, "secret")
	write(t, secret, "secret")
	if err := os.Symlink(secret, filepath.Join(dir, "tile", "0", "999")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "tile", "0", "x999"), 0o755); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.StripPrefix("/log", Handler(dir)))
	defer srv.Close()

	for _, tc := range []struct {
		method, path string
		status       int
		body         string // a substring of the body, for 200
	}{
		{"GET", "/log/checkpoint", 200, "slipway.test/serve\n"},
		{"HEAD", "/log/checkpoint", 200, ""},
		{"GET", "/log/tile/0/000", 200, ""},
		{"GET", "/log/tile/entries/000", 200, ""},
		{"GET", "/log/tile/1/000.p/1", 200, ""},
		{"POST", "/log/checkpoint", 405, ""},
		{"PUT", "/log/tile/0/000", 405, ""},
		{"GET", "/log/log.key", 404, ""},
		{"GET", "/log/log.pub", 404, ""},
		{"GET", "/log/.state/treeState", 404, ""},
		{"GET", "/log/", 404, ""},
		{"GET", "/log/tile/", 404, ""},
		{"GET", "/log/tile/0/", 404, ""},
		{"GET", "/log/tile/0/999", 404, ""},  // a symlink out of the directory
		{"GET", "/log/tile/0/x999", 404, ""}, // not a tile name
		{"GET", "/log/tile/../log.key", 404, ""},
		{"GET", "/log/tile/0/..%2F..%2Flog.key", 404, ""},
		{"GET", "/log/tile%2F0%2F000", 404, ""},
		{"GET", "/log/%63heckpoint", 404, ""},
		{"GET", "/log//checkpoint", 404, ""},
		{"GET", "/log/tile/64/000", 404, ""},
		{"GET", "/log/tile/0/000.p/0", 404, ""},
		{"GET", "/log/tile/0/000.p/256", 404, ""},
		{"GET", "/log/checkpoint/", 404, ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.URL.Opaque = tc.path // send the path exactly as written
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (body %q)", resp.StatusCode, tc.status, body)
			}
			if strings.Contains(string(body), "PRIVATE") || strings.Contains(string(body), "secret") {
				t.Fatalf("served a secret: %q", body)
			}
			if tc.body != "" && !strings.Contains(string(body), tc.body) {
				t.Fatalf("body %q, want it to contain %q", body, tc.body)
			}
		})
	}

	// A tlog-tiles client reads the log through the handler.
	fetcher, err := client.NewHTTPFetcher(mustURL(t, srv.URL+"/log/"), srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	cp, _, _, err := client.FetchCheckpoint(context.Background(), fetcher.ReadCheckpoint, l.Verifier(), l.Origin())
	if err != nil {
		t.Fatal(err)
	}
	pb, err := client.NewProofBuilder(context.Background(), cp.Size, fetcher.ReadTile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pb.InclusionProof(context.Background(), cp.Size-1); err != nil {
		t.Fatal(err)
	}
}

// FuzzHandlerPath sends any path to the handler of a log directory that
// also holds a private key and tessera's state: it serves only tlog-tiles
// names, and never the key.
func FuzzHandlerPath(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "log")
	l, err := Open(context.Background(), dir, Options{Origin: "slipway.test/fuzz", KeyFile: filepath.Join(dir, "log.key")})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := l.Append(context.Background(), testEntry(f, 1, "a", "a")); err != nil {
		f.Fatal(err)
	}
	if err := l.Close(context.Background()); err != nil {
		f.Fatal(err)
	}
	h := Handler(dir)
	for _, p := range []string{"/checkpoint", "/tile/0/000.p/1", "/tile/entries/000.p/1", "/log.key", "/tile/../log.key", "/.state/treeState", "/%2e%2e/log.key"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		u, err := url.Parse(p)
		if err != nil || !strings.HasPrefix(p, "/") {
			return
		}
		req := httptest.NewRequest(http.MethodGet, "http://log.test/", nil)
		req.URL = u
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		body := w.Body.String()
		if strings.Contains(body, "PRIVATE+KEY") {
			t.Fatalf("%q served the private key", p)
		}
		if w.Code == http.StatusOK && !publicPath.MatchString(strings.TrimPrefix(u.Path, "/")) {
			t.Fatalf("%q served %q, which is not a tlog-tiles name", p, u.Path)
		}
	})
}
