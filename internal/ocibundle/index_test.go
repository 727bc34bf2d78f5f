package ocibundle

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// writeIndexLayout writes an image index of a linux/amd64 and a
// linux/arm64/v8 image into a new OCI image layout and returns the layout,
// the index digest and the two images' manifest digests.
func writeIndexLayout(t *testing.T) (dir, index, amd64, arm64 string) {
	t.Helper()
	idx := v1.ImageIndex(empty.Index)
	var digests []string
	for _, p := range []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}} {
		img, err := random.Image(256, 1)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		digests = append(digests, d.String())
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	dir = filepath.Join(t.TempDir(), "image")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx); err != nil {
		t.Fatal(err)
	}
	d, _ := idx.Digest()
	return dir, d.String(), digests[0], digests[1]
}

// TestBuildLayoutIndex: an index is followed to the platform's image (the
// index and the image both checked against their digests); a platform the
// index has no image for is refused naming the platforms it has.
func TestBuildLayoutIndex(t *testing.T) {
	t.Parallel()
	dir, index, amd64, arm64 := writeIndexLayout(t)
	for _, tc := range []struct {
		name, platform, want, refusal string
		change                        func(t *testing.T)
	}{
		{name: "amd64", platform: "linux/amd64", want: amd64},
		{name: "arm64", platform: "linux/arm64/v8", want: arm64},
		{name: "no such platform", platform: "linux/s390x", refusal: "has no image for linux/s390x; its images are for linux/amd64, linux/arm64/v8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := v1.ParsePlatform(tc.platform)
			if err != nil {
				t.Fatal(err)
			}
			bdir := filepath.Join(t.TempDir(), "bundle")
			b, err := BuildLayout(context.Background(), LayoutOptions{Layout: dir, Digest: index, Options: Options{Dir: bdir, Args: []string{"/x"}, Platform: p}})
			if tc.refusal != "" {
				var e *Error
				if err == nil || !errors.As(err, &e) || e.Check != "platform" || !strings.Contains(err.Error(), tc.refusal) {
					t.Fatalf("got %v, want check platform saying %q", err, tc.refusal)
				}
				if _, err := os.Stat(bdir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the bundle directory stays after a refusal: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Digest != tc.want {
				t.Errorf("the bundle is of %s, want the %s image %s", b.Digest, tc.platform, tc.want)
			}
		})
	}
	t.Run("chosen manifest changed", func(t *testing.T) {
		t.Parallel()
		dir, index, amd64, _ := writeIndexLayout(t)
		p := filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(amd64, "sha256:"))
		os.Chmod(p, 0o644)
		if err := os.WriteFile(p, []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}`), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := BuildLayout(context.Background(), LayoutOptions{Layout: dir, Digest: index, Options: Options{Dir: filepath.Join(t.TempDir(), "bundle"), Args: []string{"/x"},
			Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
		var e *Error
		if err == nil || !errors.As(err, &e) || e.Check != "manifest" || !strings.Contains(err.Error(), amd64) {
			t.Fatalf("got %v, want check manifest naming %s", err, amd64)
		}
	})
}

// FuzzChooseManifest: any index JSON either yields an image manifest of
// the index whose platform satisfies the one asked, or an *Error.
func FuzzChooseManifest(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:`+strings.Repeat("a", 64)+`","size":1,"platform":{"os":"linux","architecture":"amd64"}}]}`), "linux/amd64")
	f.Add([]byte(`{"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}`), "linux/arm64")
	f.Add([]byte(`{"manifests":[{}]}`), "windows/amd64")
	f.Fuzz(func(t *testing.T, raw []byte, platform string) {
		p, err := v1.ParsePlatform(platform)
		if err != nil {
			return
		}
		d, err := ChooseManifest(raw, "sha256:test", *p)
		var e *Error
		switch {
		case err != nil && !errors.As(err, &e):
			t.Fatalf("error %v is not an *Error", err)
		case err == nil && (d.Platform == nil || !d.Platform.Satisfies(*p) || !d.MediaType.IsImage()):
			t.Fatalf("chose %+v for %s", d, platform)
		}
	})
}
