package mcpserver

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestHandlerNeedsToken: /mcp refuses a request without a bearer token
// before anything reaches the control plane (which this server's URL
// does not even name).
func TestHandlerNeedsToken(t *testing.T) {
	t.Parallel()
	h := New(Options{Server: &url.URL{Scheme: "http", Host: "127.0.0.1:1"}}).Handler()
	for _, auth := range []string{"", "Basic dXNlcjpwdw==", "Bearer "} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize"}`))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized || !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("Authorization %q: %d %q, want 401 with a Bearer challenge", auth, rec.Code, rec.Header().Get("WWW-Authenticate"))
		}
	}
}

func TestCheckID(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		id, prefix string
		ok         bool
	}{
		{"r-0123456789abcdef", "r-", true},
		{"d-0123456789abcdef", "d-", true},
		{"r-0123456789ABCDEF", "r-", false},
		{"r-0123456789abcde", "r-", false},
		{"r-0123456789abcdef/../x", "r-", false},
		{"d-0123456789abcdef", "r-", false},
		{"", "q-", false},
	} {
		if err := checkID("id", c.id, c.prefix); (err == nil) != c.ok {
			t.Errorf("checkID(%q, %q): %v, want ok=%v", c.id, c.prefix, err, c.ok)
		}
	}
}
