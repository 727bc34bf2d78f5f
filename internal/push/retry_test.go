package push

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/slipway/actions/internal/exitcode"
)

// faultProxy is a reverse proxy in front of a real registry that answers
// 503 to the first `fail` requests of each kind (method and API path:
// ping, manifests, blobs, uploads), so that every step of a push meets a
// transient error once.
type faultProxy struct {
	fail int // per kind; -1 means always

	mu      sync.Mutex
	seen    map[string]int
	faults  int
	proxied int
}

func startFaultProxy(t testing.TB, registryAddr string, fail int) (*faultProxy, string) {
	t.Helper()
	target, _ := url.Parse("http://" + registryAddr)
	rp := httputil.NewSingleHostReverseProxy(target)
	fp := &faultProxy{fail: fail, seen: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := r.Method + " " + apiKind(r.URL.Path)
		fp.mu.Lock()
		fp.seen[kind]++
		inject := fp.fail < 0 || fp.seen[kind] <= fp.fail
		if inject {
			fp.faults++
		} else {
			fp.proxied++
		}
		fp.mu.Unlock()
		if inject {
			http.Error(w, `{"errors":[{"code":"UNAVAILABLE","message":"injected fault"}]}`, http.StatusServiceUnavailable)
			return
		}
		rp.ServeHTTP(w, r) // keeps the Host header: the registry's Location URLs point back here
	}))
	t.Cleanup(srv.Close)
	return fp, strings.TrimPrefix(srv.URL, "http://")
}

func apiKind(path string) string {
	switch {
	case path == "/v2/":
		return "ping"
	case strings.Contains(path, "/blobs/uploads/"):
		return "uploads"
	case strings.Contains(path, "/blobs/"):
		return "blobs"
	case strings.Contains(path, "/manifests/"):
		return "manifests"
	}
	return path
}

func (fp *faultProxy) counts() (faults, proxied int, seen map[string]int) {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	seen = map[string]int{}
	for k, n := range fp.seen {
		seen[k] = n
	}
	return fp.faults, fp.proxied, seen
}

// TestTransientErrorsAreRetried: every kind of request fails twice with 503
// before the real registry answers; the push succeeds and the content is
// there.
func TestTransientErrorsAreRetried(t *testing.T) {
	t.Parallel()
	addr := startRegistry(t)
	fp, proxy := startFaultProxy(t, addr, 2)
	dir := t.TempDir()
	writeFile(t, dir, "big.bin", randomBytes(t, 2<<20))
	writeFile(t, dir, "small.txt", []byte("small"))
	res, err := Push(context.Background(), opts(t, dir, proxy+"/slipway/flaky:v1", "big.bin", "small.txt"))
	if err != nil {
		t.Fatalf("Push() through a flaky proxy: %v", err)
	}
	faults, proxied, seen := fp.counts()
	t.Logf("%d injected faults, %d proxied requests: %v", faults, proxied, seen)
	for _, k := range []string{"GET ping", "HEAD manifests", "POST uploads", "PATCH uploads", "PUT uploads", "PUT manifests"} {
		if seen[k] <= 2 {
			t.Errorf("%s: %d requests, want more than the 2 that failed", k, seen[k])
		}
	}
	// The content reached the real registry, unharmed.
	if d := headDigest(t, addr+"/slipway/flaky:v1"); d != res.Digest.String() {
		t.Errorf("registry has %s, push reported %s", d, res.Digest)
	}
	_, m := getManifest(t, addr+"/slipway/flaky:v1")
	if len(m.Layers) != 2 || m.Layers[1].Size != 5 {
		t.Errorf("layers = %+v", m.Layers)
	}
}

// TestRegistryKeepsFailing: a registry that only answers 503 gives an
// infrastructure error after the bounded retries.
func TestRegistryKeepsFailing(t *testing.T) {
	t.Parallel()
	addr := startRegistry(t)
	fp, proxy := startFaultProxy(t, addr, -1)
	dir := t.TempDir()
	writeFile(t, dir, "a", []byte("a"))
	o := opts(t, dir, proxy+"/slipway/down:v1", "a")
	_, err := Push(context.Background(), o)
	if exitcode.Of(err) != exitcode.Internal || !strings.Contains(err.Error(), "registry "+proxy+" kept failing (503 Service Unavailable) after retries") ||
		!strings.Contains(err.Error(), "check that the registry is reachable and healthy") {
		t.Fatalf("exit %d, %v; want exit 3 naming the registry", exitcode.Of(err), err)
	}
	if faults, _, _ := fp.counts(); faults != o.Backoff.Steps {
		t.Errorf("%d attempts, want %d (Backoff.Steps)", faults, o.Backoff.Steps)
	}
}
