package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/token"
)

// uploadPrefix is where uploads live; one fixed repository name, since
// blobs are global and content-addressed.
const (
	blobPrefix   = "/v2/slipway/blobs/"
	uploadPrefix = blobPrefix + "uploads/"
)

// UploadOffsetHeader says how many bytes an upload holds: the OCI Range
// "0-0" means both none and one.
const UploadOffsetHeader = "Slipway-Upload-Offset"

// blobRoutes serve the OCI distribution spec's blob upload (chunked and
// resumable) and blob reads under /v2/slipway/blobs/. Errors are the OCI
// error JSON, not problem+json, as OCI clients expect.
func (s *Server) blobRoutes() []Route {
	if s.cfg.Blobs == nil || s.cfg.Uploads == "" {
		return nil
	}
	b := &blobAPI{s: s, up: newUploads(s.cfg.Uploads, s.cfg.Blobs, s.cfg.MaxBlobSize)}
	s.uploads = b.up
	return []Route{
		{Pattern: "GET /v2/{$}", Handler: s.oci("", b.base)},
		{Pattern: "HEAD " + blobPrefix + "{digest}", Handler: s.oci(token.Upload, b.head)},
		{Pattern: "GET " + blobPrefix + "{digest}", Handler: s.oci(token.Read, b.get)},
		{Pattern: "POST " + uploadPrefix + "{$}", Handler: s.oci(token.Upload, b.start)},
		{Pattern: "PATCH " + uploadPrefix + "{id}", Handler: s.oci(token.Upload, b.patch)},
		{Pattern: "GET " + uploadPrefix + "{id}", Handler: s.oci(token.Upload, b.status)},
		{Pattern: "PUT " + uploadPrefix + "{id}", Handler: s.oci(token.Upload, b.put)},
		{Pattern: "DELETE " + uploadPrefix + "{id}", Handler: s.oci(token.Upload, b.cancel)},
	}
}

type blobAPI struct {
	s  *Server
	up *uploads
}

// base answers the API version check (GET /v2/) without authentication,
// so that clients go on to send their bearer token with every request.
func (b *blobAPI) base(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	return writeJSON(w, http.StatusOK, struct{}{})
}

func blobDigest(r *http.Request) (digest.SHA256, error) {
	d, err := digest.Parse(r.PathValue("digest"))
	if err != nil {
		return d, &ociError{Status: http.StatusBadRequest, Code: "DIGEST_INVALID", Message: err.Error()}
	}
	return d, nil
}

func (b *blobAPI) head(w http.ResponseWriter, r *http.Request) error {
	d, err := blobDigest(r)
	if err != nil {
		return err
	}
	blob, err := b.s.cfg.Blobs.Stat(r.Context(), d)
	if errors.Is(err, blobstore.ErrNotFound) {
		w.WriteHeader(http.StatusNotFound)
		return nil
	}
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Length", strconv.FormatInt(blob.Size, 10))
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Docker-Content-Digest", d.String())
	w.WriteHeader(http.StatusOK)
	return nil
}

// get streams a stored blob (Range supported).
func (b *blobAPI) get(w http.ResponseWriter, r *http.Request) error {
	d, err := blobDigest(r)
	if err != nil {
		return err
	}
	f, err := b.s.cfg.Blobs.Open(r.Context(), d)
	if errors.Is(err, blobstore.ErrNotFound) {
		return &ociError{Status: http.StatusNotFound, Code: "BLOB_UNKNOWN", Message: fmt.Sprintf("blob %q is not stored here; upload it first", d)}
	}
	if err != nil {
		return err
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Docker-Content-Digest", d.String())
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, "", time.Time{}, f)
	return nil
}

func (b *blobAPI) start(w http.ResponseWriter, r *http.Request) error {
	if r.URL.Query().Has("digest") {
		return &ociError{Status: http.StatusMethodNotAllowed, Code: "UNSUPPORTED",
			Message: "monolithic upload (POST with ?digest=) is not supported: POST without it, PATCH the content, then PUT ?digest="}
	}
	u, err := b.up.start()
	if err != nil {
		return err
	}
	b.answer(w, u, http.StatusAccepted)
	return nil
}

