package sbom

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/testutil/registry"
)

// testImage is a one-layer image holding a Go binary at /app/tiny.
func testImage(t testing.TB) v1.Image {
	t.Helper()
	bin := buildGoBinary(t, t.TempDir())
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	layer, err := crane.Layer(map[string][]byte{"app/tiny": b})
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	cfg.Config.Entrypoint = []string{"/app/tiny"}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// checkImageSBOM checks that the SBOM of img is bound to its manifest digest
// and lists the Go binary's main module.
func checkImageSBOM(t *testing.T, res *Result, img v1.Image, out string) {
	t.Helper()
	want, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if res.SubjectDigest.String() != want.String() {
		t.Errorf("subject digest = %s, want the manifest digest %s", res.SubjectDigest, want)
	}
	bom := cdxDoc(t, out, want.Hex)
	if bom.Metadata.Component.Type != "container" {
		t.Errorf("metadata.component.type = %q, want container", bom.Metadata.Component.Type)
	}
	found := false
	for _, c := range *bom.Components {
		found = found || c.Name == "example.com/tiny"
	}
	if !found {
		t.Errorf("the image SBOM lacks the Go module example.com/tiny in /app/tiny")
	}
}

func TestOCILayout(t *testing.T) {
	t.Parallel()
	ws := t.TempDir()
	img := testImage(t)
	p, err := layout.Write(filepath.Join(ws, "image"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	res, err := Generate(context.Background(), Options{Subject: "oci-layout:image", Dir: ws, Created: created})
	if err != nil {
		t.Fatal(err)
	}
	if res.Output != "image.cdx.json" {
		t.Errorf("default output = %q, want image.cdx.json next to the layout", res.Output)
	}
	checkImageSBOM(t, res, img, filepath.Join(ws, res.Output))

	spdxOut := filepath.Join(ws, "image.spdx.json")
	res, err = Generate(context.Background(), Options{Subject: "oci-layout:image", Format: "spdx-json", Dir: ws, Created: created})
	if err != nil {
		t.Fatal(err)
	}
	spdxCheck(t, spdxOut, res.SubjectDigest.Hex())
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	img := testImage(t)
	ref, err := name.ParseReference(addr+"/team/tiny:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	ws := t.TempDir()
	for _, subject := range []string{"registry:" + addr + "/team/tiny:v1", addr + "/team/tiny:v1"} {
		res, err := Generate(context.Background(), Options{Subject: subject, Dir: ws, Created: created})
		if err != nil {
			t.Fatalf("%s: %v", subject, err)
		}
		if res.Output != "tiny-v1.cdx.json" || res.Subject.Kind != KindRegistry {
			t.Errorf("%s: output %q, kind %s; want tiny-v1.cdx.json, registry image", subject, res.Output, res.Subject.Kind)
		}
		checkImageSBOM(t, res, img, filepath.Join(ws, res.Output))
	}

	_, err = Generate(context.Background(), Options{Subject: "registry:" + addr + "/team/missing:v1", Dir: ws})
	if err == nil || exitcode.Of(err) != exitcode.Usage || !strings.Contains(err.Error(), "check the reference") {
		t.Errorf("missing image: error = %v (exit %d), want exit 2 saying to check the reference", err, exitcode.Of(err))
	}
}
