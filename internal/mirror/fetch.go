package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/timeouts"
)

// Limits of one copy.
const (
	// MaxManifestSize bounds a manifest, an index and a referrers list.
	MaxManifestSize = 4 << 20
	// MaxReferrers bounds the referrers of the image (as verify reads them).
	MaxReferrers = 256
	// MaxManifests bounds the manifests of one copy: the image's (an
	// index's children), its referrers' and cosign's tags'.
	MaxManifests = 1024
	// MaxBlobs bounds the configs and layers of one copy.
	MaxBlobs = 8192
	// maxDepth is how deep indexes may nest under the image or a referrer.
	maxDepth = 2
)

// LegacyTagSuffixes are cosign's tags next to an image, "sha256-<hex>"
// followed by one of these: its signatures and its attestations.
var LegacyTagSuffixes = []string{".sig", ".att"}

// Options say where a copy comes from and goes.
type Options struct {
	// Blobs receives every manifest and blob of the copy.
	Blobs blobstore.Store
	// Transport reaches the registry: Guard's, in the server. Nil means
	// remote.DefaultTransport.
	Transport http.RoundTripper
	// Keychain gives the credentials for the registry (the server's Docker
	// config); nil means anonymous.
	Keychain authn.Keychain
	// MaxBlobSize bounds one layer or config; <= 0 means no limit.
	MaxBlobSize int64
}

// Manifest is one manifest (or index) of a copy.
type Manifest struct {
	Digest    digest.SHA256
	MediaType types.MediaType
	Size      int64
}

// Copy is an image and what refers to it, stored in the blob store.
type Copy struct {
	// Ref is the image, pinned by digest.
	Ref name.Digest
	// Image is its manifest (or index).
	Image Manifest
	// Referrers are the descriptors of its OCI referrers, as the registry
	// listed them (through the referrers API or the sha256-<hex> tag).
	Referrers []v1.Descriptor
	// Tags are cosign's tags found next to it (sha256-<hex>.sig, .att),
	// with the digest of the manifest each held.
	Tags map[string]digest.SHA256
	// Bytes is the size of everything stored for the copy.
	Bytes int64
	// Files are every manifest and blob of the copy, each once, in the
	// order fetched, with the part of the copy it belongs to.
	Files []File

	store     blobstore.Store
	manifests map[digest.SHA256]Manifest
	blobs     map[digest.SHA256]bool
}

// File is one manifest or blob of a copy.
type File struct {
	Digest    digest.SHA256
	Size      int64
	MediaType string
	// Of is the top-level manifest it belongs to: the image's digest for
	// the image's own manifests and blobs, else the referrer's or cosign
	// tag's manifest digest.
	Of digest.SHA256
}

// Error is a failure of Fetch that is about the image, not the network: the
// registry does not have it or refuses the server's credentials (Status
// 404, 401, 403), or what it serves is not what admission can take. Other
// failures are returned as they are (a cut connection, a timeout, a
// *blobstore.TooLargeError, a *PrivateAddressError).
type Error struct {
	Status int // the registry's status, 0 when it answered but badly
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

// Fetch copies ref, its referrers and cosign's tags into o.Blobs. Every
// manifest and blob is checked against its digest as it arrives; what is
// stored already is not fetched again.
func Fetch(ctx context.Context, ref name.Digest, o Options) (*Copy, error) {
	f := &fetcher{o: o, c: &Copy{Ref: ref, Tags: map[string]digest.SHA256{}, store: o.Blobs,
		manifests: map[digest.SHA256]Manifest{}, blobs: map[digest.SHA256]bool{}}}
	b, pred := timeouts.RetryOptions(ctx, timeouts.DefaultBackoff, timeouts.IsTransient)
	kc := o.Keychain
	if kc == nil {
		kc = authn.NewMultiKeychain() // anonymous
	}
	base := o.Transport
	if base == nil {
		base = remote.DefaultTransport
	}
	f.opts = []remote.Option{remote.WithContext(ctx), remote.WithTransport(&limitManifests{base: base}),
		remote.WithAuthFromKeychain(kc), remote.WithRetryBackoff(b), remote.WithRetryPredicate(pred), remote.WithUserAgent("slipway")}

	img, err := f.top(ctx, ref, 0)
	if err != nil {
		return nil, describe(err, "reading image "+ref.String(), "push it first, or check the reference and the server's registry credentials")
	}
	f.c.Image = img
	idx, err := remote.Referrers(ref, f.opts...)
	if err != nil {
		return nil, describe(err, "listing the referrers of "+ref.String(), "check the registry")
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, describe(err, "reading the referrers of "+ref.String(), "check the registry")
	}
	if len(im.Manifests) > MaxReferrers {
		return nil, &Error{Msg: fmt.Sprintf("image %s has %d referrers, more than the %d admission reads; remove the referrers that are not its signatures and attestations", ref, len(im.Manifests), MaxReferrers)}
	}
	for _, d := range im.Manifests {
		if _, err := f.top(ctx, ref.Context().Digest(d.Digest.String()), 1); err != nil {
			return nil, describe(err, "reading referrer "+d.Digest.String()+" of "+ref.String(), "check the registry")
		}
		f.c.Referrers = append(f.c.Referrers, d)
	}
	for _, suffix := range LegacyTagSuffixes {
		tag := ref.Context().Tag("sha256-" + img.Digest.Hex() + suffix)
		m, err := f.top(ctx, tag, 1)
		var te *transport.Error
		if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
			continue
		}
		if err != nil {
			return nil, describe(err, "reading cosign's tag "+tag.String(), "check the registry")
		}
		f.c.Tags[tag.TagStr()] = m.Digest
	}
	return f.c, nil
}

