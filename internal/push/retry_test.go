package push

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/exitcode"
)

// faultProxy is a reverse proxy in front of a real registry that answers
// 503 to the first `fail` requests of each kind (method and API path:
// ping, manifests, blobs, uploads), so that every step of a push meets a
// transient error once; with fail 0 it only records what it forwards.
type faultProxy struct {
	fail  int             // per kind; -1 means always
	kinds map[string]bool // the kinds that fail; nil means every kind

	mu       sync.Mutex
	seen     map[string]int
	faults   int
	proxied  int
	requests []string // "METHOD /path?query" of each request, in order
}

func startFaultProxy(t testing.TB, registryAddr string, fail int, kinds ...string) (*faultProxy, string) {
	t.Helper()
	target, _ := url.Parse("http://" + registryAddr)
	rp := httputil.NewSingleHostReverseProxy(target)
	fp := &faultProxy{fail: fail, seen: map[string]int{}}
	if len(kinds) > 0 {
		fp.kinds = map[string]bool{}
		for _, k := range kinds {
			fp.kinds[k] = true
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := r.Method + " " + apiKind(r.URL.Path)
		fp.mu.Lock()
		fp.requests = append(fp.requests, r.Method+" "+r.URL.RequestURI())
		fp.seen[kind]++
		inject := (fp.fail < 0 || fp.seen[kind] <= fp.fail) && (fp.kinds == nil || fp.kinds[kind])
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

// since returns the requests after the first n, and how many there are in all.
func (fp *faultProxy) since(n int) ([]string, int) {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	return slices.Clone(fp.requests[n:]), len(fp.requests)
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

// TestCancelStopsRetryWaits: a push whose requests keep failing with 503,
// with a backoff of a minute between attempts, stops within a second of
// its context being cancelled, whether the request that waits is retried
// by the transport (the tag lookup) or as a whole operation (a blob upload).
func TestCancelStopsRetryWaits(t *testing.T) {
	t.Parallel()
	addr := startRegistry(t)
	for _, kinds := range [][]string{{"HEAD manifests"}, {"POST uploads"}} {
		t.Run(kinds[0], func(t *testing.T) {
			t.Parallel()
			fp, proxy := startFaultProxy(t, addr, -1, kinds...)
			dir := t.TempDir()
			writeFile(t, dir, "a", []byte("a"))
			o := opts(t, dir, proxy+"/slipway/cancel:v1", "a")
			o.Backoff = remote.Backoff{Duration: time.Minute, Factor: 1, Steps: 5}
			o.Jobs = 1
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				// Cancel once the first attempt failed and the wait began.
				for {
					if faults, _, _ := fp.counts(); faults > 0 {
						break
					}
					time.Sleep(5 * time.Millisecond)
				}
				time.Sleep(50 * time.Millisecond)
				cancel()
			}()
			start := time.Now()
			_, err := Push(ctx, o)
			took := time.Since(start)
			if took > 5*time.Second {
				t.Errorf("Push returned %s after the first fault; a cancelled push must not wait out its backoff", took)
			}
			if !errors.Is(err, context.Canceled) || exitcode.Of(err) != exitcode.Internal {
				t.Errorf("error = %v (exit %d); want context.Canceled, exit 3", err, exitcode.Of(err))
			}
			if !strings.Contains(err.Error(), "while waiting to try again after: ") || !strings.Contains(err.Error(), kinds[0][strings.Index(kinds[0], " ")+1:]) {
				t.Errorf("error %q should name the failure it was retrying", err)
			}
			if faults, _, _ := fp.counts(); faults != 1 {
				t.Errorf("%d attempts, want 1: the cancel came during the first wait", faults)
			}
		})
	}
}
