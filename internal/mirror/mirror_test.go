package mirror_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/mirror"
	"github.com/slipway/actions/internal/testutil/registry"
	"github.com/slipway/actions/internal/timeouts"
)

// TestFetchAndServe copies an image from a real registry into a blob store
// and reads it back through the copy's transport, layers and all (their
// digests checked by go-containerregistry); the copy serves nothing else
// and takes no writes.
func TestFetchAndServe(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	tag, d := registry.PushRandomImage(t, addr, "team/app")
	blobs, err := blobstore.NewFS(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	ref := tag.Context().Digest(d.String())
	ctx := context.Background()
	cp, err := mirror.Fetch(ctx, ref, mirror.Options{Blobs: blobs, Transport: mirror.Guard(timeouts.Config{}, true)})
	if err != nil {
		t.Fatal(err)
	}
	if cp.Image.Digest.String() != d.String() || len(cp.Digests()) != 1 || cp.Bytes < 1024 {
		t.Fatalf("copy = %+v", cp)
	}
	if len(cp.Files) != 4 { // manifest, config, two layers
		t.Errorf("files = %+v, want the manifest, the config and two layers", cp.Files)
	}
	for _, f := range cp.Files {
		if f.Of != cp.Image.Digest {
			t.Errorf("file %+v does not belong to the image", f)
		}
	}
	img, err := remote.Image(ref, remote.WithTransport(cp.Transport()))
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 2 {
		t.Fatalf("layers = %d, %v", len(layers), err)
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Fatalf("reading a layer of the copy: %v", err)
		}
		if err := rc.Close(); err != nil {
			t.Fatalf("a layer of the copy: %v", err)
		}
	}
	_, err = remote.Image(ref.Context().Tag("v1"), remote.WithTransport(cp.Transport()))
	var te *transport.Error
	if !errors.As(err, &te) || te.StatusCode != http.StatusNotFound {
		t.Errorf("a tag the copy did not fetch: %v, want 404", err)
	}
	other, _ := name.NewDigest("other.example/team/app@" + d.String())
	if _, err := remote.Image(other, remote.WithTransport(cp.Transport())); !errors.As(err, &te) || te.StatusCode != http.StatusNotFound {
		t.Errorf("another registry through the copy: %v, want 404", err)
	}
	if err := remote.Write(ref.Context().Tag("v2"), img, remote.WithTransport(cp.Transport())); err == nil {
		t.Error("the copy took a write")
	}

	// Not there: an *Error with the registry's 404.
	_, err = mirror.Fetch(ctx, ref.Context().Digest("sha256:"+d.Hex[:60]+"0000"), mirror.Options{Blobs: blobs, Transport: mirror.Guard(timeouts.Config{}, true)})
	var me *mirror.Error
	if !errors.As(err, &me) || me.Status != http.StatusNotFound {
		t.Errorf("a digest the registry does not hold: %v", err)
	}
	// Over the blob limit: refused before it is read.
	_, err = mirror.Fetch(ctx, ref, mirror.Options{Blobs: blobs, MaxBlobSize: 100, Transport: mirror.Guard(timeouts.Config{}, true)})
	var tl *blobstore.TooLargeError
	if !errors.As(err, &tl) || tl.Limit != 100 {
		t.Errorf("a layer over the limit: %v", err)
	}
}

// TestGuard: the registry transport refuses non-public addresses at
// connect time (whatever the reference said), unless allowed.
func TestGuard(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	_, err := (&http.Client{Transport: mirror.Guard(timeouts.Config{}, false)}).Get(srv.URL)
	if !mirror.IsPrivateAddress(err) {
		t.Fatalf("GET %s through the guard: %v, want a refused private address", srv.URL, err)
	}
	resp, err := (&http.Client{Transport: mirror.Guard(timeouts.Config{}, true)}).Get(srv.URL)
	if err != nil {
		t.Fatalf("GET %s with private addresses allowed: %v", srv.URL, err)
	}
	resp.Body.Close()

	addr := registry.Start(t)
	tag, d := registry.PushRandomImage(t, addr, "team/app")
	blobs, err := blobstore.NewFS(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = mirror.Fetch(context.Background(), tag.Context().Digest(d.String()), mirror.Options{Blobs: blobs, Transport: mirror.Guard(timeouts.Config{}, false)})
	if !mirror.IsPrivateAddress(err) {
		t.Fatalf("Fetch from a loopback registry through the guard: %v", err)
	}
}

func TestCheckHost(t *testing.T) {
	t.Parallel()
	for host, public := range map[string]bool{
		"ghcr.io": true, "registry.example.org:443": true, "8.8.8.8": true, "[2001:4860:4860::8888]:443": true,
		"localhost:5000": false, "LOCALHOST": false, "app.localhost": false, "127.0.0.1:5000": false, "10.1.2.3": false,
		"192.168.1.1:443": false, "172.16.0.1": false, "169.254.169.254": false, "[::1]:5000": false, "[fe80::1]": false,
		"[fd00::1]": false, "100.64.0.1": false, "0.0.0.0": false, "[::ffff:127.0.0.1]:80": false,
	} {
		if err := mirror.CheckHost(host); (err == nil) != public {
			t.Errorf("CheckHost(%q) = %v, want public=%v", host, err, public)
		}
	}
	if mirror.Public(netip.Addr{}) {
		t.Error("the zero address is public")
	}
}
