package upload

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/timeouts"
	"github.com/slipway/actions/internal/tlog/receipt"
)

const testToken = "slw_test_0123456789abcdef"

// release writes a workspace with an artifact of size bytes and its
// signature, and their manifest at dist/manifest.json.
func release(t *testing.T, size int) (dir string, app []byte) {
	t.Helper()
	dir = t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "dist"), 0o755); err != nil {
		t.Fatal(err)
	}
	app = make([]byte, size)
	rand.Read(app)
	sig := []byte("a signature of dist/app\n")
	m := artifact.NewManifest()
	ad := digest.SHA256(sha256.Sum256(app))
	m.Add(artifact.Record{Name: "dist/app", Path: "dist/app", Digest: ad, Size: int64(len(app)), MediaType: "application/octet-stream", Role: artifact.RoleArtifact})
	m.Add(artifact.Record{Name: "dist/app.sig", Path: "dist/app.sig", Digest: digest.SHA256(sha256.Sum256(sig)), Size: int64(len(sig)),
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", Role: artifact.RoleSignature, Describes: ad})
	for name, b := range map[string][]byte{"dist/app": app, "dist/app.sig": sig} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.WriteFile(filepath.Join(dir, "dist", "manifest.json")); err != nil {
		t.Fatal(err)
	}
	return dir, app
}

func options(srv *httptest.Server, dir string) Options {
	return Options{
		Server: srv.URL, Manifest: "dist/manifest.json", Dir: dir,
		Token:     func(context.Context) (string, error) { return testToken, nil },
		HTTP:      timeouts.Config{Connect: 2 * time.Second, Response: 5 * time.Second}.Client("control plane"),
		ChunkSize: 64 << 10,
		Retry:     Retry{Attempts: 3, Pause: time.Millisecond},
	}
}

func TestUploadAdmitsAndRecordsReceipts(t *testing.T) {
	t.Parallel()
	w, srv := newWire(t, testToken)
	dir, app := release(t, 200<<10+7) // four chunks of 64 KiB, the last one short
	res, err := Upload(t.Context(), options(srv, dir))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || !strings.HasPrefix(res.ID, "r-") {
		t.Fatalf("result %+v: want a new release", res.Release)
	}
	if got := w.count("PATCH "); got != 5 {
		t.Errorf("PATCH requests = %d, want 5 (dist/app: 200 KiB in chunks of 64 KiB; dist/app.sig: one)", got)
	}
	stored, err := os.ReadFile(w.blob(digest.SHA256(sha256.Sum256(app)).String()))
	if err != nil || !bytes.Equal(stored, app) {
		t.Fatalf("the server does not hold dist/app as sent (%v)", err)
	}
	wantPath := filepath.Join(dir, "dist", res.ID+".receipt")
	if res.ReceiptPath != wantPath {
		t.Errorf("receipt path %q, want %q", res.ReceiptPath, wantPath)
	}
	text, err := os.ReadFile(wantPath)
	if err != nil || string(text) != res.Receipt {
		t.Fatalf("receipt file: %v", err)
	}
	rc, err := receipt.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if err := receipt.Verify(rc, nil, w.log.Verifier()); err != nil {
		t.Fatalf("the receipt written does not verify under the log's key: %v", err)
	}
	m, err := artifact.ReadManifest(filepath.Join(dir, "dist", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	recs := m.ByRole(artifact.RoleReceipt)
	if len(recs) != 1 || recs[0].Path != "dist/app.receipt" || recs[0].Describes != digest.SHA256(sha256.Sum256(app)) {
		t.Fatalf("receipt records %+v, want one for dist/app", recs)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "dist", "app.receipt")); !bytes.Equal(b, text) {
		t.Error("dist/app.receipt is not the release's receipt")
	}

	// Again, with the receipts in the manifest: one release, nothing sent.
	patches := w.count("PATCH ")
	again, err := Upload(t.Context(), options(srv, dir))
	if err != nil {
		t.Fatal(err)
	}
	if again.Created || again.ID != res.ID || again.LogIndex != res.LogIndex {
		t.Errorf("second upload: %+v created=%v, want the first answer again", again.Release, again.Created)
	}
	if got := w.count("PATCH "); got != patches {
		t.Errorf("second upload sent %d chunks, want none", got-patches)
	}
	for _, b := range again.Blobs {
		if b.Transfer != Present {
			t.Errorf("blob %s: %s, want present", b.Name, b.Transfer)
		}
	}
	m2, _ := artifact.ReadManifest(filepath.Join(dir, "dist", "manifest.json"))
	if len(m2.Records) != len(m.Records) {
		t.Errorf("manifest grew from %d to %d records on a second upload", len(m.Records), len(m2.Records))
	}
}

func TestUploadResumesAfterCutConnection(t *testing.T) {
	t.Parallel()
	w, srv := newWire(t, testToken)
	w.cutAfter = 50_000 // the first PATCH: 50,000 bytes arrive, then the connection drops
	dir, app := release(t, 150<<10)
	o := options(srv, dir)
	o.ChunkSize = 128 << 10
	res, err := Upload(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Blobs[0].Resumed != 1 {
		t.Errorf("resumed %d times, want 1", res.Blobs[0].Resumed)
	}
	if got := w.count("GET /v2/slipway/blobs/uploads/"); got != 1 {
		t.Errorf("asked the location %d times, want 1", got)
	}
	stored, err := os.ReadFile(w.blob(digest.SHA256(sha256.Sum256(app)).String()))
	if err != nil || !bytes.Equal(stored, app) {
		t.Fatalf("the resumed blob differs from the file (%v)", err)
	}
}

func TestUploadRetriesBusyServer(t *testing.T) {
	t.Parallel()
	w, srv := newWire(t, testToken)
	w.fail = 2
	dir, _ := release(t, 1000)
	if _, err := Upload(t.Context(), options(srv, dir)); err != nil {
		t.Fatal(err)
	}
	w.fail = 3 // every attempt of the next request
	_, err := Upload(t.Context(), options(srv, dir))
	if exitcode.Of(err) != exitcode.Internal || !strings.Contains(err.Error(), "503") {
		t.Fatalf("error %v (exit %d), want 503 after 3 attempts, exit 3", err, exitcode.Of(err))
	}
}

func TestUploadRefusedRelease(t *testing.T) {
	t.Parallel()
	w, srv := newWire(t, testToken)
	w.refuse = map[string]any{"type": "urn:slipway:problem:check-failed", "title": "Release refused", "check": "provenance.source",
		"subject": "dist/app", "detail": "the provenance names github.com/evil/app, which the policy does not allow; build from an allowed repository"}
	dir, _ := release(t, 1000)
	before, _ := os.ReadFile(filepath.Join(dir, "dist", "manifest.json"))
	_, err := Upload(t.Context(), options(srv, dir))
	if exitcode.Of(err) != exitcode.Failed {
		t.Fatalf("exit %d, want 1: %v", exitcode.Of(err), err)
	}
	for _, want := range []string{`check "provenance.source" failed for "dist/app"`, "build from an allowed repository", "422"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	after, _ := os.ReadFile(filepath.Join(dir, "dist", "manifest.json"))
	if !bytes.Equal(before, after) {
		t.Error("a refused release changed the manifest")
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "dist", "*.receipt")); len(files) > 0 {
		t.Errorf("a refused release wrote receipts %v", files)
	}
}

func TestUploadBadToken(t *testing.T) {
	t.Parallel()
	_, srv := newWire(t, testToken)
	dir, _ := release(t, 10)
	o := options(srv, dir)
	o.Token = func(context.Context) (string, error) { return "slw_wrong_secret", nil }
	_, err := Upload(t.Context(), o)
	if exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "slw_wrong_secret") {
		t.Fatalf("error %v (exit %d): want 401, exit 2, without the token", err, exitcode.Of(err))
	}
}

func TestUploadFreshTokenPerRequest(t *testing.T) {
	t.Parallel()
	w, srv := newWire(t, "")
	dir, _ := release(t, 100<<10)
	o := options(srv, dir)
	var n atomic.Int64
	o.Token = func(context.Context) (string, error) { return fmt.Sprintf("id-token-%d", n.Add(1)), nil }
	if _, err := Upload(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for tok, uses := range w.tokens {
		if uses != 1 {
			t.Errorf("token %q was sent %d times; an OIDC ID token is single-use", tok, uses)
		}
	}
	if len(w.tokens) != len(w.requests) {
		t.Errorf("%d tokens for %d requests", len(w.tokens), len(w.requests))
	}
}

func TestUploadChangedFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(p string) error
		want   string
	}{
		{"other size", func(p string) error { return os.WriteFile(p, []byte("short"), 0o644) }, "changed after the manifest recorded it"},
		{"same size", func(p string) error {
			b, _ := os.ReadFile(p)
			b[0] ^= 1
			return os.WriteFile(p, b, 0o644)
		}, "DIGEST_INVALID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, srv := newWire(t, testToken)
			dir, _ := release(t, 1000)
			if err := tc.change(filepath.Join(dir, "dist", "app")); err != nil {
				t.Fatal(err)
			}
			_, err := Upload(t.Context(), options(srv, dir))
			if exitcode.Of(err) != exitcode.Failed || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "restore the file") {
				t.Fatalf("error %v (exit %d), want %q, exit 1", err, exitcode.Of(err), tc.want)
			}
		})
	}
}

func TestUploadUnreachableServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir, _ := release(t, 10)
	o := options(&httptest.Server{URL: "http://" + addr}, dir)
	_, err = Upload(t.Context(), o)
	if exitcode.Of(err) != exitcode.Internal || !strings.Contains(err.Error(), "check that the server is up") {
		t.Fatalf("error %v (exit %d), want exit 3 saying to check the server", err, exitcode.Of(err))
	}
}

func TestUploadSilentServerNamesTheLimit(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	dir, _ := releaseDir(t)
	o := options(srv, dir)
	o.HTTP = timeouts.Config{Connect: time.Second, Response: 150 * time.Millisecond}.Client("control plane")
	_, err := Upload(t.Context(), o)
	var te *timeouts.Error
	if !errors.As(err, &te) || exitcode.Of(err) != exitcode.Internal || !strings.Contains(err.Error(), "raise timeout") {
		t.Fatalf("error %v (exit %d): want the response limit named, exit 3", err, exitcode.Of(err))
	}
}

func releaseDir(t *testing.T) (string, []byte) { return release(t, 10) }

func TestUploadRefusesLocationElsewhere(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodHead:
			rw.WriteHeader(http.StatusNotFound)
		case http.MethodPost:
			rw.Header().Set("Location", "http://attacker.example/steal")
			rw.WriteHeader(http.StatusAccepted)
		default:
			t.Errorf("%s %s: the client followed a Location to another origin", r.Method, r.URL)
		}
	}))
	defer srv.Close()
	dir, _ := release(t, 10)
	_, err := Upload(t.Context(), options(srv, dir))
	if err == nil || !strings.Contains(err.Error(), "another origin") {
		t.Fatalf("error %v, want the other origin refused", err)
	}
}

func TestServerURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, err string
	}{
		{"https://slipway.example.org", ""},
		{"https://slipway.example.org/prefix/", ""},
		{"http://127.0.0.1:8080", ""},
		{"http://localhost:8080", ""},
		{"http://[::1]:8080", ""},
		{"http://slipway.example.org", "in clear"},
		{"ftp://x", "not the base URL"},
		{"slipway.example.org", "not the base URL"},
		{"https://user:pw@slipway.example.org", "not the base URL"},
		{"", "not the base URL"},
	} {
		_, err := ServerURL(tc.in)
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ServerURL(%q) = %v, want %q", tc.in, err, tc.err)
		}
	}
}

// TestUploadBoundsOutOfRangeAnswers: a server that refuses every chunk as
// out of range, with a Range that cannot be right, does not loop the
// client.
func TestUploadBoundsOutOfRangeAnswers(t *testing.T) {
	t.Parallel()
	var patches atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodHead:
			rw.WriteHeader(http.StatusNotFound)
		case http.MethodPost:
			rw.Header().Set("Location", "/v2/slipway/blobs/uploads/u")
			rw.Header().Set("Range", "0-0")
			rw.WriteHeader(http.StatusAccepted)
		case http.MethodPatch:
			patches.Add(1)
			rw.Header().Set("Range", "0-0")
			rw.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		}
	}))
	defer srv.Close()
	dir, _ := release(t, 1000)
	_, err := Upload(t.Context(), options(srv, dir))
	if exitcode.Of(err) != exitcode.Internal || !strings.Contains(err.Error(), "416") || patches.Load() > 10 {
		t.Fatalf("error %v after %d PATCH requests: want a bounded failure, exit 3", err, patches.Load())
	}
}
