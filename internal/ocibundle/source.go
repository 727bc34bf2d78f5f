package ocibundle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/regfile"
)

// source is where an image's manifests and blobs are read from: a
// registry, or an OCI image layout on disk. Nothing it returns is trusted:
// the caller hashes every byte.
type source interface {
	// manifest returns a manifest or index by digest, and its media type
	// when the source knows it.
	manifest(d digest.SHA256) ([]byte, types.MediaType, error)
	// blob opens a blob (a config, a layer) by its descriptor.
	blob(d v1.Descriptor) (io.ReadCloser, error)
	fmt.Stringer
}

// remoteSource reads a repository of a registry.
type remoteSource struct {
	repo name.Repository
	opts []remote.Option
}

func (r remoteSource) String() string { return "the registry's blob in " + r.repo.String() }

func (r remoteSource) manifest(d digest.SHA256) ([]byte, types.MediaType, error) {
	ref := r.repo.Digest(d.String())
	desc, err := remote.Get(ref, r.opts...)
	if err != nil {
		return nil, "", fmt.Errorf("fetching %s: %w", ref, err)
	}
	return desc.Manifest, desc.MediaType, nil
}

func (r remoteSource) blob(d v1.Descriptor) (io.ReadCloser, error) {
	l, err := remote.Layer(r.repo.Digest(d.Digest.String()), r.opts...)
	if err != nil {
		return nil, err
	}
	return l.Compressed()
}

// layoutSource reads the blobs of an OCI image layout directory
// (blobs/sha256/<hex>), each a regular file (internal/regfile).
type layoutSource struct{ dir string }

func (l layoutSource) String() string { return "the blob in layout " + l.dir }

// path is the blob's file; only sha256 digests name one.
func (l layoutSource) path(d string) (string, error) {
	sum, err := digest.Parse(d)
	if err != nil {
		return "", fmt.Errorf("blob %q: %w", d, err)
	}
	return filepath.Join(l.dir, "blobs", "sha256", sum.Hex()), nil
}

func (l layoutSource) manifest(d digest.SHA256) ([]byte, types.MediaType, error) {
	p, err := l.path(d.String())
	if err != nil {
		return nil, "", err
	}
	b, err := regfile.ReadAll(p, maxManifest)
	if err != nil {
		return nil, "", missing(err, d.String(), l.dir)
	}
	return b, "", nil
}

func (l layoutSource) blob(d v1.Descriptor) (io.ReadCloser, error) {
	p, err := l.path(d.Digest.String())
	if err != nil {
		return nil, err
	}
	f, err := regfile.Open(p)
	if err != nil {
		return nil, missing(err, d.Digest.String(), l.dir)
	}
	return f, nil
}

func missing(err error, d, dir string) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob %s is not in the image layout %q; stage the image again", d, dir)
	}
	return err
}

// LayoutOptions are the inputs of BuildLayout besides Options (whose Ref
// and Remote it does not use).
type LayoutOptions struct {
	Options
	// Layout is the OCI image layout directory the blobs are read from.
	Layout string
	// Digest is the image's manifest (or index) digest, "sha256:HEX".
	Digest string
	// Manifest, when set, is the manifest's content already read (and
	// checked by the caller, e.g. its signatures); its digest must be
	// Digest. Nil: read from the layout.
	Manifest []byte
}

// BuildLayout is Build from an OCI image layout on disk: the manifest
// (given or read), the config and every layer are hashed again as they are
// read, and unpacked into a fresh rootfs; a mismatch removes the bundle.
func BuildLayout(ctx context.Context, o LayoutOptions) (*Bundle, error) {
	want, err := digest.Parse(o.Digest)
	if err != nil {
		return nil, fmt.Errorf("image digest %q: %w", o.Digest, err)
	}
	if err := makeDir(o.Dir); err != nil {
		return nil, err
	}
	b, err := buildFrom(ctx, o.Options, layoutSource{dir: o.Layout}, want, o.Manifest)
	return cleanup(o.Dir, b, err)
}

// makeDir creates the bundle directory, which must not exist.
func makeDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("bundle directory %q exists already; give a new path (Build creates it, so that nothing unchecked is in it)", dir)
		}
		return fmt.Errorf("creating the bundle directory: %w", err)
	}
	return nil
}

// cleanup removes the bundle directory after a failed build.
func cleanup(dir string, b *Bundle, err error) (*Bundle, error) {
	if err == nil {
		return b, nil
	}
	if rerr := os.RemoveAll(dir); rerr != nil {
		err = fmt.Errorf("%w (and removing %q: %v)", err, dir, rerr)
	}
	return nil, err
}
