package ocibundle

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

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
	// Env are variables (NAME=VALUE) set in the container after the
	// image's own, replacing an image variable of the same name.
	Env []string
	// WorkDir, when set, is a host directory (absolute) mounted read-write
	// at the same path in the container, where the process starts; /tmp
	// is then a fresh tmpfs too (the root filesystem is read-only).
	WorkDir string
}

// Bundle is what Build made.
type Bundle struct {
	Dir    string
	Digest string // the manifest's digest
	Layers int
	Bytes  int64 // unpacked bytes
	// Args are the process's arguments config.json holds: Options.Args,
	// or the image's entrypoint and command; Env its environment.
	Args, Env []string
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
	if err := makeDir(o.Dir); err != nil {
		return nil, err
	}
	b, err := build(ctx, o, dref, want)
	return cleanup(o.Dir, b, err)
}

func build(ctx context.Context, o Options, ref name.Digest, want digest.SHA256) (*Bundle, error) {
	opts := append([]remote.Option{remote.WithContext(ctx)}, o.Remote...)
	return buildFrom(ctx, o, remoteSource{repo: ref.Context(), opts: opts}, want, nil)
}

// buildFrom checks the image want from src (its manifest, or the raw bytes
// given, already read once by the caller) and writes the bundle into o.Dir,
// which exists and is empty.
func buildFrom(ctx context.Context, o Options, src source, want digest.SHA256, raw []byte) (*Bundle, error) {
	m, mdigest, err := manifest(src, want, raw, o.Platform)
	if err != nil {
		return nil, err
	}
	cfgRaw, err := smallBlob(src, m.Config, maxManifest)
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
		st, err := layer(ctx, src, l, cfg.RootFS.DiffIDs[i], rootfs, limits)
		if err != nil {
			return nil, fmt.Errorf("image %s: layer %d of %d (%s): %w", mdigest, i+1, len(m.Layers), l.Digest, err)
		}
		bundle.Bytes += st.Bytes
		if limits.MaxBytes > 0 {
			limits.MaxBytes -= st.Bytes
		}
	}
	spec, args, err := runtimeSpec(cfg.Config, o)
	if err != nil {
		return nil, err
	}
	bundle.Args, bundle.Env = args, MergeEnv(cfg.Config.Env, o.Env)
	if err := os.WriteFile(filepath.Join(o.Dir, "config.json"), spec, 0o644); err != nil {
		return nil, err
	}
	return bundle, nil
}

// manifest reads the manifest want from src (or takes raw, its bytes read
// by the caller), checks it against want, and follows an index to this
// platform's manifest (checked against the index's descriptor).
func manifest(src source, want digest.SHA256, raw []byte, platform *v1.Platform) (*v1.Manifest, digest.SHA256, error) {
	var mt types.MediaType
	if raw == nil {
		var err error
		if raw, mt, err = src.manifest(want); err != nil {
			return nil, want, refuse("manifest", "%v", err)
		}
	}
	if got := digest.SHA256(sha256.Sum256(raw)); got != want {
		return nil, want, refuse("manifest", "the manifest %s has content of digest %s (%s)", want, got, src)
	}
	if mt == "" {
		mt = sniffMediaType(raw)
	}
	if mt.IsIndex() {
		p := DefaultPlatform()
		if platform != nil {
			p = *platform
		}
		d, err := ChooseManifest(raw, want.String(), p)
		if err != nil {
			return nil, want, err
		}
		sub, err := digest.Parse(d.Digest.String())
		if err != nil {
			return nil, want, refuse("manifest", "index %s: %v", want, err)
		}
		m, _, err := manifest(src, sub, nil, platform)
		return m, sub, err
	}
	if !mt.IsImage() {
		return nil, want, refuse("manifest", "%s is %s, not an image manifest", want, mt)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, want, refuse("manifest", "manifest %s: %v", want, err)
	}
	return m, want, nil
}

// DefaultPlatform is the platform an index is resolved for when none is
// given: linux and this program's architecture.
func DefaultPlatform() v1.Platform { return v1.Platform{OS: "linux", Architecture: runtime.GOARCH} }

