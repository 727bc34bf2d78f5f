package ociimage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/archive"
	"github.com/slipway/actions/internal/digest"
)

// Options describe the image to build on a base.
type Options struct {
	// Entrypoint replaces the base's entrypoint (and clears its command)
	// when not empty.
	Entrypoint []string
	// Created is the image's creation time and the time of every new layer
	// entry: SOURCE_DATE_EPOCH.
	Created time.Time
	// CreatedBy describes the new layer in the image history.
	CreatedBy string
}

// Result is a written image.
type Result struct {
	// Digest and Size are those of the image manifest.
	Digest digest.SHA256
	Size   int64
	// Layout is the OCI image layout directory written.
	Layout string
	// ManifestPath is the manifest blob inside Layout.
	ManifestPath string
}

// Builder assembles one image. Add the new layer's files through Layer,
// then Commit; Abort discards everything (it is safe after Commit).
type Builder struct {
	base  *Base
	out   string
	tmp   string
	opts  Options
	layer *layerWriter
	tree  *fileLayer // the root tree's layer (AddRoot), nil without one
}

// NewBuilder starts an image on base, to be written as an OCI image layout
// at out (replaced when it exists).
func NewBuilder(out string, base *Base, o Options) (*Builder, error) {
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("creating directory %q: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary directory for %q: %w", out, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("creating a temporary directory for %q: %w", out, err)
	}
	blobs := filepath.Join(tmp, blobsDir)
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("creating %q: %w", blobs, err)
	}
	lw, err := newLayerWriter(blobs, o.Created)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	if o.CreatedBy == "" {
		o.CreatedBy = "slipway build"
	}
	return &Builder{base: base, out: out, tmp: tmp, opts: o, layer: lw}, nil
}

// blobsDir holds the blobs in an OCI image layout.
var blobsDir = filepath.Join("blobs", "sha256")

func (b *Builder) blobs() string { return filepath.Join(b.tmp, blobsDir) }

// Layer is the new layer: add files in increasing name order, with names
// relative to the image's root ("app", "opt/tool/bin/x").
func (b *Builder) Layer() *archive.Tar { return b.layer.tar }

// Abort removes what the builder wrote.
func (b *Builder) Abort() {
	b.layer.file.Close()
	os.RemoveAll(b.tmp)
}

// Commit finishes the layer, assembles the image, writes the layout and
// renames it into place.
func (b *Builder) Commit() (Result, error) {
	layer, err := b.layer.finish(b.blobs())
	if err != nil {
		return Result{}, err
	}
	img, err := b.assemble(layer)
	if err != nil {
		return Result{}, err
	}
	p, err := layout.Write(b.tmp, empty.Index)
	if err != nil {
		return Result{}, fmt.Errorf("writing the image layout: %w", err)
	}
	if err := p.AppendImage(img, layout.WithPlatform(b.base.Platform)); err != nil {
		return Result{}, fmt.Errorf("writing the image layout: %w", err)
	}
	h, err := img.Digest()
	if err != nil {
		return Result{}, fmt.Errorf("computing the image digest: %w", err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		return Result{}, fmt.Errorf("computing the image manifest: %w", err)
	}
	d, err := digest.ParseHex(h.Hex)
	if err != nil {
		return Result{}, err
	}
	if err := swapDir(b.tmp, b.out); err != nil {
		return Result{}, err
	}
	return Result{
		Digest: d, Size: int64(len(raw)), Layout: b.out,
		ManifestPath: filepath.Join(b.out, blobsDir, d.Hex()),
	}, nil
}

// assemble puts the base's layers and the new one into an OCI image and
// writes its config: the base's, with the new layer, history entry,
// creation time and entrypoint.
func (b *Builder) assemble(layer *fileLayer) (v1.Image, error) {
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	plat := b.base.Platform
	cfg := &v1.ConfigFile{OS: plat.OS, Architecture: plat.Architecture, Variant: plat.Variant, RootFS: v1.RootFS{Type: "layers"}}
	var adds []mutate.Addendum
	if b.base.Image != nil {
		baseCfg, err := b.base.Image.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("reading the base image config: %w", err)
		}
		cfg = baseCfg.DeepCopy()
		layers, err := b.base.Image.Layers()
		if err != nil {
			return nil, fmt.Errorf("reading the base image layers: %w", err)
		}
		for _, l := range layers {
			mt, err := l.MediaType()
			if err != nil {
				return nil, fmt.Errorf("reading a base image layer: %w", err)
			}
			adds = append(adds, mutate.Addendum{Layer: ociLayer{Layer: l, mediaType: ociMediaType(mt)}, MediaType: ociMediaType(mt)})
		}
	}
	created := v1.Time{Time: time.Unix(b.opts.Created.Unix(), 0).UTC()}
	cfg.Created = created
	for _, l := range []struct {
		layer *fileLayer
		by    string
	}{{b.tree, b.opts.CreatedBy + ": image root"}, {layer, b.opts.CreatedBy}} {
		if l.layer == nil {
			continue
		}
		adds = append(adds, mutate.Addendum{Layer: l.layer, MediaType: types.OCILayer})
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, l.layer.diffID)
		cfg.History = append(cfg.History, v1.History{Created: created, CreatedBy: l.by})
	}
	img, err := mutate.Append(img, adds...)
	if err != nil {
		return nil, fmt.Errorf("adding layers to the image: %w", err)
	}
	if len(b.opts.Entrypoint) > 0 {
		cfg.Config.Entrypoint = b.opts.Entrypoint
		cfg.Config.Cmd = nil
	}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("writing the image config: %w", err)
	}
	return img, nil
}

// swapDir renames tmp to out, replacing what out was.
func swapDir(tmp, out string) error {
	_, err := os.Lstat(out)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(tmp, out); err != nil {
			return fmt.Errorf("moving the image layout into place at %q: %w", out, err)
		}
		return nil
	} else if err != nil {
		return fmt.Errorf("replacing %q: %w", out, err)
	}
	old := tmp + ".old"
	if err := os.Rename(out, old); err != nil {
		return fmt.Errorf("replacing %q: %w; remove it and run again", out, err)
	}
	if err := os.Rename(tmp, out); err != nil {
		_ = os.Rename(old, out)
		return fmt.Errorf("moving the image layout into place at %q: %w", out, err)
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("removing the previous image layout %q: %w", old, err)
	}
	return nil
}
