package registry

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// do sends a request and fails the test unless the status is want; it returns the response with its body read.
func do(t *testing.T, method, u, contentType string, body []byte, want int) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, u, err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %s, want %d; body: %s", method, u, resp.Status, want, got)
	}
	return resp, got
}

// pushBlob uploads b in one request (POST then PUT with the digest) and returns its digest.
func pushBlob(t *testing.T, base, repo string, b []byte) string {
	t.Helper()
	resp, _ := do(t, http.MethodPost, base+"/v2/"+repo+"/blobs/uploads/", "", nil, http.StatusAccepted)
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("upload location %q: %v", resp.Header.Get("Location"), err)
	}
	upload := resp.Request.URL.ResolveReference(loc)
	d := digestOf(b)
	q := upload.Query()
	q.Set("digest", d)
	upload.RawQuery = q.Encode()
	do(t, http.MethodPut, upload.String(), "application/octet-stream", b, http.StatusCreated)
	return d
}

func TestStartRoundTrip(t *testing.T) {
	t.Parallel()
	addr := Start(t)
	if host, _, err := net.SplitHostPort(addr); err != nil || host != "127.0.0.1" {
		t.Fatalf("Start() = %q, want 127.0.0.1:PORT", addr)
	}
	base := "http://" + addr
	const repo = "slipway/test"

	layer := []byte("a layer that is not really a tarball\n")
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layerDigest := pushBlob(t, base, repo, layer)
	cfgDigest := pushBlob(t, base, repo, cfg)

	_, got := do(t, http.MethodGet, base+"/v2/"+repo+"/blobs/"+layerDigest, "", nil, http.StatusOK)
	if !bytes.Equal(got, layer) {
		t.Fatalf("blob read back = %q, want %q", got, layer)
	}

	const manifestType = "application/vnd.oci.image.manifest.v1+json"
	manifest := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,"size":%d}]}`,
		manifestType, cfgDigest, len(cfg), layerDigest, len(layer)))
	resp, _ := do(t, http.MethodPut, base+"/v2/"+repo+"/manifests/v1", manifestType, manifest, http.StatusCreated)
	manifestDigest := digestOf(manifest)
	if got := resp.Header.Get("Docker-Content-Digest"); got != manifestDigest {
		t.Fatalf("Docker-Content-Digest = %q, want %q", got, manifestDigest)
	}

	_, body := do(t, http.MethodGet, base+"/v2/"+repo+"/tags/list", "", nil, http.StatusOK)
	var tags struct{ Tags []string }
	if err := json.Unmarshal(body, &tags); err != nil || strings.Join(tags.Tags, ",") != "v1" {
		t.Fatalf("tags/list = %s (%v), want tag v1", body, err)
	}

	// Deletion is enabled in the configuration.
	do(t, http.MethodDelete, base+"/v2/"+repo+"/manifests/"+manifestDigest, "", nil, http.StatusAccepted)
	do(t, http.MethodGet, base+"/v2/"+repo+"/manifests/"+manifestDigest, "", nil, http.StatusNotFound)
	do(t, http.MethodDelete, base+"/v2/"+repo+"/blobs/"+layerDigest, "", nil, http.StatusAccepted)
}

func TestStartIsolatedAndStopped(t *testing.T) {
	t.Parallel()
	var first, second string
	t.Run("start", func(t *testing.T) {
		first, second = Start(t), Start(t)
		if first == second {
			t.Fatalf("two registries share the address %s", first)
		}
		// A blob pushed to one is not in the other: each has its own storage.
		d := pushBlob(t, "http://"+first, "a/b", []byte("only in the first"))
		do(t, http.MethodHead, "http://"+second+"/v2/a/b/blobs/"+d, "", nil, http.StatusNotFound)
	})
	// The subtest's cleanups have run: nothing listens any more.
	for _, addr := range []string{first, second} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("registry at %s still accepts connections after its test ended", addr)
		}
	}
}

// TestStartWithHtpasswd: an authenticating registry is ready although GET /v2/ answers 401; it refuses
// requests without credentials or with a wrong password and accepts the user's.
func TestStartWithHtpasswd(t *testing.T) {
	t.Parallel()
	addr := Start(t, WithHtpasswd("alice", "s3cret pass"))
	resp, _ := do(t, http.MethodGet, "http://"+addr+"/v2/", "", nil, http.StatusUnauthorized)
	if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic") {
		t.Errorf("WWW-Authenticate = %q, want a Basic challenge", got)
	}
	for _, tc := range []struct {
		password string
		want     int
	}{{"wrong", http.StatusUnauthorized}, {"s3cret pass", http.StatusOK}} {
		req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/v2/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth("alice", tc.password)
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET /v2/ with password %q: %s, want %d", tc.password, resp.Status, tc.want)
		}
	}
}

func TestPushRandomImage(t *testing.T) {
	t.Parallel()
	addr := Start(t)
	tag, d := PushRandomImage(t, addr, "team/app")
	if tag.String() != addr+"/team/app:v1" {
		t.Errorf("tag = %s", tag)
	}
	desc, err := remote.Head(tag)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != d {
		t.Errorf("the registry has %s under the tag, PushRandomImage returned %s", desc.Digest, d)
	}
}