type fetcher struct {
	o    Options
	c    *Copy
	opts []remote.Option
	// of is the top-level manifest being fetched (zero until its own
	// manifest arrived: it is then its own).
	of digest.SHA256
}

// add records a stored file of the copy.
func (f *fetcher) add(d digest.SHA256, size int64, mediaType string) {
	if f.of.IsZero() {
		f.of = d
	}
	f.c.Files = append(f.c.Files, File{Digest: d, Size: size, MediaType: mediaType, Of: f.of})
	f.c.Bytes += size
}

// top fetches a top-level manifest of the copy (the image, a referrer, a
// cosign tag) and what it holds
// (depth 0 for the image, 1 for the others: an index under them may
// nest one level less).
func (f *fetcher) top(ctx context.Context, ref name.Reference, depth int) (Manifest, error) {
	f.of = digest.SHA256{}
	return f.manifest(ctx, ref, depth)
}

// manifest fetches and stores the manifest ref names and, recursively,
// what it holds: an index's manifests, an image's config and layers.
func (f *fetcher) manifest(ctx context.Context, ref name.Reference, depth int) (Manifest, error) {
	if d, ok := ref.(name.Digest); ok {
		if sd, err := digest.Parse(d.DigestStr()); err == nil {
			if m, ok := f.c.manifests[sd]; ok {
				return m, nil
			}
		}
	}
	if len(f.c.manifests) >= MaxManifests {
		return Manifest{}, &Error{Msg: fmt.Sprintf("image %s and what refers to it hold more than %d manifests, more than admission copies", f.c.Ref, MaxManifests)}
	}
	desc, err := remote.Get(ref, f.opts...)
	if err != nil {
		return Manifest{}, err
	}
	d, err := digest.Parse(desc.Digest.String())
	if err != nil {
		return Manifest{}, &Error{Msg: fmt.Sprintf("%s has digest %q: only sha256 content can be admitted", ref, desc.Digest)}
	}
	m := Manifest{Digest: d, MediaType: desc.MediaType, Size: int64(len(desc.Manifest))}
	if _, ok := f.c.manifests[d]; ok {
		return m, nil
	}
	if _, err := f.o.Blobs.Put(ctx, bytes.NewReader(desc.Manifest), d, MaxManifestSize); err != nil {
		return Manifest{}, fmt.Errorf("storing manifest %s: %w", d, err)
	}
	f.c.manifests[d] = m
	f.add(d, m.Size, string(m.MediaType))
	repo := ref.Context()
	switch {
	case desc.MediaType.IsIndex():
		if depth >= maxDepth {
			return Manifest{}, &Error{Msg: fmt.Sprintf("%s is an index nested more than %d deep; admission copies images and indexes of images", ref, maxDepth)}
		}
		idx, err := v1.ParseIndexManifest(bytes.NewReader(desc.Manifest))
		if err != nil {
			return Manifest{}, &Error{Msg: fmt.Sprintf("index %s does not parse: %v", ref, err)}
		}
		for _, child := range idx.Manifests {
			if _, err := f.manifest(ctx, repo.Digest(child.Digest.String()), depth+1); err != nil {
				return Manifest{}, err
			}
		}
	case desc.MediaType.IsImage() || desc.MediaType == types.OCIManifestSchema1 || desc.MediaType == "":
		im, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
		if err != nil {
			return Manifest{}, &Error{Msg: fmt.Sprintf("manifest %s does not parse: %v", ref, err)}
		}
		if im.Config.Digest.Hex != "" {
			if err := f.blob(ctx, repo, im.Config); err != nil {
				return Manifest{}, err
			}
		}
		for _, l := range im.Layers {
			if err := f.blob(ctx, repo, l); err != nil {
				return Manifest{}, err
			}
		}
	default:
		return Manifest{}, &Error{Msg: fmt.Sprintf("%s has media type %q, which admission does not copy; use an OCI or Docker v2 image or index", ref, desc.MediaType)}
	}
	return m, nil
}

