package export

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// HTTPSource reads a release through a server's read API (GET
// /api/v1/releases/{id}, …/manifest, …/files/{path}, /api/v1/log/key) with
// a token of scope read.
type HTTPSource struct {
	// Base is the server's base URL (upload.ServerURL checks one).
	Base *url.URL
	// Token is the bearer token; never logged or written.
	Token string
	HTTP  *http.Client
}

func (s *HTTPSource) String() string { return s.Base.Redacted() }

// StatusError is a server's refusal; Detail is its problem's detail.
type StatusError struct {
	Op     string
	Status int
	Detail string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s: the server answered %d %s", e.Op, e.Status, http.StatusText(e.Status))
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	switch e.Status {
	case http.StatusUnauthorized:
		msg += "; set SLIPWAY_TOKEN to a token of scope read (slipway token create --scope read)"
	case http.StatusForbidden:
		msg += "; the token needs the scope read"
	}
	return msg
}

func (e *StatusError) Unwrap() error {
	if e.Status == http.StatusNotFound {
		return ErrNotFound
	}
	return nil
}

// get sends GET path (already escaped) and returns the body of a 200.
func (s *HTTPSource) get(ctx context.Context, op, path string) (io.ReadCloser, error) {
	resp, err := s.request(ctx, op, path, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// request sends GET path (already escaped) with the extra headers and
// returns a 200 or 206 answer; any other is a *StatusError.
func (s *HTTPSource) request(ctx context.Context, op, path string, header http.Header) (*http.Response, error) {
	u := *s.Base
	u.Path, u.RawPath = "", ""
	ref, err := url.Parse(strings.TrimSuffix(s.Base.EscapedPath(), "/") + path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.ResolveReference(ref).String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if s.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	client := s.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; check the server's URL and that it runs", op, err)
	}
	if resp.StatusCode != http.StatusOK && (header.Get("Range") == "" || resp.StatusCode != http.StatusPartialContent) {
		defer resp.Body.Close()
		var p struct{ Detail string }
		json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&p)
		return nil, &StatusError{Op: op, Status: resp.StatusCode, Detail: p.Detail}
	}
	return resp, nil
}

// Release implements Source.
func (s *HTTPSource) Release(ctx context.Context, id string) (Release, error) {
	var rel Release
	body, err := s.get(ctx, fmt.Sprintf("reading release %q", id), "/api/v1/releases/"+url.PathEscape(id))
	if err != nil {
		return rel, err
	}
	defer body.Close()
	if err := json.NewDecoder(io.LimitReader(body, 16<<20)).Decode(&rel); err != nil {
		return rel, fmt.Errorf("reading release %q: the answer is not the release JSON: %w", id, err)
	}
	return rel, nil
}

// Manifest implements Source.
func (s *HTTPSource) Manifest(ctx context.Context, rel Release) (io.ReadCloser, error) {
	return s.get(ctx, fmt.Sprintf("reading the manifest of release %q", rel.ID), "/api/v1/releases/"+url.PathEscape(rel.ID)+"/manifest")
}

// File implements Source. A connection cut while the body is read is
// resumed where it stopped (a Range request, If-Range the file's ETag),
// up to MaxResumes times; the caller checks the digest of the whole.
func (s *HTTPSource) File(ctx context.Context, rel Release, path string) (io.ReadCloser, error) {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	r := &resuming{ctx: ctx, s: s, op: fmt.Sprintf("reading %q of release %q", path, rel.ID),
		path: "/api/v1/releases/" + url.PathEscape(rel.ID) + "/files/" + strings.Join(segs, "/")}
	resp, err := s.request(ctx, r.op, r.path, nil)
	if err != nil {
		return nil, err
	}
	r.body, r.etag = resp.Body, resp.Header.Get("ETag")
	return r, nil
}

// ReleaseByDigest returns the one release that holds a file (or manifest)
// with digest d (GET /api/v1/releases?digest=, scope read). None is an
// error wrapping ErrNotFound; several are an error naming them.
func (s *HTTPSource) ReleaseByDigest(ctx context.Context, d string) (Release, error) {
	op := fmt.Sprintf("looking up the release of %q", d)
	body, err := s.get(ctx, op, "/api/v1/releases?limit=10&digest="+url.QueryEscape(d))
	if err != nil {
		return Release{}, err
	}
	defer body.Close()
	var page struct{ Releases []Release }
	if err := json.NewDecoder(io.LimitReader(body, 64<<20)).Decode(&page); err != nil {
		return Release{}, fmt.Errorf("%s: the answer is not a release list: %w", op, err)
	}
	switch len(page.Releases) {
	case 0:
		return Release{}, fmt.Errorf("%s: the server has admitted no release holding it: %w; check the digest, or upload the release first", op, ErrNotFound)
	case 1:
		return page.Releases[0], nil
	}
	ids := make([]string, len(page.Releases))
	for i, r := range page.Releases {
		ids[i] = r.ID
	}
	return Release{}, fmt.Errorf("%s: %d releases hold it (%s): give the release id instead", op, len(ids), strings.Join(ids, ", "))
}

// MaxResumes bounds how often one file's download is resumed.
const MaxResumes = 5

// resuming reads a file's body and resumes it with a Range request when
// the connection is cut.
type resuming struct {
	ctx      context.Context
	s        *HTTPSource
	op, path string
	etag     string
	body     io.ReadCloser
	off      int64
	resumes  int
}

func (r *resuming) Read(p []byte) (int, error) {
	for {
		n, err := r.body.Read(p)
		r.off += int64(n)
		if err == nil || err == io.EOF || n > 0 {
			return n, err
		}
		if r.ctx.Err() != nil || r.resumes >= MaxResumes || r.etag == "" {
			return n, err
		}
		r.resumes++
		r.body.Close()
		h := http.Header{}
		h.Set("Range", fmt.Sprintf("bytes=%d-", r.off))
		h.Set("If-Range", r.etag)
		resp, rerr := r.s.request(r.ctx, r.op, r.path, h)
		if rerr != nil {
			r.body = io.NopCloser(strings.NewReader(""))
			return 0, fmt.Errorf("%w; resuming at byte %d: %w", err, r.off, rerr)
		}
		if resp.StatusCode != http.StatusPartialContent || !strings.HasPrefix(resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-", r.off)) {
			resp.Body.Close()
			r.body = io.NopCloser(strings.NewReader(""))
			return 0, fmt.Errorf("%w; resuming at byte %d: the server answered %d with Content-Range %q, not the rest of the file", err, r.off, resp.StatusCode, resp.Header.Get("Content-Range"))
		}
		r.body = resp.Body
	}
}

func (r *resuming) Close() error { return r.body.Close() }

// Resumes reports how often a reader File returned was resumed (0 for
// other readers).
func Resumes(rc io.Reader) int {
	if r, ok := rc.(*resuming); ok {
		return r.resumes
	}
	return 0
}

// VerifierKey implements Source.
func (s *HTTPSource) VerifierKey(ctx context.Context) (string, error) {
	body, err := s.get(ctx, "reading the log's verifier key", "/api/v1/log/key")
	if err != nil {
		return "", err
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, 4096))
	return string(b), err
}
