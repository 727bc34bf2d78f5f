package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/store/sqlite"
	"github.com/slipway/actions/internal/testutil/logbuf"
	"github.com/slipway/actions/internal/token"
)

// cheap Argon2id parameters keep the tests fast; the checks are the same.
var cheap = token.Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16}

// harness is a server on a real loopback listener, its store, a token
// manager and its log.
type harness struct {
	url    string
	db     *sqlite.DB
	tokens *token.Manager
	log    *logbuf.Buffer
	srv    *Server
	cancel context.CancelFunc
	done   chan error
}

// start serves cfg (Store, Auth and Log filled in) with extra routes.
func start(t *testing.T, cfg Config, routes ...Route) *harness {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{db: db, tokens: token.NewManager(db, token.WithParams(cheap)), log: &logbuf.Buffer{}, done: make(chan error, 1)}
	cfg.Store, cfg.Auth = db, h.tokens
	cfg.Log = slog.New(slog.NewJSONHandler(h.log, nil))
	h.srv, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		h.srv.Handle(r)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.url = "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-h.done
		db.Close()
	})
	return h
}

func (h *harness) token(t *testing.T, name string, scopes ...token.Scope) string {
	t.Helper()
	tok, _, err := h.tokens.Create(context.Background(), token.CreateOptions{Name: name, Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// get sends GET path with the Authorization header auth (none when empty).
func (h *harness) get(t *testing.T, path, auth string) (*http.Response, problemBody) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.url+path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var p problemBody
	if resp.Header.Get("Content-Type") == "application/problem+json" {
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatalf("problem body %q: %v", body, err)
		}
	}
	return resp, p
}

var okRoute = func(w http.ResponseWriter, r *http.Request) error {
	id, _ := IdentityFrom(r.Context())
	return writeJSON(w, http.StatusOK, map[string]string{"identity": id.String()})
}

func TestHealth(t *testing.T) {
	t.Parallel()
	h := start(t, Config{})
	for _, path := range []string{"/healthz", "/readyz"} {
		if resp, _ := h.get(t, path, ""); resp.StatusCode != http.StatusOK || resp.Header.Get(RequestIDHeader) == "" {
			t.Errorf("GET %s: %d, request id %q", path, resp.StatusCode, resp.Header.Get(RequestIDHeader))
		}
	}
	resp, p := h.get(t, "/nope", "")
	if resp.StatusCode != http.StatusNotFound || p.Type != ProblemTypePrefix+"not-found" || !strings.Contains(p.Detail, "docs/server.md") || p.RequestID == "" {
		t.Errorf("GET /nope: %d %+v", resp.StatusCode, p)
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	h := start(t, Config{}, Route{Pattern: "GET /test/upload", Scope: token.Upload, Handler: okRoute})
	ctx := context.Background()
	upload := h.token(t, "ci", token.Upload)
	read := h.token(t, "reader", token.Read)
	revoked := h.token(t, "gone", token.Upload)
	p, _ := token.Parse(revoked)
	if err := h.tokens.Revoke(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	past := token.NewManager(h.db, token.WithParams(cheap), token.WithClock(func() time.Time { return time.Now().Add(-2 * time.Hour) }))
	expired, _, err := past.Create(ctx, token.CreateOptions{Name: "old", Scopes: []token.Scope{token.Upload}, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	up, _ := token.Parse(upload)
	wrong := token.Parsed{ID: up.ID, Secret: strings.Repeat("a", token.SecretLen)}.String()

	tests := []struct {
		name, auth string
		status     int
		challenge  string
		detail     string
	}{
		{"valid", "Bearer " + upload, 200, "", ""},
		{"scheme is case-insensitive", "bearer " + upload, 200, "", ""},
		{"missing", "", 401, `Bearer realm="slipway"`, `scope "upload"`},
		{"basic", "Basic dXNlcjpwdw==", 401, `error="invalid_request"`, "not a bearer token"},
		{"malformed", "Bearer abc", 401, `error="invalid_token"`, `does not start with "slw_"`},
		{"wrong secret", "Bearer " + wrong, 401, `error="invalid_token"`, "not valid on this server"},
		{"revoked", "Bearer " + revoked, 401, `error="invalid_token"`, "revoked"},
		{"expired", "Bearer " + expired, 401, `error="invalid_token"`, "expired"},
		{"wrong scope", "Bearer " + read, 403, `error="insufficient_scope", scope="upload"`, "--scope upload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, prob := h.get(t, "/test/upload", tt.auth)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%+v)", resp.StatusCode, tt.status, prob)
			}
			if got := resp.Header.Get("WWW-Authenticate"); !strings.Contains(got, tt.challenge) {
				t.Errorf("WWW-Authenticate %q, want it to hold %q", got, tt.challenge)
			}
			if tt.status != 200 && (!strings.Contains(prob.Detail, tt.detail) || prob.Status != tt.status || !strings.HasPrefix(prob.Type, ProblemTypePrefix)) {
				t.Errorf("problem %+v, want detail holding %q", prob, tt.detail)
			}
		})
	}
	// Neither the log nor an answer may hold a token.
	logs := h.log.String()
	for _, tok := range []string{upload, read, revoked, expired, wrong} {
		secret := tok[len(tok)-token.SecretLen:]
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds a token's secret:\n%s", logs)
		}
	}
	if !strings.Contains(logs, `"identity":"token:ci/`+up.ID+`"`) || !strings.Contains(logs, `"request_id":"`) {
		t.Errorf("the log does not name the identity and request id:\n%s", logs)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	h := start(t, Config{RateLimit: RateLimit{PerSecond: 0.5, Burst: 2}}, Route{Pattern: "GET /test/read", Scope: token.Read, Handler: okRoute})
	a := "Bearer " + h.token(t, "a", token.Read)
	b := "Bearer " + h.token(t, "b", token.Read)
	for i := range 2 {
		if resp, p := h.get(t, "/test/read", a); resp.StatusCode != 200 {
			t.Fatalf("request %d within the burst: %d %+v", i, resp.StatusCode, p)
		}
	}
	resp, p := h.get(t, "/test/read", a)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || p.Type != ProblemTypePrefix+"rate-limited" {
		t.Fatalf("over the limit: %d, Retry-After %q, %+v", resp.StatusCode, resp.Header.Get("Retry-After"), p)
	}
	if resp, _ := h.get(t, "/test/read", b); resp.StatusCode != 200 {
		t.Errorf("another identity was limited too: %d", resp.StatusCode)
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	h := start(t, Config{}, Route{Pattern: "GET /test/read", Scope: token.Read, Handler: okRoute})
	h.get(t, "/test/read", "")
	h.get(t, "/healthz", "")
	resp, err := http.Get(h.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`slipway_http_requests_total{code="401",method="GET",route="GET /test/read"} 1`,
		`slipway_http_requests_total{code="200",method="GET",route="GET /healthz"} 1`,
		`slipway_http_request_duration_seconds_count{method="GET",route="GET /healthz"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// A request in flight when the server is told to stop still gets its
// answer; new connections are refused; Serve returns nil.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	h := start(t, Config{ShutdownTimeout: 5 * time.Second}, Route{Pattern: "GET /test/slow", Handler: func(w http.ResponseWriter, r *http.Request) error {
		close(entered)
		<-release
		return writeJSON(w, http.StatusOK, map[string]string{"status": "finished"})
	}})
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get(h.url + "/test/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		got <- resp.Status + " " + string(body)
	}()
	<-entered
	h.cancel()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(h.log.String(), "shutting down") && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(h.url, "http://"), time.Second); err == nil {
		// Shutdown closes the listener before it waits; a dial after that fails.
		t.Error("the server still accepts connections while shutting down")
	}
	close(release)
	if answer := <-got; !strings.Contains(answer, "200 OK") || !strings.Contains(answer, "finished") {
		t.Errorf("the in-flight request got %q", answer)
	}
	if err := <-h.done; err != nil {
		t.Errorf("Serve after a graceful shutdown: %v", err)
	}
	h.done <- nil // for the cleanup
	if !strings.Contains(h.log.String(), `"msg":"stopped"`) {
		t.Errorf("no stopped line in the log:\n%s", h.log.String())
	}
}

func TestShutdownTimeout(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	h := start(t, Config{ShutdownTimeout: 50 * time.Millisecond}, Route{Pattern: "GET /test/stuck", Handler: func(w http.ResponseWriter, r *http.Request) error {
		close(entered)
		<-r.Context().Done()
		return nil
	}})
	go http.Get(h.url + "/test/stuck")
	<-entered
	h.cancel()
	err := <-h.done
	h.done <- nil
	if err == nil || !strings.Contains(err.Error(), "--shutdown-timeout") {
		t.Errorf("Serve with a stuck request: %v, want the timeout named", err)
	}
}