// blob streams one config or layer into the blob store, unless it is there.
func (f *fetcher) blob(ctx context.Context, repo name.Repository, desc v1.Descriptor) error {
	d, err := digest.Parse(desc.Digest.String())
	if err != nil {
		return &Error{Msg: fmt.Sprintf("blob %q of %s: only sha256 content can be admitted", desc.Digest, repo)}
	}
	if f.c.blobs[d] {
		return nil
	}
	if len(f.c.blobs) >= MaxBlobs {
		return &Error{Msg: fmt.Sprintf("image %s and what refers to it hold more than %d blobs, more than admission copies", f.c.Ref, MaxBlobs)}
	}
	if f.o.MaxBlobSize > 0 && desc.Size > f.o.MaxBlobSize {
		return &blobstore.TooLargeError{Limit: f.o.MaxBlobSize}
	}
	if b, err := f.o.Blobs.Stat(ctx, d); err == nil {
		f.c.blobs[d] = true
		f.add(d, b.Size, string(desc.MediaType))
		return nil
	}
	l, err := remote.Layer(repo.Digest(desc.Digest.String()), f.opts...)
	if err != nil {
		return err
	}
	rc, err := l.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	b, err := f.o.Blobs.Put(ctx, rc, d, f.o.MaxBlobSize)
	if err != nil {
		return fmt.Errorf("copying blob %s of %s: %w", d, repo, err)
	}
	f.c.blobs[d] = true
	f.add(d, b.Size, string(desc.MediaType))
	return nil
}

// describe turns what the registry answered about the image into an
// *Error (the image is not there, the server may not read it); other
// errors are wrapped with the operation.
func describe(err error, op, fix string) error {
	var te *transport.Error
	var me *Error
	switch {
	case errors.As(err, &me):
		return err
	case errors.As(err, &te) && (te.StatusCode == http.StatusNotFound || te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden):
		what := "does not have it"
		if te.StatusCode != http.StatusNotFound {
			what = "refuses the server's credentials for it"
		}
		return &Error{Status: te.StatusCode, Msg: fmt.Sprintf("%s: the registry %s (%d); %s", op, what, te.StatusCode, fix)}
	case errors.Is(err, errManifestTooLarge):
		return &Error{Msg: fmt.Sprintf("%s: %v", op, err)}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// errManifestTooLarge ends a manifest, index or referrers answer larger
// than MaxManifestSize.
var errManifestTooLarge = fmt.Errorf("the registry answered a manifest larger than the limit of %d bytes (4 MiB)", MaxManifestSize)

// limitManifests cuts manifest and referrers answers at MaxManifestSize
// (go-containerregistry would read 100 MiB).
type limitManifests struct{ base http.RoundTripper }

func (l *limitManifests) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.base.RoundTrip(req)
	if err != nil || !(strings.Contains(req.URL.Path, "/manifests/") || strings.Contains(req.URL.Path, "/referrers/")) {
		return resp, err
	}
	if resp.ContentLength > MaxManifestSize {
		resp.Body.Close()
		return nil, errManifestTooLarge
	}
	resp.Body = &limitedBody{rc: resp.Body, left: MaxManifestSize}
	return resp, nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, errManifestTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
