package upload

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/tlog"
	"github.com/slipway/actions/internal/tlog/entry"
)

// wire is an in-process server speaking API7.md's wire format over real
// HTTP: the OCI chunked blob upload (Content-Range, Range, 416, GET of the
// location, PUT with the digest) and the admission endpoint answering with
// receipts of a real transparency log (internal/tlog). It is the client's
// counterpart until the real server's endpoints are tested (real_test.go).
type wire struct {
	t     *testing.T
	dir   string
	token string
	log   *tlog.Log

	mu       sync.Mutex
	uploads  map[string]int64 // upload id → bytes held (in dir/uploads/id)
	tokens   map[string]int   // bearer tokens seen
	requests []string         // "METHOD path" of every request
	releases map[string][]byte
	// cutAfter, when positive, makes the next PATCH keep that many bytes
	// of its chunk and then drop the connection without an answer.
	cutAfter int64
	// refuse, when set, is the problem every admission gets.
	refuse map[string]any
	// fail, when positive, answers that many requests 503 first.
	fail int
}

func newWire(t *testing.T, token string) (*wire, *httptest.Server) {
	t.Helper()
	w := &wire{t: t, dir: t.TempDir(), token: token, uploads: map[string]int64{}, tokens: map[string]int{}, releases: map[string][]byte{}}
	for _, d := range []string{"blobs", "uploads"} {
		if err := os.Mkdir(filepath.Join(w.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	l, err := tlog.Open(context.Background(), filepath.Join(w.dir, "log"), tlog.Options{Origin: "example.test/log", CheckpointInterval: 100 * time.Millisecond, BatchMaxAge: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w.log = l
	t.Cleanup(func() { l.Close(context.Background()) })
	mux := http.NewServeMux()
	mux.HandleFunc("HEAD /v2/slipway/blobs/{digest}", w.head)
	mux.HandleFunc("POST /v2/slipway/blobs/uploads/", w.start)
	mux.HandleFunc("PATCH /v2/slipway/blobs/uploads/{id}", w.patch)
	mux.HandleFunc("GET /v2/slipway/blobs/uploads/{id}", w.status)
	mux.HandleFunc("PUT /v2/slipway/blobs/uploads/{id}", w.put)
	mux.HandleFunc("POST /api/v1/releases", w.admit)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.requests = append(w.requests, r.Method+" "+r.URL.Path)
		fail := w.fail > 0
		if fail {
			w.fail--
		}
		w.mu.Unlock()
		if fail {
			rw.Header().Set("Retry-After", "0")
			rw.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if scheme != "Bearer" || (w.token != "" && tok != w.token) || tok == "" {
			writeProblem(rw, http.StatusUnauthorized, map[string]any{"type": "urn:slipway:problem:unauthorized", "title": "Authentication required",
				"detail": "this endpoint needs a token with scope \"upload\""})
			return
		}
		w.mu.Lock()
		w.tokens[tok]++
		w.mu.Unlock()
		mux.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	return w, srv
}

func writeProblem(rw http.ResponseWriter, status int, body map[string]any) {
	rw.Header().Set("Content-Type", "application/problem+json")
	rw.WriteHeader(status)
	body["status"] = status
	json.NewEncoder(rw).Encode(body)
}

func ociError(rw http.ResponseWriter, status int, code, msg string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	json.NewEncoder(rw).Encode(map[string]any{"errors": []map[string]any{{"code": code, "message": msg}}})
}

func (w *wire) blob(d string) string {
	return filepath.Join(w.dir, "blobs", strings.TrimPrefix(d, "sha256:"))
}

func (w *wire) head(rw http.ResponseWriter, r *http.Request) {
	fi, err := os.Stat(w.blob(r.PathValue("digest")))
	if err != nil {
		rw.WriteHeader(http.StatusNotFound)
		return
	}
	rw.Header().Set("Content-Length", strconv.FormatInt(fi.Size(), 10))
	rw.Header().Set("Docker-Content-Digest", r.PathValue("digest"))
}

func rangeOf(n int64) string {
	if n == 0 {
		return "0-0"
	}
	return fmt.Sprintf("0-%d", n-1)
}

func (w *wire) start(rw http.ResponseWriter, r *http.Request) {
	id := rand.Text()
	if err := os.WriteFile(filepath.Join(w.dir, "uploads", id), nil, 0o644); err != nil {
		w.t.Error(err)
	}
	w.mu.Lock()
	w.uploads[id] = 0
	w.mu.Unlock()
	rw.Header().Set("Location", "/v2/slipway/blobs/uploads/"+id)
	rw.Header().Set("Range", "0-0")
	rw.Header().Set("Docker-Upload-UUID", id)
	rw.WriteHeader(http.StatusAccepted)
}

func (w *wire) patch(rw http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	w.mu.Lock()
	held, ok := w.uploads[id]
	cut := w.cutAfter
	w.cutAfter = 0
	w.mu.Unlock()
	if !ok {
		ociError(rw, http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN", "upload unknown")
		return
	}
	first, last, found := strings.Cut(r.Header.Get("Content-Range"), "-")
	start, err1 := strconv.ParseInt(first, 10, 64)
	end, err2 := strconv.ParseInt(last, 10, 64)
	if !found || err1 != nil || err2 != nil || end < start || r.ContentLength != end-start+1 {
		ociError(rw, http.StatusBadRequest, "BLOB_UPLOAD_INVALID", "bad Content-Range")
		return
	}
	if start != held {
		rw.Header().Set("Range", rangeOf(held))
		rw.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		return
	}
	f, err := os.OpenFile(filepath.Join(w.dir, "uploads", id), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		w.t.Error(err)
		return
	}
	defer f.Close()
	body := io.Reader(r.Body)
	if cut > 0 {
		body = io.LimitReader(r.Body, cut)
	}
	n, err := io.Copy(f, body)
	w.mu.Lock()
	w.uploads[id] = held + n
	w.mu.Unlock()
	if cut > 0 {
		conn, _, herr := rw.(http.Hijacker).Hijack()
		if herr != nil {
			w.t.Error(herr)
			return
		}
		conn.Close()
		return
	}
	if err != nil {
		return
	}
	rw.Header().Set("Location", "/v2/slipway/blobs/uploads/"+id)
	rw.Header().Set("Range", rangeOf(held+n))
	rw.WriteHeader(http.StatusAccepted)
}

func (w *wire) status(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	held, ok := w.uploads[r.PathValue("id")]
	w.mu.Unlock()
	if !ok {
		ociError(rw, http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN", "upload unknown")
		return
	}
	rw.Header().Set("Location", r.URL.Path)
	rw.Header().Set("Range", rangeOf(held))
	rw.WriteHeader(http.StatusNoContent)
}

func (w *wire) put(rw http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	w.mu.Lock()
	_, ok := w.uploads[id]
	delete(w.uploads, id)
	w.mu.Unlock()
	if !ok {
		ociError(rw, http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN", "upload unknown")
		return
	}
	tmp := filepath.Join(w.dir, "uploads", id)
	f, err := os.Open(tmp)
	if err != nil {
		w.t.Error(err)
		return
	}
	h := sha256.New()
	io.Copy(h, f)
	f.Close()
	want := r.URL.Query().Get("digest")
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != want {
		os.Remove(tmp)
		ociError(rw, http.StatusBadRequest, "DIGEST_INVALID", fmt.Sprintf("provided digest %s did not match uploaded content %s", want, got))
		return
	}
	if err := os.Rename(tmp, w.blob(want)); err != nil {
		w.t.Error(err)
	}
	rw.Header().Set("Location", "/v2/slipway/blobs/"+want)
	rw.Header().Set("Docker-Content-Digest", want)
	rw.WriteHeader(http.StatusCreated)
}

func (w *wire) admit(rw http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, MaxManifestSize+1))
	if err != nil {
		return
	}
	m, err := artifact.Decode(bytes.NewReader(raw), "manifest.json")
	if err != nil {
		writeProblem(rw, http.StatusBadRequest, map[string]any{"type": "urn:slipway:problem:bad-manifest", "title": "Bad manifest", "detail": err.Error()})
		return
	}
	kept := m.Records[:0]
	for _, rec := range m.Records {
		if rec.Role != artifact.RoleReceipt {
			kept = append(kept, rec)
		}
	}
	m.Records = kept
	canon, _ := json.Marshal(m)
	sum := sha256.Sum256(canon)
	id := "r-" + hex.EncodeToString(sum[:8])
	w.mu.Lock()
	first, again := w.releases[id]
	refuse := w.refuse
	w.mu.Unlock()
	if again {
		rw.Header().Set("Content-Type", "application/json")
		rw.Write(first)
		return
	}
	for _, rec := range m.Records {
		if rec.Path == "" {
			continue
		}
		if _, err := os.Stat(w.blob(rec.Digest.String())); err != nil {
			writeProblem(rw, http.StatusConflict, map[string]any{"type": "urn:slipway:problem:missing-blob", "title": "Missing blob",
				"detail": fmt.Sprintf("record %q: blob %s is not uploaded; upload it first", rec.Name, rec.Digest), "subject": rec.Name})
			return
		}
	}
	if refuse != nil {
		writeProblem(rw, http.StatusUnprocessableEntity, refuse)
		return
	}
	e := entry.Entry{Kind: entry.KindReleaseAdmitted, Decision: entry.DecisionAdmitted, Release: id, Source: "github.com/example/app",
		Time: time.Now(), Uploader: "token:ci"}
	var arts []map[string]string
	for _, a := range m.ByRole(artifact.RoleArtifact) {
		e.Artifacts = append(e.Artifacts, entry.Subject{Name: a.Name, SHA256: a.Digest.Hex()})
		arts = append(arts, map[string]string{"name": a.Name, "digest": a.Digest.String()})
	}
	data, err := entry.Marshal(e)
	if err != nil {
		w.t.Error(err)
		return
	}
	rc, err := w.log.Append(r.Context(), data)
	if err != nil {
		w.t.Error(err)
		return
	}
	body, _ := json.Marshal(map[string]any{"releaseId": id, "logIndex": rc.Index, "receipt": string(rc.Marshal()),
		"manifestDigest": "sha256:" + hex.EncodeToString(sum[:]), "artifacts": arts, "checks": []string{"signature: ok"}})
	w.mu.Lock()
	w.releases[id] = body
	w.mu.Unlock()
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Location", "/api/v1/releases/"+id)
	rw.WriteHeader(http.StatusCreated)
	rw.Write(body)
}

func (w *wire) count(prefix string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, r := range w.requests {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}
