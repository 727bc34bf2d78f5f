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
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		var p struct{ Detail string }
		json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&p)
		return nil, &StatusError{Op: op, Status: resp.StatusCode, Detail: p.Detail}
	}
	return resp.Body, nil
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

// File implements Source.
func (s *HTTPSource) File(ctx context.Context, rel Release, path string) (io.ReadCloser, error) {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return s.get(ctx, fmt.Sprintf("reading %q of release %q", path, rel.ID), "/api/v1/releases/"+url.PathEscape(rel.ID)+"/files/"+strings.Join(segs, "/"))
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
