package pull_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/pull"
	"github.com/slipway/actions/internal/testutil/registry"
	"github.com/slipway/actions/internal/timeouts"
)

// hostileRegistry is a proxy in front of a real registry that changes what
// it serves for one path: what a compromised registry or a man in the
// middle of plain HTTP could do.
func hostileRegistry(t *testing.T, upstream, pathSuffix string, change func(*http.Response)) string {
	t.Helper()
	u, err := url.Parse("http://" + upstream)
	if err != nil {
		t.Fatal(err)
	}
	p := httputil.NewSingleHostReverseProxy(u)
	p.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method == http.MethodGet && strings.HasSuffix(resp.Request.URL.Path, pathSuffix) && resp.StatusCode == http.StatusOK {
			change(resp)
		}
		return nil
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// endless is an infinite stream of zeros.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// stall sends a few bytes, then nothing until the request ends.
type stall struct {
	ctx  context.Context
	sent bool
}

func (s *stall) Read(p []byte) (int, error) {
	if !s.sent {
		s.sent = true
		return copy(p, "the"), nil
	}
	<-s.ctx.Done()
	return 0, s.ctx.Err()
}

func TestPullFromHostileRegistry(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	r := newRelease(t, addr, "team/app", appFiles)
	app, _, err := digest.Copy(io.Discard, strings.NewReader(appFiles["dist/app"]))
	if err != nil {
		t.Fatal(err)
	}
	pinned := func(proxy string) string { return strings.Replace(r.pinned, addr, proxy, 1) }
	tests := []struct {
		name   string
		suffix string
		change func(*http.Response)
		want   string
	}{
		{"other bytes of the same length", "/blobs/" + app.String(), func(resp *http.Response) {
			resp.Body = io.NopCloser(strings.NewReader("THE APP\n"))
		}, "has digest sha256:"},
		{"an endless blob", "/blobs/" + app.String(), func(resp *http.Response) {
			resp.Body, resp.ContentLength = io.NopCloser(endless{}), -1
			resp.Header.Del("Content-Length")
		}, "is longer than the 8 bytes its descriptor gives"},
		{"another manifest", "/manifests/" + r.pinned[strings.LastIndex(r.pinned, "@")+1:], func(resp *http.Response) {
			b, _ := io.ReadAll(resp.Body)
			b = bytes.Replace(b, []byte(`"schemaVersion":2`), []byte(`"schemaVersion": 2`), 1)
			resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
			resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		}, "the registry served other content than the digest pins"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			proxy := hostileRegistry(t, addr, tc.suffix, tc.change)
			parent, _, _, err := pullInto(t, pull.Options{Ref: pinned(proxy), Verifier: verifier(r.policy)})
			if exitcode.Of(err) != exitcode.Failed || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Pull() = %v (exit %d), want exit 1 and %q", err, exitcode.Of(err), tc.want)
			}
			if e := entries(t, parent); len(e) != 0 {
				t.Errorf("the output's parent holds %q, want nothing", e)
			}
		})
	}

	t.Run("interrupted", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		proxy := hostileRegistry(t, addr, "/blobs/"+app.String(), func(resp *http.Response) {
			resp.Body = io.NopCloser(&stall{ctx: resp.Request.Context()})
			time.AfterFunc(200*time.Millisecond, cancel)
		})
		parent := t.TempDir()
		start := time.Now()
		_, err := pull.Pull(ctx, pull.Options{Ref: pinned(proxy), Verifier: verifier(r.policy), OutputDir: parent + "/out"})
		if exitcode.Of(err) != exitcode.Internal || time.Since(start) > 10*time.Second {
			t.Fatalf("Pull() = %v (exit %d) after %v, want an interruption", err, exitcode.Of(err), time.Since(start))
		}
		if e := entries(t, parent); len(e) != 0 {
			t.Errorf("the output's parent holds %q after an interruption, want nothing", e)
		}
	})

	t.Run("silent", func(t *testing.T) {
		t.Parallel()
		proxy := hostileRegistry(t, addr, "/blobs/"+app.String(), func(resp *http.Response) {
			resp.Body = io.NopCloser(&stall{ctx: resp.Request.Context()})
		})
		parent := t.TempDir()
		limits := timeouts.Config{Connect: time.Second, Response: time.Second}
		start := time.Now()
		_, err := pull.Pull(context.Background(), pull.Options{Ref: pinned(proxy), Verifier: verifier(r.policy), OutputDir: parent + "/out",
			Transport: limits.Transport("registry")})
		if exitcode.Of(err) != exitcode.Internal || !strings.Contains(err.Error(), "--timeout") || time.Since(start) > 20*time.Second {
			t.Fatalf("Pull() = %v (exit %d) after %v, want the timeout named, once", err, exitcode.Of(err), time.Since(start))
		}
		if e := entries(t, parent); len(e) != 0 {
			t.Errorf("the output's parent holds %q after a timeout, want nothing", e)
		}
	})
}