// answer writes the headers that tell a client where an upload stands.
func (b *blobAPI) answer(w http.ResponseWriter, u *upload, status int) {
	h := w.Header()
	h.Set("Location", uploadPrefix+u.id)
	h.Set("Range", rangeHeader(u.size))
	h.Set(UploadOffsetHeader, strconv.FormatInt(u.size, 10))
	h.Set("Docker-Upload-UUID", u.id)
	h.Set("Content-Length", "0")
	w.WriteHeader(status)
}

func (b *blobAPI) lock(r *http.Request) (*upload, error) {
	u, err := b.up.lock(r.PathValue("id"))
	if err != nil {
		return nil, &ociError{Status: http.StatusNotFound, Code: "BLOB_UPLOAD_UNKNOWN",
			Message: fmt.Sprintf("upload %q is unknown: it was completed, cancelled or discarded after an error; start a new one with POST %s", r.PathValue("id"), uploadPrefix)}
	}
	if err := u.hashed(r.Context()); err != nil {
		u.mu.Unlock()
		return nil, err
	}
	return u, nil
}

func (b *blobAPI) status(w http.ResponseWriter, r *http.Request) error {
	u, err := b.lock(r)
	if err != nil {
		return err
	}
	defer u.mu.Unlock()
	b.answer(w, u, http.StatusNoContent)
	return nil
}

func (b *blobAPI) patch(w http.ResponseWriter, r *http.Request) error {
	u, err := b.lock(r)
	if err != nil {
		return err
	}
	defer u.mu.Unlock()
	if err := b.receive(w, r, u); err != nil {
		return err
	}
	b.answer(w, u, http.StatusAccepted)
	return nil
}

// receive appends the request's body to u, after checking its
// Content-Range against where u stands and its length against the limit.
func (b *blobAPI) receive(w http.ResponseWriter, r *http.Request, u *upload) error {
	want := int64(-1)
	if cr := r.Header.Get("Content-Range"); cr != "" {
		start, n, err := parseContentRange(cr)
		if err != nil {
			return b.rangeError(w, u, err.Error())
		}
		if start != u.size {
			return b.rangeError(w, u, fmt.Sprintf("the chunk starts at byte %d, but the upload holds %d bytes: send the chunk that starts at byte %d (Range and %s say where the upload stands)", start, u.size, u.size, UploadOffsetHeader))
		}
		if r.ContentLength >= 0 && r.ContentLength != n {
			return b.rangeError(w, u, fmt.Sprintf("Content-Range %q announces %d bytes, Content-Length %d: send both for the same chunk", cr, n, r.ContentLength))
		}
		want = n
	}
	if r.ContentLength > 0 && u.size+r.ContentLength > b.up.limit {
		b.up.drop(u)
		return &tooLargeError{limit: b.up.limit}
	}
	err := b.up.receive(r.Context(), u, r.Body, want)
	var tl *tooLargeError
	if errors.As(err, &tl) {
		b.up.drop(u)
	}
	return err
}

func (b *blobAPI) rangeError(w http.ResponseWriter, u *upload, msg string) error {
	w.Header().Set("Location", uploadPrefix+u.id)
	w.Header().Set("Range", rangeHeader(u.size))
	w.Header().Set(UploadOffsetHeader, strconv.FormatInt(u.size, 10))
	return &ociError{Status: http.StatusRequestedRangeNotSatisfiable, Code: "BLOB_UPLOAD_INVALID", Message: msg}
}

