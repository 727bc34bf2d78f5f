package ocibundle

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway/actions/internal/testutil/registry"
)

func TestBuild(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	tag, d := registry.PushRandomImage(t, addr, "node/random")
	dir := filepath.Join(t.TempDir(), "bundle")
	b, err := Build(context.Background(), Options{Ref: tag.Context().Digest(d.String()).String(), Dir: dir, Args: []string{"/run", "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if b.Digest != d.String() || b.Layers != 2 || b.Bytes <= 0 {
		t.Errorf("bundle %+v", b)
	}
	es, err := os.ReadDir(filepath.Join(dir, "rootfs"))
	if err != nil || len(es) == 0 {
		t.Fatalf("rootfs holds %d entries (%v)", len(es), err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s spec
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	if strings.Join(s.Process.Args, " ") != "/run x" || s.Process.Terminal || s.Root.Path != "rootfs" || s.Linux.UIDMappings[0].HostID != os.Getuid() {
		t.Errorf("config.json: %s", raw)
	}
}

func TestBuildRefuses(t *testing.T) {
	t.Parallel()
	addr := registry.Start(t)
	tag, d := registry.PushRandomImage(t, addr, "node/random")

	// An image whose config names another uncompressed digest for its first layer.
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.RootFS.DiffIDs[0] = v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}
	bad, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	badTag, _ := name.NewTag(addr + "/node/bad:v1")
	if err := remote.Write(badTag, bad); err != nil {
		t.Fatal(err)
	}
	badDigest, _ := bad.Digest()

	existing := t.TempDir()
	for _, tc := range []struct {
		name, ref, dir, check, want string
	}{
		{"by tag", tag.String(), "", "", "not a reference by digest"},
		{"unknown digest", tag.Context().Digest("sha256:" + strings.Repeat("0", 64)).String(), "", "manifest", "fetching"},
		{"wrong diff_id", badTag.Context().Digest(badDigest.String()).String(), "", "layer", "diff_id says sha256:abab"},
		{"existing directory", tag.Context().Digest(d.String()).String(), existing, "", "exists already"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := tc.dir
			if dir == "" {
				dir = filepath.Join(t.TempDir(), "bundle")
			}
			_, err := Build(context.Background(), Options{Ref: tc.ref, Dir: dir, Args: []string{"/x"}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			var e *Error
			if tc.check != "" && (!errors.As(err, &e) || e.Check != tc.check) {
				t.Errorf("got %v, want check %q", err, tc.check)
			}
			if tc.dir == "" {
				if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the bundle directory stays after a refusal: %v", err)
				}
			}
		})
	}
}
