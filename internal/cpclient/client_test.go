package cpclient

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// A refusal becomes an *Error with the problem's fields cleaned of control
// characters, so that a face (the MCP server, the reporter) never passes a
// server's forged lines on; a body that is not problem details is kept as
// short text; the token is never in the message.
func TestErrorFromRefusal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, ctype, body string
		status            int
		want              Error
		says              []string
	}{
		{"problem", "application/problem+json", `{"type":"urn:slipway:problem:forbidden","status":403,"detail":"token \"ci\" has no scope \"admin\"","request_id":"req-7"}`,
			403, Error{Status: 403, Type: "forbidden", Detail: `token "ci" has no scope "admin"`, RequestID: "req-7"},
			[]string{"403 Forbidden", `no scope "admin"`, `request id "req-7"`}},
		{"forged", "application/problem+json", "{\"type\":\"urn:slipway:problem:x\",\"check\":\"a\\n::error::b\",\"detail\":\"one\\ntwo\"}",
			422, Error{Status: 422, Type: "x", Check: "a ::error::b", Detail: "one two"}, []string{"one two"}},
		{"proxy page", "text/html", "<html>\nbad gateway\n</html>",
			502, Error{Status: 502, Text: "<html> bad gateway </html>"}, []string{"502 Bad Gateway: <html> bad gateway </html>"}},
		{"unauthorized", "application/problem+json", `{"type":"urn:slipway:problem:unauthorized","status":401}`,
			401, Error{Status: 401, Type: "unauthorized"}, []string{"give a valid token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			base, _ := url.Parse(srv.URL)
			_, err := New(base, "secret-token-value", nil).Do(context.Background(), "reading x", "GET", "/api/v1/x", nil, nil)
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error %v (%T), want *Error", err, err)
			}
			tc.want.Op = "reading x"
			if *e != tc.want {
				t.Errorf("error %+v, want %+v", *e, tc.want)
			}
			msg := e.Error()
			if strings.ContainsAny(msg, "\n\r") || strings.Contains(msg, "secret-token-value") {
				t.Errorf("message %q: one line, no token", msg)
			}
			for _, s := range tc.says {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q does not say %q", msg, s)
				}
			}
			if !IsStatus(err, tc.status) {
				t.Errorf("IsStatus(%d) false", tc.status)
			}
		})
	}
}

func TestPageToken(t *testing.T) {
	t.Parallel()
	for next, want := range map[string]string{
		"": "",
		"/api/v1/releases?limit=2&page_token=MS4xLnItMDEyMzQ1Njc4OWFiY2RlZg": "MS4xLnItMDEyMzQ1Njc4OWFiY2RlZg",
		"/api/v1/releases?limit=2": "",
		"%zz":                      "",
	} {
		if got := PageToken(next); got != want {
			t.Errorf("PageToken(%q) = %q, want %q", next, got, want)
		}
	}
}

// TestOpen: a 2xx answer's body is handed over as a stream with the
// token sent; any other answer is the same *Error Do returns.
func TestOpen(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", MaxAnswer+10) // over Do's bound: Open does not buffer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/api/v1/big" {
			w.Write([]byte(big))
			return
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"type":"urn:slipway:problem:not-found","status":404,"detail":"no such file"}`))
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	c := New(base, "tok", nil)
	rc, err := c.Open(context.Background(), "reading big", "/api/v1/big", nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	if err != nil || n != int64(len(big)) {
		t.Errorf("streamed %d bytes, %v; want %d", n, err, len(big))
	}
	_, err = c.Open(context.Background(), "reading x", "/api/v1/x", nil)
	if !IsStatus(err, http.StatusNotFound) || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("a 404: %v", err)
	}
}
