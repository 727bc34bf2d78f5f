package cpclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/slipway/actions/internal/problem"
)

// MaxAnswer bounds an answer's body.
const MaxAnswer = 16 << 20

// Client reaches one control plane with one bearer token.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// New returns a client of the server at base (an http(s) URL; a path is
// the API's prefix) sending token; hc nil is a client that does not
// follow redirects. A token is required: every endpoint the faces use
// needs one.
func New(base *url.URL, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &Client{base: base, token: token, http: hc}
}

// Base is the server's URL.
func (c *Client) Base() *url.URL { return c.base }

// HTTP is the client's HTTP client (for the log's tile reader).
func (c *Client) HTTP() *http.Client { return c.http }

// Error is the server's refusal: its status and problem details, their
// text cleaned of control characters (internal/problem).
type Error struct {
	Op     string
	Status int
	// Type is the problem type without its urn:slipway:problem: prefix.
	Type, Check, Detail string
	// RequestID is the server's id of the request, for its operator.
	RequestID string
	// Text is the start of a body that was not problem details (a proxy's
	// page, say).
	Text string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s: the server answered %d %s", e.Op, e.Status, http.StatusText(e.Status))
	switch {
	case e.Detail != "":
		msg += ": " + e.Detail
	case e.Text != "":
		msg += ": " + e.Text
	}
	if e.RequestID != "" {
		msg += fmt.Sprintf(" (request id %q)", e.RequestID)
	}
	switch e.Status {
	case http.StatusUnauthorized:
		msg += "; give a valid token (SLIPWAY_TOKEN, or --token-file)"
	}
	return msg
}

// IsStatus reports whether err is the server's answer with this status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// URL is the absolute URL of path (already escaped, starting with /) and
// query.
func (c *Client) URL(path string, query url.Values) string {
	u := *c.base
	u.Path = strings.TrimSuffix(c.base.Path, "/") + path
	u.RawPath = strings.TrimSuffix(c.base.EscapedPath(), "/") + path
	u.RawQuery = query.Encode()
	return u.String()
}

// Do sends method path?query with body (JSON-encoded when not nil) and
// returns the answer's body for a 2xx; any other answer is an *Error. op
// names the operation in errors.
func (c *Client) Do(ctx context.Context, op, method, path string, query url.Values, body any) ([]byte, error) {
	resp, err := c.send(ctx, op, method, path, query, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("%s: reading the answer: %w", op, err)
	}
	if len(raw) > MaxAnswer {
		return nil, fmt.Errorf("%s: the answer is over %d bytes", op, MaxAnswer)
	}
	return raw, nil
}

// Open sends GET path?query and returns the answer's body to read as a
// stream (a release's file, however large; the caller closes it) for a
// 2xx; any other answer is an *Error.
func (c *Client) Open(ctx context.Context, op, path string, query url.Values) (io.ReadCloser, error) {
	resp, err := c.send(ctx, op, http.MethodGet, path, query, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// send sends the request and returns a 2xx answer whose body the caller
// closes; any other answer is read (bounded) into an *Error.
func (c *Client) send(ctx context.Context, op, method, path string, query url.Values, body any) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL(path, query), rd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; check that the server at %q runs", op, unwrapURL(err), c.base.Redacted())
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return resp, nil
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
	if err != nil {
		return nil, fmt.Errorf("%s: reading the answer: %w", op, err)
	}
	p, text := problem.Parse(raw)
	return nil, &Error{Op: op, Status: resp.StatusCode, Type: p.ShortType(), Check: p.Check, Detail: p.Detail, RequestID: p.RequestID, Text: text}
}

// JSON is Do, decoding the answer into out.
func (c *Client) JSON(ctx context.Context, op, method, path string, query url.Values, body, out any) error {
	raw, err := c.Do(ctx, op, method, path, query, body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s: the answer is not the JSON expected: %w", op, err)
	}
	return nil
}

// unwrapURL drops the *url.Error around err: it quotes the URL, and the
// caller names the operation.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// HandlerTransport is an http.RoundTripper that answers requests with
// Handler in the same process (slipway serve's /mcp calls its own API so,
// with the caller's token, through the same authentication and scopes).
// The answer's body is streamed from the handler, never held whole.
type HandlerTransport struct{ Handler http.Handler }

// RoundTrip implements http.RoundTripper.
func (t HandlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	if req.Body == nil {
		req.Body = http.NoBody
	}
	req.RequestURI = req.URL.RequestURI()
	if req.RemoteAddr == "" {
		req.RemoteAddr = "127.0.0.1:0"
	}
	pr, pw := io.Pipe()
	w := &pipeWriter{header: http.Header{}, pw: pw, ready: make(chan struct{})}
	go func() {
		defer func() {
			w.WriteHeader(http.StatusOK) // a handler that wrote nothing
			pw.Close()
		}()
		t.Handler.ServeHTTP(w, req)
	}()
	<-w.ready
	return &http.Response{StatusCode: w.status, Status: fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)),
		Header: w.sent, Body: pr, ContentLength: -1, Request: req, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}

// pipeWriter hands a handler's answer to RoundTrip: the header when it
// is written, then the body through a pipe.
type pipeWriter struct {
	header, sent http.Header
	status       int
	pw           *io.PipeWriter
	ready        chan struct{}
}

func (w *pipeWriter) Header() http.Header { return w.header }

func (w *pipeWriter) WriteHeader(code int) {
	if w.sent != nil {
		return
	}
	w.status, w.sent = code, w.header.Clone()
	close(w.ready)
}

func (w *pipeWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.pw.Write(p)
}

// Flush implements http.Flusher: the pipe has no buffer.
func (w *pipeWriter) Flush() { w.WriteHeader(http.StatusOK) }

// PageToken is the page_token of a list answer's "next" link (the cursor
// to give for the next page); "" when there is no next page.
func PageToken(next string) string {
	if next == "" {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil {
		return ""
	}
	return u.Query().Get("page_token")
}
