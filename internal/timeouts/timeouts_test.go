package timeouts

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/testutil/silent"
)

// short keeps the tests quick; the guard bounds a test that would hang.
var short = Config{Connect: 300 * time.Millisecond, Response: 300 * time.Millisecond}

const guard = 20 * time.Second

// within fails the test when f does not return within guard.
func within(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(guard):
		t.Fatalf("still waiting after %s", guard)
		return nil
	}
}

func wantTimeout(t *testing.T, err error, phase Phase, host string, words ...string) {
	t.Helper()
	var te *Error
	if !errors.As(err, &te) || te.Phase != phase {
		t.Fatalf("error = %v, want a timeouts.Error of phase %d", err, phase)
	}
	for _, w := range append([]string{host}, words...) {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("error %q does not say %q", err, w)
		}
	}
}

func TestTransportSilentPeers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		server func(t testing.TB) *silent.Server
		scheme string
		method string
		body   io.Reader
		phase  Phase
		words  []string
	}{
		{name: "no response", server: silent.Listen, scheme: "http", method: http.MethodGet, phase: ResponsePhase,
			words: []string{"no response from registry", "within 300ms (timeout)", "--timeout", TimeoutEnv}},
		{name: "no TLS handshake", server: silent.Listen, scheme: "https", method: http.MethodGet, phase: ConnectPhase,
			words: []string{"could not connect to registry", "(connect-timeout)", "--connect-timeout", ConnectEnv}},
		{name: "upload never read", server: silent.Listen, scheme: "http", method: http.MethodPut,
			body: bytes.NewReader(make([]byte, 64<<20)), phase: ResponsePhase, words: []string{"no response"}},
		{name: "body stops", scheme: "http", method: http.MethodGet, phase: ResponsePhase,
			server: func(t testing.TB) *silent.Server {
				return silent.Stalling(t, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly this")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.server(t)
			client := &http.Client{Transport: short.Transport("registry")}
			err := within(t, func() error {
				req, err := http.NewRequest(tt.method, tt.scheme+"://"+s.Addr()+"/v2/", tt.body)
				if err != nil {
					return err
				}
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				_, err = io.ReadAll(resp.Body)
				return err
			})
			wantTimeout(t, err, tt.phase, s.Addr(), tt.words...)
		})
	}
}

// A transfer that keeps moving is never cut, however much longer than the
// limit it takes.
func TestTransportSlowButMoving(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			t.Error(err)
		}
		for range 8 {
			w.Write([]byte("chunk"))
			w.(http.Flusher).Flush()
			time.Sleep(250 * time.Millisecond)
		}
	}))
	defer srv.Close()
	// Each pause is well within the limit, the whole transfer is not.
	c := Config{Connect: time.Second, Response: 1500 * time.Millisecond}
	client := &http.Client{Transport: c.Wrap("", srv.Client().Transport)}
	// The request body is produced slowly too: Slipway's own pauses do not
	// count against the peer.
	body := &slowReader{n: 5, pause: 400 * time.Millisecond}
	resp, err := client.Post(srv.URL, "application/octet-stream", body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || string(b) != strings.Repeat("chunk", 8) {
		t.Fatalf("body %q, %v", b, err)
	}
}

type slowReader struct {
	n     int
	pause time.Duration
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	r.n--
	time.Sleep(r.pause)
	return copy(p, "x"), nil
}

// go-containerregistry with RemoteOptions: a silent registry fails with the
// limit named, and is not asked again. (A loopback registry is tried over
// HTTPS, then HTTP: one connection each.)
func TestRemoteOptionsSilentRegistry(t *testing.T) {
	t.Parallel()
	s := silent.Listen(t)
	ref, err := name.ParseReference(s.Addr()+"/app:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	err = within(t, func() error {
		_, err := remote.Head(ref, short.RemoteOptions(context.Background())...)
		return err
	})
	wantTimeout(t, err, ConnectPhase, s.Addr(), "could not connect to registry", "no response from registry")
	if n := s.Accepted(); n != 2 {
		t.Fatalf("the registry was asked %d times, want once per scheme (a timeout is not retried)", n)
	}
}

// The pause between attempts ends when the context does.
func TestRetryPauseEndsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	_, pred := RetryOptions(ctx, remote.Backoff{Duration: time.Hour, Steps: 3}, func(error) bool { return true })
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancel()
	}()
	if err := within(t, func() error {
		if pred(io.ErrUnexpectedEOF) {
			return errors.New("the predicate said retry after its context was cancelled")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if pred(errors.New("x")) {
		t.Fatal("the predicate said retry with its context done")
	}
	live, _ := RetryOptions(context.Background(), DefaultBackoff, isTransient)
	if live.Steps != DefaultBackoff.Steps || live.Duration != 0 {
		t.Fatalf("backoff %+v: want %d attempts and no sleep of its own", live, DefaultBackoff.Steps)
	}
}

func TestCall(t *testing.T) {
	t.Parallel()
	block := func(ctx context.Context) (int, error) { select {} }
	_, err := within2(t, func() (int, error) { return Call(context.Background(), short, "Vault", "http://127.0.0.1:8200", block) })
	wantTimeout(t, err, CallPhase, "http://127.0.0.1:8200", "no answer from Vault", "within 600ms (connect-timeout + timeout)")

	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("interrupted")
	cancel(stop)
	if _, err := Call(ctx, short, "Vault", "x", block); !errors.Is(err, stop) {
		t.Fatalf("Call with a cancelled context = %v, want its cause", err)
	}
	if v, err := Call(context.Background(), short, "", "x", func(context.Context) (int, error) { return 7, nil }); v != 7 || err != nil {
		t.Fatalf("Call = %d, %v", v, err)
	}
}

func within2(t *testing.T, f func() (int, error)) (int, error) {
	var v int
	err := within(t, func() error {
		var err error
		v, err = f()
		return err
	})
	return v, err
}
