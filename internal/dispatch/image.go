package dispatch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway/actions/internal/artifact"
	"github.com/slipway/actions/internal/atomicfile"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/ocibundle"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/registryref"
	"github.com/slipway/actions/internal/timeouts"
)

// maxImageManifest bounds the staged image manifest read back.
const maxImageManifest = 4 << 20

// isImage reports whether an artifact record is an OCI image: one a build
// wrote into an OCI image layout (slipway build --image-…), whose record's
// file is the image manifest's blob, signed and attested as any file, its
// config and layers in the registry slipway push put the image in; or one
// admitted by reference (a record with only a URI, REPO@sha256:…), whose
// manifest, config and layers are all in that registry.
func isImage(a artifact.Record) bool {
	mt := types.MediaType(a.MediaType)
	return (a.Path != "" || a.URI != "") && (mt.IsImage() || mt.IsIndex())
}

// byReference reports whether the image record a was admitted by
// reference: it has no file in the release.
func byReference(a artifact.Record) bool { return a.Path == "" && a.URI != "" }

// imageLayout is the OCI image layout directory, in the staged release,
// that the image record's manifest blob is in: the record's name, or
// "image" for an image admitted by reference (as the control plane's copy).
func imageLayout(st *Staged, a artifact.Record) string {
	if byReference(a) {
		return filepath.Join(st.Dir, referenceLayout)
	}
	return filepath.Join(st.Dir, filepath.FromSlash(a.Name))
}

// referenceLayout is the layout of an image admitted by reference.
const referenceLayout = "image"

// artifactFile is the staged file of record a: its path, or for an image
// admitted by reference its manifest's blob in the layout.
func artifactFile(st *Staged, a artifact.Record) string {
	if byReference(a) {
		return filepath.Join(imageLayout(st, a), "blobs", "sha256", a.Digest.Hex())
	}
	return filepath.Join(st.Dir, filepath.FromSlash(a.Path))
}

// StageImage completes the staged image of record a into an OCI image
// layout: the manifest blob was fetched with the release and verified with
// it (for an image index, the image of job j's platform it names is
// pulled by that digest, checked against it and its size); its config and
// every layer are pulled by digest from the repository the release's
// registry record names (slipway push wrote it), or its reference, each
// checked against its digest and size while it is written (a blob already
// staged is hashed again and fetched anew unless it is right), then
// oci-layout and index.json are written. Registry credentials come from
// opts (the Docker config's keychain by default), never from arguments or
// files the dispatch writes.
func StageImage(ctx context.Context, st *Staged, a artifact.Record, j Job, opts []remote.Option) error {
	raw, err := regfile.ReadAll(artifactFile(st, a), maxImageManifest)
	if err != nil {
		return fmt.Errorf("release %q: the staged image manifest: %w", st.Release.ID, err)
	}
	if got := digest.SHA256(sha256.Sum256(raw)); got != a.Digest {
		return fmt.Errorf("release %q: the staged image manifest %q is %s, not the verified %s: it changed after verification; remove %q and dispatch again", st.Release.ID, artifactFile(st, a), got, a.Digest, st.Dir)
	}
	repo, err := imageRepository(st, a)
	if err != nil {
		return err
	}
	opts = registryOptions(ctx, opts)
	dir := imageLayout(st, a)
	size := int64(len(raw)) // the artifact's: the image's, or its index's
	if types.MediaType(a.MediaType).IsIndex() {
		if raw, err = pullPlatformManifest(st, a, j, raw, repo, dir, opts); err != nil {
			return err
		}
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("release %q: image manifest %s: %w", st.Release.ID, a.Digest, err)
	}
	for _, d := range append([]v1.Descriptor{m.Config}, m.Layers...) {
		if err := pullBlob(repo, dir, d, opts); err != nil {
			return fmt.Errorf("release %q: staging image %s from %s: %w", st.Release.ID, a.Digest, repo, err)
		}
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("writing the image layout %q: %w", dir, err)
	}
	h, err := v1.NewHash(a.Digest.String())
	if err != nil {
		return err
	}
	return p.AppendDescriptor(v1.Descriptor{MediaType: types.MediaType(a.MediaType), Digest: h, Size: size})
}

