package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/token"
)

// blobServer serves uploads into blob store dirs under root (shared by a
// second server in a restart test).
func blobServer(t *testing.T, root string, limit int64) (*harness, *blobstore.FS) {
	t.Helper()
	return blobServerConfig(t, root, Config{MaxBlobSize: limit})
}

// blobServerTTL is blobServer with an upload TTL.
func blobServerTTL(t *testing.T, root string, ttl time.Duration) (*harness, *blobstore.FS) {
	t.Helper()
	return blobServerConfig(t, root, Config{UploadTTL: ttl})
}

func blobServerConfig(t *testing.T, root string, cfg Config) (*harness, *blobstore.FS) {
	t.Helper()
	blobs, err := blobstore.NewFS(filepath.Join(root, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Blobs, cfg.Uploads = blobs, filepath.Join(root, "uploads")
	return start(t, cfg), blobs
}

// send makes one request and returns the answer with its body read.
func send(t *testing.T, method, url, auth string, body []byte, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func chunk(start int, b []byte) map[string]string {
	return map[string]string{"Content-Type": "application/octet-stream", "Content-Range": fmt.Sprintf("%d-%d", start, start+len(b)-1)}
}

func want(t *testing.T, resp *http.Response, body string, status int, header, value string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s %s = %d %s, want %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, body, status)
	}
	if header != "" && resp.Header.Get(header) != value {
		t.Fatalf("%s %s: %s = %q, want %q", resp.Request.Method, resp.Request.URL.Path, header, resp.Header.Get(header), value)
	}
}

func TestBlobUploadChunked(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	h, blobs := blobServer(t, root, 0)
	tok := h.token(t, "ci", token.Upload)
	content := make([]byte, 300<<10)
	rand.Read(content)
	d := digest.SHA256(sha256.Sum256(content))

	resp, body := send(t, "HEAD", h.url+blobPrefix+d.String(), tok, nil, nil)
	want(t, resp, body, http.StatusNotFound, "", "")
	resp, body = send(t, "POST", h.url+uploadPrefix, tok, nil, nil)
	want(t, resp, body, http.StatusAccepted, "Range", "0-0")
	loc := h.url + resp.Header.Get("Location")

	resp, body = send(t, "PATCH", loc, tok, content[:100<<10], chunk(0, content[:100<<10]))
	want(t, resp, body, http.StatusAccepted, "Range", fmt.Sprintf("0-%d", 100<<10-1))
	// A chunk that does not start where the upload stands: 416 and where it does.
	resp, body = send(t, "PATCH", loc, tok, content[200<<10:], chunk(200<<10, content[200<<10:]))
	want(t, resp, body, http.StatusRequestedRangeNotSatisfiable, "Range", fmt.Sprintf("0-%d", 100<<10-1))
	if !strings.Contains(body, "BLOB_UPLOAD_INVALID") || !strings.Contains(body, "starts at byte 204800") {
		t.Fatalf("416 body = %s", body)
	}
	resp, body = send(t, "GET", loc, tok, nil, nil)
	want(t, resp, body, http.StatusNoContent, UploadOffsetHeader, fmt.Sprint(100<<10))
	// The rest as a stream (no Content-Range), then PUT with none.
	resp, body = send(t, "PATCH", loc, tok, content[100<<10:], nil)
	want(t, resp, body, http.StatusAccepted, UploadOffsetHeader, fmt.Sprint(len(content)))
	resp, body = send(t, "PUT", loc+"?digest="+d.String(), tok, nil, nil)
	want(t, resp, body, http.StatusCreated, "Docker-Content-Digest", d.String())

	resp, body = send(t, "HEAD", h.url+blobPrefix+d.String(), tok, nil, nil)
	want(t, resp, body, http.StatusOK, "Content-Length", fmt.Sprint(len(content)))
	got, err := blobs.Stat(context.Background(), d)
	if err != nil || got.Size != int64(len(content)) {
		t.Fatalf("stored blob = %+v, %v", got, err)
	}
	resp, body = send(t, "GET", loc, tok, nil, nil)
	want(t, resp, body, http.StatusNotFound, "", "")
	if m, _ := filepath.Glob(filepath.Join(root, "uploads", "*")); len(m) != 0 {
		t.Fatalf("uploads left behind: %v", m)
	}
}

// TestBlobUploadResumeAfterRestart: a partial upload survives the server
// and is finished by the next one (which hashes the partial file once).
func TestBlobUploadResumeAfterRestart(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	content := make([]byte, 1<<20)
	rand.Read(content)
	d := digest.SHA256(sha256.Sum256(content))

	h1, _ := blobServer(t, root, 0)
	tok1 := h1.token(t, "ci", token.Upload)
	resp, body := send(t, "POST", h1.url+uploadPrefix, tok1, nil, nil)
	want(t, resp, body, http.StatusAccepted, "", "")
	loc := resp.Header.Get("Location")
	resp, body = send(t, "PATCH", h1.url+loc, tok1, content[:600<<10], chunk(0, content[:600<<10]))
	want(t, resp, body, http.StatusAccepted, "", "")
	h1.cancel()
	<-h1.done
	h1.done <- nil // for the cleanup

	h2, blobs := blobServer(t, root, 0)
	tok2 := h2.token(t, "ci", token.Upload)
	resp, body = send(t, "GET", h2.url+loc, tok2, nil, nil)
	want(t, resp, body, http.StatusNoContent, "Range", fmt.Sprintf("0-%d", 600<<10-1))
	rest := content[600<<10:]
	resp, body = send(t, "PUT", h2.url+loc+"?digest="+d.String(), tok2, rest, chunk(600<<10, rest))
	want(t, resp, body, http.StatusCreated, "Location", blobPrefix+d.String())
	if _, err := blobs.Stat(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

func TestBlobUploadRefusals(t *testing.T) {
	t.Parallel()
	h, blobs := blobServer(t, t.TempDir(), 1000)
	tok := h.token(t, "ci", token.Upload)
	reader := h.token(t, "auditor", token.Read)
	newUpload := func() string {
		resp, body := send(t, "POST", h.url+uploadPrefix, tok, nil, nil)
		want(t, resp, body, http.StatusAccepted, "", "")
		return h.url + resp.Header.Get("Location")
	}
	content := []byte("what the build wrote")
	d := digest.SHA256(sha256.Sum256(content))
	for _, tc := range []struct {
		name   string
		do     func() (*http.Response, string)
		status int
		code   string
		text   string
	}{
		{"unauthenticated", func() (*http.Response, string) { return send(t, "POST", h.url+uploadPrefix, "", nil, nil) }, 401, "UNAUTHORIZED", "Bearer"},
		{"wrong scope", func() (*http.Response, string) { return send(t, "POST", h.url+uploadPrefix, reader, nil, nil) }, 403, "DENIED", `no scope "upload"`},
		{"wrong digest", func() (*http.Response, string) {
			loc := newUpload()
			other := digest.SHA256(sha256.Sum256([]byte("another file")))
			return send(t, "PUT", loc+"?digest="+other.String(), tok, content, chunk(0, content))
		}, 400, "DIGEST_INVALID", "the upload is discarded"},
		{"no digest", func() (*http.Response, string) { return send(t, "PUT", newUpload()+"?digest=md5:x", tok, nil, nil) }, 400, "DIGEST_INVALID", "sha256"},
		{"oversized announced", func() (*http.Response, string) {
			big := make([]byte, 1001)
			return send(t, "PATCH", newUpload(), tok, big, chunk(0, big))
		}, 413, "SIZE_INVALID", "limit of 1000 bytes"},
		{"oversized streamed", func() (*http.Response, string) {
			loc := newUpload()
			send(t, "PATCH", loc, tok, make([]byte, 600), nil)
			return send(t, "PATCH", loc, tok, make([]byte, 600), nil)
		}, 413, "SIZE_INVALID", "--max-blob-size"},
		{"bad range", func() (*http.Response, string) {
			return send(t, "PATCH", newUpload(), tok, content, map[string]string{"Content-Range": "bytes=5-1"})
		}, 416, "BLOB_UPLOAD_INVALID", "ends before it starts"},
		{"range and length differ", func() (*http.Response, string) {
			return send(t, "PATCH", newUpload(), tok, content, map[string]string{"Content-Range": "0-3"})
		}, 416, "BLOB_UPLOAD_INVALID", "Content-Length"},
		{"unknown upload", func() (*http.Response, string) {
			return send(t, "GET", h.url+uploadPrefix+"00000000-0000-4000-8000-000000000000", tok, nil, nil)
		}, 404, "BLOB_UPLOAD_UNKNOWN", "POST"},
		{"traversal", func() (*http.Response, string) {
			return send(t, "GET", h.url+uploadPrefix+"..%2f..%2fdb.sqlite", tok, nil, nil)
		}, 404, "BLOB_UPLOAD_UNKNOWN", ""},
		{"monolithic", func() (*http.Response, string) {
			return send(t, "POST", h.url+uploadPrefix+"?digest="+d.String(), tok, content, nil)
		}, 405, "UNSUPPORTED", "PATCH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := tc.do()
			want(t, resp, body, tc.status, "", "")
			var e ociErrorBody
			if err := json.Unmarshal([]byte(body), &e); err != nil || len(e.Errors) != 1 || e.Errors[0].Code != tc.code || !strings.Contains(e.Errors[0].Message, tc.text) {
				t.Fatalf("body = %s (%v), want code %s with %q", body, err, tc.code, tc.text)
			}
		})
	}
	if _, err := blobs.Stat(context.Background(), d); err == nil {
		t.Fatal("a refused upload was stored")
	}
}

// TestBlobUploadOCIClient pushes layers with go-containerregistry, a real
// OCI client, through the server's /v2 API.
func TestBlobUploadOCIClient(t *testing.T) {
	t.Parallel()
	h, blobs := blobServer(t, t.TempDir(), 0)
	tok := h.token(t, "ci", token.Upload)
	repo, err := name.NewRepository(strings.TrimPrefix(h.url, "http://")+"/slipway", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second time, HEAD finds the blob stored
		layer, err := random.Layer(256<<10, "application/octet-stream")
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.WriteLayer(repo, layer, remote.WithAuth(&authn.Bearer{Token: tok})); err != nil {
			t.Fatalf("remote.WriteLayer: %v", err)
		}
		ld, _ := layer.Digest()
		d, err := digest.Parse(ld.String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := blobs.Stat(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		if err := remote.WriteLayer(repo, layer, remote.WithAuth(&authn.Bearer{Token: tok})); err != nil {
			t.Fatalf("remote.WriteLayer again: %v", err)
		}
	}
}

func TestParseContentRange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in            string
		start, length int64
		err           string
	}{
		{"0-0", 0, 1, ""},
		{"0-1048575", 0, 1 << 20, ""},
		{"bytes 10-19", 10, 10, ""},
		{"bytes=10-19", 10, 10, ""},
		{"10", 0, 0, "not FIRST-LAST"},
		{"-1-5", 0, 0, "whole numbers"},
		{"+1-5", 0, 0, "whole numbers"},
		{"5-4", 0, 0, "ends before"},
		{"0-99999999999999999999", 0, 0, "whole numbers"},
		{"", 0, 0, "not FIRST-LAST"},
	} {
		start, n, err := parseContentRange(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseContentRange(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || start != tc.start || n != tc.length {
			t.Errorf("parseContentRange(%q) = %d, %d, %v; want %d, %d", tc.in, start, n, err, tc.start, tc.length)
		}
	}
}

func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"0-0", "0-1048575", "bytes 1-2", "5-4", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start, n, err := parseContentRange(s)
		if err == nil && (start < 0 || n < 1) {
			t.Fatalf("parseContentRange(%q) = %d, %d", s, start, n)
		}
	})
}
