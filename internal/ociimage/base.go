package ociimage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/slipway/actions/internal/exitcode"
	"github.com/slipway/actions/internal/registryref"
)

// Scratch names the empty base image.
const Scratch = "scratch"

// LayoutPrefix marks a base that is an OCI image layout directory.
const LayoutPrefix = "oci-layout:"

// BaseOptions say where to find a base image.
type BaseOptions struct {
	// Ref is "scratch", "oci-layout:<dir>", a directory holding an OCI image
	// layout, or a registry reference ("registry/repo:tag" or "@sha256:…";
	// loopback registries are reached over plain HTTP).
	Ref string
	// Dir resolves relative layout paths (the workspace).
	Dir string
	// Platform selects the image from a multi-platform base
	// ("linux/amd64", "linux/arm64/v8").
	Platform string
	// Transport reaches registries; nil means remote.DefaultTransport.
	Transport http.RoundTripper
	// Keychain finds registry credentials; nil means authn.DefaultKeychain
	// (the Docker config file).
	Keychain authn.Keychain
}

// Base is a resolved base image.
type Base struct {
	// Name says where it came from, for logs.
	Name string
	// Image is nil for scratch.
	Image v1.Image
	// Platform is the platform the new image is for.
	Platform v1.Platform
}

// ResolveBase finds the base image and checks that it is for the platform.
// Layers are not fetched yet.
func ResolveBase(ctx context.Context, o BaseOptions) (*Base, error) {
	plat, err := ParsePlatform(o.Platform)
	if err != nil {
		return nil, exitcode.BadInput(err)
	}
	b := &Base{Name: o.Ref, Platform: plat}
	ref := strings.TrimSpace(o.Ref)
	switch {
	case ref == "" || ref == Scratch:
		b.Name = Scratch
		return b, nil
	case strings.HasPrefix(ref, LayoutPrefix):
		b.Image, err = fromLayout(resolve(o.Dir, strings.TrimPrefix(ref, LayoutPrefix)), plat)
	case isLayout(resolve(o.Dir, ref)):
		b.Image, err = fromLayout(resolve(o.Dir, ref), plat)
	default:
		b.Image, err = fromRegistry(ctx, ref, plat, o)
	}
	if err != nil {
		return nil, err
	}
	cfg, err := b.Image.ConfigFile()
	if err != nil {
		return nil, exitcode.Infraf("reading the config of base image %q: %w", ref, err)
	}
	if have := cfg.Platform(); have == nil || !have.Satisfies(plat) {
		return nil, exitcode.BadInputf("base image %q is for %s, not %s; choose a base for %s or set image-platform", ref, platformString(have), plat.String(), plat.String())
	}
	return b, nil
}

// ParsePlatform parses "os/arch[/variant]".
func ParsePlatform(s string) (v1.Platform, error) {
	if s == "" {
		s = "linux/amd64"
	}
	p, err := v1.ParsePlatform(s)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return v1.Platform{}, fmt.Errorf("platform %q is not os/arch[/variant]; write it like \"linux/amd64\" or \"linux/arm64/v8\"", s)
	}
	return *p, nil
}

func platformString(p *v1.Platform) string {
	if p == nil || p.OS == "" {
		return "an unknown platform"
	}
	return p.String()
}

func resolve(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

func isLayout(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, "oci-layout"))
	return err == nil && fi.Mode().IsRegular()
}

// fromLayout picks the image for plat from the layout at dir, looking into
// nested indexes.
func fromLayout(dir string, plat v1.Platform) (v1.Image, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, exitcode.BadInputf("reading the OCI image layout %q: %w; the base must be a directory with oci-layout and index.json", dir, err)
	}
	var matches []v1.Image
	var seen []string
	if err := collect(idx, plat, &matches, &seen); err != nil {
		return nil, exitcode.BadInputf("reading the OCI image layout %q: %w", dir, err)
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return nil, exitcode.BadInputf("the OCI image layout %q has no image for %s (it has: %s); set image-platform or use another base", dir, plat.String(), strings.Join(seen, ", "))
	}
	return nil, exitcode.BadInputf("the OCI image layout %q has %d images for %s; keep one, or name the base by registry digest", dir, len(matches), plat.String())
}

func collect(idx v1.ImageIndex, plat v1.Platform, out *[]v1.Image, seen *[]string) error {
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, d := range im.Manifests {
		if d.MediaType.IsIndex() {
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return err
			}
			if err := collect(child, plat, out, seen); err != nil {
				return err
			}
			continue
		}
		if !d.MediaType.IsImage() {
			continue
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			return err
		}
		p := d.Platform
		if p == nil {
			cfg, err := img.ConfigFile()
			if err != nil {
				return err
			}
			p = cfg.Platform()
		}
		*seen = append(*seen, platformString(p))
		if p != nil && p.Satisfies(plat) {
			*out = append(*out, img)
		}
	}
	return nil
}

func fromRegistry(ctx context.Context, s string, plat v1.Platform, o BaseOptions) (v1.Image, error) {
	ref, err := registryref.Parse(s)
	if err != nil {
		return nil, exitcode.BadInputf("image-base: %w; or use \"scratch\", or \"oci-layout:<directory>\" for an OCI image layout", err)
	}
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithPlatform(plat), remote.WithAuthFromKeychain(kc), remote.WithUserAgent("slipway")}
	if o.Transport != nil {
		opts = append(opts, remote.WithTransport(o.Transport))
	}
	img, err := remote.Image(ref, opts...)
	if err != nil {
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode >= 400 && te.StatusCode < 500 {
			return nil, exitcode.BadInputf("fetching base image %q: %w; check the reference and the registry credentials", s, err)
		}
		return nil, exitcode.Infraf("fetching base image %q: %w; is the registry reachable?", s, err)
	}
	return img, nil
}
