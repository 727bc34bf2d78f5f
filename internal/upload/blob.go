package upload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
)

// blobPath is where blobs live on the server: one repository, "slipway".
const blobPath = "/v2/slipway/blobs/"

// Transfer says what happened to a blob.
type Transfer string

const (
	// Present: the server already held it; nothing was sent.
	Present Transfer = "present"
	// Uploaded: it was sent.
	Uploaded Transfer = "uploaded"
)

// Blob is one file of the release as the upload saw it.
type Blob struct {
	Name     string
	Digest   digest.SHA256
	Size     int64
	Transfer Transfer
	// Resumed counts the times the upload continued after a cut connection.
	Resumed int
}

// has asks the server whether it holds the blob d.
func (c *client) has(ctx context.Context, d digest.SHA256) (bool, error) {
	u, err := c.url(blobPath + d.String())
	if err != nil {
		return false, err
	}
	resp, err := c.send(ctx, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodHead, u.String(), nil)
	})
	if err != nil {
		return false, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		drain(resp)
		return true, nil
	case http.StatusNotFound:
		drain(resp)
		return false, nil
	}
	op := "looking up blob " + d.String()
	head := &ServerError{Op: op, Status: resp.StatusCode}
	drain(resp)
	if resp.StatusCode < 400 || resp.StatusCode >= 500 || transientStatus(resp.StatusCode) {
		return false, head
	}
	// An answer to HEAD has no body: ask again with GET to learn why (an
	// authentication problem, say).
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false, err
	}
	if resp, err = c.do(req); err != nil {
		return false, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		resp.Body.Close() // there after all: the blob itself is not read
		return true, nil
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		drain(resp) // GET is not served: the HEAD's status is all there is
		return false, head
	}
	return false, readProblem(op, resp)
}

// session is one chunked upload in progress.
type session struct {
	c        *client
	f        *os.File
	name     string
	d        digest.SHA256
	size     int64
	chunk    int64
	location string // the upload's URL, as the last answer gave it
	offset   int64  // bytes the server holds
	resumed  int
	resyncs  int // 416 answers followed, bounded so that a server cannot loop us
}

// upload sends the file f (size bytes, digest d) in chunks and completes
// the upload with its digest.
func (c *client) upload(ctx context.Context, f *os.File, name string, d digest.SHA256, size, chunk int64) (int, error) {
	op := fmt.Sprintf("uploading %q (%s)", name, d)
	u, err := c.url(blobPath + "uploads/")
	if err != nil {
		return 0, err
	}
	resp, err := c.send(ctx, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	})
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusAccepted {
		return 0, readProblem(op, resp)
	}
	drain(resp)
	s := &session{c: c, f: f, name: name, d: d, size: size, chunk: chunk, location: resp.Header.Get("Location")}
	if s.location == "" {
		return 0, exitcode.Infraf("%s: the server answered 202 without a Location; is --server a slipway serve?", op)
	}
	if err := s.run(ctx, op); err != nil {
		return s.resumed, err
	}
	return s.resumed, s.finish(ctx, op)
}

// run sends the chunks from s.offset to the end. After a failed PATCH it
// asks the location how much arrived and goes on from there, until
// c.retry.Attempts attempts in a row made no progress.
func (s *session) run(ctx context.Context, op string) error {
	attempts := s.c.retry.withDefaults().Attempts
	failures := 0
	for s.offset < s.size {
		before := s.offset
		err := s.patch(ctx, op)
		if err == nil {
			failures = 0
			continue
		}
		if !resumable(err) {
			return err
		}
		if failures++; failures >= attempts {
			return err
		}
		s.c.log.Info("upload interrupted, resuming", "name", s.name, "digest", s.d.String(), "offset", before, "error", err)
		if err := sleep(ctx, s.c.retry.withDefaults().Pause); err != nil {
			return err
		}
		if err := s.status(ctx, op); err != nil {
			return err
		}
		if s.offset > before {
			failures = 0
		}
		s.resumed++
	}
	return nil
}

// resumable reports whether a failed PATCH is worth asking the location
// how much arrived: a cut connection or a transient answer.
func resumable(err error) bool {
	var se *ServerError
	if errors.As(err, &se) {
		return transientStatus(se.Status)
	}
	return transient(err)
}