// pullPlatformManifest picks from the verified image index raw (artifact
// a) the image of the job's platform, pulls that manifest by the digest the
// index gives into the layout dir (its digest and size checked; one
// already there is hashed again) and returns it. No image for the platform
// is an error naming the platforms the index holds: nothing is submitted.
func pullPlatformManifest(st *Staged, a artifact.Record, j Job, raw []byte, repo name.Repository, dir string, opts []remote.Option) ([]byte, error) {
	p, err := j.platform()
	if err != nil {
		return nil, err
	}
	d, err := ocibundle.ChooseManifest(raw, a.Digest.String(), p)
	if err != nil {
		return nil, fmt.Errorf("release %q: artifact %q: %w", st.Release.ID, a.Name, err)
	}
	want, err := digest.Parse(d.Digest.String())
	if err != nil {
		return nil, fmt.Errorf("release %q: index %s: %w", st.Release.ID, a.Digest, err)
	}
	path := filepath.Join(dir, "blobs", "sha256", want.Hex())
	if b, err := regfile.ReadAll(path, maxImageManifest); err == nil && digest.SHA256(sha256.Sum256(b)) == want && int64(len(b)) == d.Size {
		return b, nil
	}
	desc, err := remote.Get(repo.Digest(want.String()), opts...)
	if err != nil {
		return nil, fmt.Errorf("release %q: pulling the %s image %s of index %s from %s: %w", st.Release.ID, p.String(), want, a.Digest, repo, err)
	}
	if got := digest.SHA256(sha256.Sum256(desc.Manifest)); got != want || int64(len(desc.Manifest)) != d.Size {
		return nil, fmt.Errorf("release %q: the registry sent %d bytes of digest %s for the %s image %s of %d bytes that index %s names: refused", st.Release.ID, len(desc.Manifest), got, p.String(), want, d.Size, a.Digest)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(path, desc.Manifest, 0o644); err != nil {
		return nil, err
	}
	return desc.Manifest, nil
}

// platform is the job's platform: Platform parsed, or the default.
func (j Job) platform() (v1.Platform, error) {
	if j.Platform == "" {
		return ocibundle.DefaultPlatform(), nil
	}
	p, err := v1.ParsePlatform(j.Platform)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return v1.Platform{}, fmt.Errorf("platform %q is not os/arch[/variant] (%v); write it like linux/amd64", j.Platform, err)
	}
	return *p, nil
}

// registryOptions are opts, or without them the Docker config's
// credentials and the default network limits.
func registryOptions(ctx context.Context, opts []remote.Option) []remote.Option {
	if opts == nil {
		return append(timeouts.Config{}.WithDefaults().RemoteOptions(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain))
	}
	return opts
}

// imageRepository is where the image's blobs are: the repository of an
// image admitted by reference, or of the release's registry record of that
// digest, or, when push pushed an index
// holding the image with the release's files, of its only registry record.
func imageRepository(st *Staged, a artifact.Record) (name.Repository, error) {
	if byReference(a) {
		ref, err := registryref.Parse(a.URI)
		if err != nil {
			return name.Repository{}, fmt.Errorf("release %q: image %q: %w", st.Release.ID, a.URI, err)
		}
		return ref.Context(), nil
	}
	recs := st.Manifest.ByRole(artifact.RoleRegistry)
	pick := -1
	for i, r := range recs {
		if r.Digest == a.Digest {
			pick = i
		}
	}
	if pick < 0 && len(recs) == 1 {
		pick = 0
	}
	if pick < 0 {
		return name.Repository{}, fmt.Errorf("release %q: its image %q names no registry it was pushed to (%d registry records): push it with slipway push --manifest before the upload, so that its layers can be pulled by digest", st.Release.ID, a.Name, len(recs))
	}
	ref, err := registryref.Parse(recs[pick].URI)
	if err != nil {
		return name.Repository{}, fmt.Errorf("release %q: registry record %q: %w", st.Release.ID, recs[pick].Name, err)
	}
	return ref.Context(), nil
}

// pullBlob writes the blob d into the layout dir unless it is there with
// its digest: pulled by digest, its size and digest checked as it is
// written (temp file and rename: a blob that fails leaves nothing).
func pullBlob(repo name.Repository, dir string, d v1.Descriptor, opts []remote.Option) error {
	want, err := digest.Parse(d.Digest.String())
	if err != nil {
		return fmt.Errorf("blob %q: %w", d.Digest, err)
	}
	path := filepath.Join(dir, "blobs", "sha256", want.Hex())
	if got, n, err := digest.File(path); err == nil && got == want && n == d.Size {
		return nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	l, err := remote.Layer(repo.Digest(want.String()), opts...)
	if err != nil {
		return fmt.Errorf("blob %s: %w", want, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return fmt.Errorf("blob %s: %w", want, err)
	}
	defer rc.Close()
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		got, n, err := digest.Copy(w, io.LimitReader(rc, d.Size+1))
		if err != nil {
			return fmt.Errorf("blob %s: %w", want, err)
		}
		if got != want || n != d.Size {
			return fmt.Errorf("the registry sent %d bytes of digest %s for blob %s of %d bytes: refused", n, got, want, d.Size)
		}
		return nil
	})
}
