package cpclient

import (
	"context"
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
