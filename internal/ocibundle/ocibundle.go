package ocibundle

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/registryref"
	"github.com/slipway/actions/internal/untar"
)

// maxManifest bounds a manifest, an index or a config read from the
// registry.
const maxManifest = 4 << 20

// Options are the inputs of Build.
type Options struct {
	// Ref is the image, by digest: REGISTRY/REPO@sha256:HEX (a tag before the
	// digest is ignored).
	Ref string
	// Dir is the bundle directory to create; it must not exist.
	Dir string
	// Args, when set, replace the image's entrypoint and command.
	Args []string
	// Platform picks a manifest from an index (default linux/GOARCH).
	Platform *v1.Platform
	// Remote are go-containerregistry options (auth, transport, context is
	// added by Build).
	Remote []remote.Option
	// Limits bound the unpacking of all layers together.
	Limits untar.Options
	// UID and GID are mapped to root in the container (default: the
	// calling process's).
	UID, GID *int
}

// Bundle is what Build made.
type Bundle struct {
	Dir    string
	Digest string // the manifest's digest
	Layers int
	Bytes  int64 // unpacked bytes
}

// Error is a refused image: Check says what failed ("manifest", "config",
// "layer", "unpack", "platform").
type Error struct {
	Check string
	Err   error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func refuse(check, format string, a ...any) error {
	return &Error{Check: check, Err: fmt.Errorf(format, a...)}
}

// Build pulls o.Ref, checks it, and writes the bundle into the new o.Dir.
func Build(ctx context.Context, o Options) (*Bundle, error) {
	ref, err := registryref.Parse(o.Ref)
	if err != nil {
		return nil, err
	}
	dref, ok := ref.(name.Digest)
	if !ok {
		return nil, fmt.Errorf("image %q: not a reference by digest; give REPOSITORY@sha256:<64 hex digits> (the digest slipway push printed), never a tag", o.Ref)
	}
	want, err := digest.Parse(dref.DigestStr())
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", o.Ref, err)
	}
	if err := os.Mkdir(o.Dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("bundle directory %q exists already; give a new path (Build creates it, so that nothing unchecked is in it)", o.Dir)
		}
		return nil, fmt.Errorf("creating the bundle directory: %w", err)
	}
	b, err := build(ctx, o, dref, want)
	if err != nil {
		if rerr := os.RemoveAll(o.Dir); rerr != nil {
			err = fmt.Errorf("%w (and removing %q: %v)", err, o.Dir, rerr)
		}
		return nil, err
	}
	return b, nil
}

func build(ctx context.Context, o Options, ref name.Digest, want digest.SHA256) (*Bundle, error) {
	opts := append([]remote.Option{remote.WithContext(ctx)}, o.Remote...)
	m, mdigest, err := manifest(ref, want, o.Platform, opts)
	if err != nil {
		return nil, err
	}
	repo := ref.Context()
	cfgRaw, err := blob(repo, m.Config, opts, maxManifest)
	if err != nil {
		return nil, refuse("config", "image %s: config %s: %v", mdigest, m.Config.Digest, err)
	}
	var cfg v1.ConfigFile
	if err := json.Unmarshal(cfgRaw, &cfg); err != nil {
		return nil, refuse("config", "image %s: config: %v", mdigest, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, refuse("config", "image %s: the config lists %d layer diff_ids, the manifest %d layers", mdigest, len(cfg.RootFS.DiffIDs), len(m.Layers))
	}
	rootfs := filepath.Join(o.Dir, "rootfs")
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		return nil, err
	}
	bundle := &Bundle{Dir: o.Dir, Digest: mdigest.String(), Layers: len(m.Layers)}
	limits := o.Limits
	for i, l := range m.Layers {
		st, err := layer(ctx, repo, l, cfg.RootFS.DiffIDs[i], rootfs, limits, opts)
		if err != nil {
			return nil, fmt.Errorf("image %s: layer %d of %d (%s): %w", mdigest, i+1, len(m.Layers), l.Digest, err)
		}
		bundle.Bytes += st.Bytes
		if limits.MaxBytes > 0 {
			limits.MaxBytes -= st.Bytes
		}
	}
	spec, err := runtimeSpec(cfg.Config, o)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(o.Dir, "config.json"), spec, 0o644); err != nil {
		return nil, err
	}
	return bundle, nil
}