// ChooseManifest picks from the image index raw (of digest name, for
// messages) the first image manifest whose platform satisfies p. None is
// an *Error of check "platform" naming the platforms the index holds.
func ChooseManifest(raw []byte, name string, p v1.Platform) (v1.Descriptor, error) {
	var idx v1.IndexManifest
	if err := json.Unmarshal(raw, &idx); err != nil {
		return v1.Descriptor{}, refuse("manifest", "index %s: %v", name, err)
	}
	var present []string
	for _, d := range idx.Manifests {
		if !d.MediaType.IsImage() {
			continue
		}
		if d.Platform == nil {
			present = append(present, "(no platform)")
			continue
		}
		if d.Platform.Satisfies(p) {
			return d, nil
		}
		present = append(present, d.Platform.String())
	}
	if len(present) == 0 {
		return v1.Descriptor{}, refuse("platform", "index %s holds no image manifest", name)
	}
	return v1.Descriptor{}, refuse("platform", "index %s has no image for %s; its images are for %s: give one of them as the platform, or add an image for %s to the index", name, p.String(), strings.Join(present, ", "), p.String())
}

// sniffMediaType is the media type a manifest's JSON declares; without
// one, an image manifest when it names a config, else an index.
func sniffMediaType(raw []byte) types.MediaType {
	var probe struct {
		MediaType types.MediaType `json:"mediaType"`
		Config    *struct{}       `json:"config"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return ""
	}
	switch {
	case probe.MediaType != "":
		return probe.MediaType
	case probe.Config != nil:
		return types.OCIManifestSchema1
	}
	return types.OCIImageIndex
}

// smallBlob reads a small blob whole and checks its digest.
func smallBlob(src source, d v1.Descriptor, limit int64) ([]byte, error) {
	if d.Size > limit {
		return nil, fmt.Errorf("%d bytes, more than the limit of %d", d.Size, limit)
	}
	rc, err := src.blob(d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if got := digest.SHA256(sha256.Sum256(b)); got.String() != d.Digest.String() {
		return nil, fmt.Errorf("content has digest %s, the manifest says %s", got, d.Digest)
	}
	return b, nil
}

// layer streams one layer from src into rootfs: its compressed bytes
// hashed against desc, its uncompressed tar hashed against diffID.
func layer(ctx context.Context, src source, desc v1.Descriptor, diffID v1.Hash, rootfs string, limits untar.Options) (untar.Stats, error) {
	rc, err := src.blob(desc)
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
			if cerr := changed(src, compressed, desc); cerr != nil {
				return untar.Stats{}, cerr
			}
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
		// A changed blob fails as a digest mismatch, naming both digests,
		// rather than as whatever its bytes broke in the tar.
		if cerr := changed(src, compressed, desc); cerr != nil {
			return st, cerr
		}
		return st, refuse("unpack", "%v", err)
	}
	// The rest of the stream: tar padding, the gzip trailer (its CRC).
	if _, err := io.Copy(io.Discard, uncompressed); err != nil {
		if cerr := changed(src, compressed, desc); cerr != nil {
			return st, cerr
		}
		return st, refuse("layer", "reading to its end: %v", err)
	}
	if err := changed(src, compressed, desc); err != nil {
		return st, err
	}
	if uncompressed.Digest().String() != diffID.String() {
		return st, refuse("layer", "its uncompressed content is %s, the config's diff_id says %s", uncompressed.Digest(), diffID)
	}
	return st, nil
}

// changed reads the rest of a layer's compressed stream c and refuses it
// unless its size and digest are the manifest's.
func changed(src source, c *digest.Reader, desc v1.Descriptor) error {
	if _, err := io.Copy(io.Discard, c); err != nil {
		return refuse("layer", "reading to its end: %v", err)
	}
	if c.Size() != desc.Size || c.Digest().String() != desc.Digest.String() {
		return refuse("layer", "%s has %d bytes of digest %s, the manifest says %d bytes of %s", src, c.Size(), c.Digest(), desc.Size, desc.Digest)
	}
	return nil
}