// patch sends one chunk from s.offset.
func (s *session) patch(ctx context.Context, op string) error {
	u, err := s.c.url(s.location)
	if err != nil {
		return err
	}
	n := min(s.chunk, s.size-s.offset)
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, u.String(), io.NewSectionReader(s.f, s.offset, n))
	if err != nil {
		return err
	}
	req.ContentLength = n
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Range", fmt.Sprintf("%d-%d", s.offset, s.offset+n-1))
	resp, err := s.c.do(req)
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusAccepted:
		drain(resp)
		last, err := parseRange(resp.Header.Get("Range"))
		if err != nil {
			return exitcode.Infra(fmt.Errorf("%s: %w", op, err))
		}
		if got := received(last); got != s.offset+n {
			return exitcode.Infraf("%s: after the chunk %d-%d the server holds %d bytes; it does not follow the OCI upload protocol, tell its operator", op, s.offset, s.offset+n-1, got)
		}
		s.offset += n
		s.resyncs = 0
		if loc := resp.Header.Get("Location"); loc != "" {
			s.location = loc
		}
		return nil
	case http.StatusRequestedRangeNotSatisfiable:
		// The server holds another amount than we thought: go on from its.
		drain(resp)
		last, err := parseRange(resp.Header.Get("Range"))
		if err != nil {
			return exitcode.Infra(fmt.Errorf("%s: the server refused the chunk at %d (416): %w", op, s.offset, err))
		}
		got := received(last)
		if last == 0 && s.offset == 0 {
			got = 1 // "0-0" after a chunk at 0 was refused: one byte arrived
		}
		if s.resyncs++; s.resyncs > s.c.retry.withDefaults().Attempts {
			return exitcode.Infraf("%s: the server refused %d chunks in a row as out of range (416); start the upload again, or tell the server's operator", op, s.resyncs)
		}
		if got == s.offset || got > s.size {
			return exitcode.Infraf("%s: the server refused the chunk at %d (416) and holds %d bytes of %d; start the upload again, or tell the server's operator", op, s.offset, got, s.size)
		}
		s.c.log.Info("server holds another offset, continuing from it", "name", s.name, "offset", got)
		s.offset = got
		return nil
	}
	return readProblem(op, resp)
}

// status asks the upload location how much the server holds (GET, Range).
func (s *session) status(ctx context.Context, op string) error {
	u, err := s.c.url(s.location)
	if err != nil {
		return err
	}
	resp, err := s.c.send(ctx, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	})
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		return readProblem(op+": asking how much arrived", resp)
	}
	drain(resp)
	last, err := parseRange(resp.Header.Get("Range"))
	if err != nil {
		return exitcode.Infra(fmt.Errorf("%s: %w", op, err))
	}
	got := received(last)
	if got > s.size {
		return exitcode.Infraf("%s: the server holds %d bytes of a %d-byte file; start the upload again, or tell the server's operator", op, got, s.size)
	}
	s.offset = got
	if loc := resp.Header.Get("Location"); loc != "" {
		s.location = loc
	}
	return nil
}

// finish completes the upload with the digest (PUT …?digest=).
func (s *session) finish(ctx context.Context, op string) error {
	u, err := s.c.url(s.location)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("digest", s.d.String())
	u.RawQuery = q.Encode()
	resp, err := s.c.send(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), http.NoBody)
		if err == nil {
			req.Header.Set("Content-Length", "0")
			req.Header.Set("Content-Type", "application/octet-stream")
		}
		return req, err
	})
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusNotFound {
		// An earlier attempt may have completed the upload and lost its
		// answer: the blob is there, or the upload is truly gone.
		drain(resp)
		if ok, herr := s.c.has(ctx, s.d); herr == nil && ok {
			return nil
		}
		return exitcode.Infraf("%s: the server no longer knows the upload %q (404); run the upload again", op, clean(trimTo(s.location, 200)))
	}
	if resp.StatusCode != http.StatusCreated {
		se := readProblem(op, resp)
		if se.ociCode() == "DIGEST_INVALID" {
			return fmt.Errorf("%w; the file changed after the manifest recorded it: rebuild, or restore the file the manifest records", se)
		}
		return se
	}
	drain(resp)
	if got := resp.Header.Get("Docker-Content-Digest"); got != "" && got != s.d.String() {
		return exitcode.Failuref("%s: the server stored %q, not %s; tell the server's operator", op, clean(trimTo(got, 80)), s.d)
	}
	return nil
}