// manifest fetches the manifest ref names, checks it against want, and
// follows an index to this platform's manifest (checked against the
// index's descriptor).
func manifest(ref name.Digest, want digest.SHA256, platform *v1.Platform, opts []remote.Option) (*v1.Manifest, digest.SHA256, error) {
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, want, refuse("manifest", "fetching %s: %v", ref, err)
	}
	if got := digest.SHA256(sha256.Sum256(desc.Manifest)); got != want {
		return nil, want, refuse("manifest", "the registry answered %s for %s with content of digest %s", ref, want, got)
	}
	if desc.MediaType.IsIndex() {
		var idx v1.IndexManifest
		if err := json.Unmarshal(desc.Manifest, &idx); err != nil {
			return nil, want, refuse("manifest", "index %s: %v", want, err)
		}
		p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
		if platform != nil {
			p = *platform
		}
		for _, d := range idx.Manifests {
			if d.Platform != nil && d.Platform.Satisfies(p) && d.MediaType.IsImage() {
				sub, err := digest.Parse(d.Digest.String())
				if err != nil {
					return nil, want, refuse("manifest", "index %s: %v", want, err)
				}
				return manifest(ref.Context().Digest(d.Digest.String()), sub, platform, opts)
			}
		}
		return nil, want, refuse("platform", "index %s has no image for %s", want, p.String())
	}
	if !desc.MediaType.IsImage() {
		return nil, want, refuse("manifest", "%s is %s, not an image manifest", ref, desc.MediaType)
	}
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return nil, want, refuse("manifest", "manifest %s: %v", want, err)
	}
	return m, want, nil
}

// blob reads a small blob whole and checks its digest.
func blob(repo name.Repository, d v1.Descriptor, opts []remote.Option, limit int64) ([]byte, error) {
	if d.Size > limit {
		return nil, fmt.Errorf("%d bytes, more than the limit of %d", d.Size, limit)
	}
	l, err := remote.Layer(repo.Digest(d.Digest.String()), opts...)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if got := digest.SHA256(sha256.Sum256(b)); got.String() != d.Digest.String() {
		return nil, fmt.Errorf("content has digest %s", got)
	}
	return b, nil
}

// layer streams one layer from the registry into rootfs: its compressed
// bytes hashed against desc, its uncompressed tar hashed against diffID.
func layer(ctx context.Context, repo name.Repository, desc v1.Descriptor, diffID v1.Hash, rootfs string, limits untar.Options, opts []remote.Option) (untar.Stats, error) {
	l, err := remote.Layer(repo.Digest(desc.Digest.String()), opts...)
	if err != nil {
		return untar.Stats{}, refuse("layer", "%v", err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return untar.Stats{}, refuse("layer", "%v", err)
	}
	defer rc.Close()
	compressed := digest.NewReader(io.LimitReader(rc, desc.Size+1))
	var tarStream io.Reader = compressed
	switch desc.MediaType {
	case types.OCILayer, types.DockerLayer:
		zr, err := gzip.NewReader(compressed)
		if err != nil {
			return untar.Stats{}, refuse("layer", "not gzip: %v", err)
		}
		tarStream = zr
	case types.OCIUncompressedLayer, types.DockerUncompressedLayer:
	default:
		return untar.Stats{}, refuse("layer", "media type %q is not supported (gzip or uncompressed tar layers)", desc.MediaType)
	}
	uncompressed := digest.NewReader(tarStream)
	limits.Layer = true
	st, err := untar.Extract(ctx, uncompressed, rootfs, limits)
	if err != nil {
		return st, refuse("unpack", "%v", err)
	}
	// The rest of the stream: tar padding, the gzip trailer (its CRC).
	if _, err := io.Copy(io.Discard, uncompressed); err != nil {
		return st, refuse("layer", "reading to its end: %v", err)
	}
	if _, err := io.Copy(io.Discard, compressed); err != nil {
		return st, refuse("layer", "reading to its end: %v", err)
	}
	if compressed.Size() != desc.Size || compressed.Digest().String() != desc.Digest.String() {
		return st, refuse("layer", "the registry sent %d bytes of digest %s, the manifest says %d bytes of %s", compressed.Size(), compressed.Digest(), desc.Size, desc.Digest)
	}
	if uncompressed.Digest().String() != diffID.String() {
		return st, refuse("layer", "its uncompressed content is %s, the config's diff_id says %s", uncompressed.Digest(), diffID)
	}
	return st, nil
}