func (b *blobAPI) put(w http.ResponseWriter, r *http.Request) error {
	want, err := digest.Parse(r.URL.Query().Get("digest"))
	if err != nil {
		return &ociError{Status: http.StatusBadRequest, Code: "DIGEST_INVALID", Message: fmt.Sprintf("PUT needs ?digest=sha256:<hex> of the whole blob: %v", err)}
	}
	u, err := b.lock(r)
	if err != nil {
		return err
	}
	defer u.mu.Unlock()
	if r.ContentLength != 0 || r.Header.Get("Content-Range") != "" {
		if err := b.receive(w, r, u); err != nil {
			return err
		}
	}
	blob, err := b.up.finish(r.Context(), u, want)
	var mm *blobstore.MismatchError
	if errors.As(err, &mm) {
		return &ociError{Status: http.StatusBadRequest, Code: "DIGEST_INVALID",
			Message: fmt.Sprintf("the upload holds %d bytes of digest %q, not %q: the upload is discarded; upload the file the digest was computed from again", mm.Size, mm.Got, mm.Want)}
	}
	if err != nil {
		return err
	}
	b.s.log.Info("blob stored", "request_id", requestID(r.Context()), "digest", blob.Digest.String(), "size", blob.Size, "existed", blob.Existed)
	h := w.Header()
	h.Set("Location", blobPrefix+want.String())
	h.Set("Docker-Content-Digest", want.String())
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return nil
}

func (b *blobAPI) cancel(w http.ResponseWriter, r *http.Request) error {
	u, err := b.lock(r)
	if err != nil {
		return err
	}
	defer u.mu.Unlock()
	b.up.drop(u)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ociError is an error answered as the OCI distribution spec's error JSON.
type ociError struct {
	Status  int
	Code    string
	Message string
	Cause   error
}

func (e *ociError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }
func (e *ociError) Unwrap() error { return e.Cause }

type ociErrorBody struct {
	Errors []ociErrorEntry `json:"errors"`
}

type ociErrorEntry struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

// oci wraps an /v2 endpoint: authentication with scope (when set) and
// errors rendered as OCI error JSON; the Problem's headers
// (WWW-Authenticate, Retry-After) are kept.
func (s *Server) oci(scope token.Scope, h HandlerFunc) HandlerFunc {
	if scope != "" {
		h = s.authenticate(scope, false, h)
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		err := h(w, r)
		if err == nil {
			return nil
		}
		var oe *ociError
		var p *Problem
		var tl *tooLargeError
		switch {
		case errors.As(err, &oe):
		case errors.As(err, &tl):
			oe = &ociError{Status: http.StatusRequestEntityTooLarge, Code: "SIZE_INVALID", Message: tl.Error()}
		case errors.Is(err, errNoSpace):
			oe = &ociError{Status: http.StatusInsufficientStorage, Code: "UNKNOWN", Message: err.Error()}
		case errors.As(err, new(*chunkLengthError)):
			oe = &ociError{Status: http.StatusBadRequest, Code: "BLOB_UPLOAD_INVALID", Message: err.Error()}
		case errors.As(err, &p):
			if p.Challenge != "" {
				w.Header().Set("WWW-Authenticate", p.Challenge)
			}
			if p.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(p.RetryAfter))
			}
			oe = &ociError{Status: p.Status, Code: ociCode(p.Status), Message: p.Detail, Cause: p.Cause}
		default:
			oe = &ociError{Status: http.StatusInternalServerError, Code: "UNKNOWN",
				Message: "the server failed to answer; its log has the cause under this request id, retry later or tell its operator", Cause: err}
		}
		if oe.Status >= 500 || oe.Cause != nil {
			s.log.Warn("request failed", "request_id", requestID(r.Context()), "status", oe.Status, "code", oe.Code, "error", err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(oe.Status)
		if r.Method != http.MethodHead {
			json.NewEncoder(w).Encode(ociErrorBody{Errors: []ociErrorEntry{{Code: oe.Code, Message: oe.Message}}})
		}
		return nil
	}
}

func ociCode(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "UNAUTHORIZED"
	case http.StatusForbidden:
		return "DENIED"
	case http.StatusTooManyRequests:
		return "TOOMANYREQUESTS"
	case http.StatusNotFound:
		return "NAME_UNKNOWN"
	}
	return "UNKNOWN"
}
