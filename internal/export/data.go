package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/slipway/actions/internal/blobstore"
	"github.com/slipway/actions/internal/digest"
	"github.com/slipway/actions/internal/regfile"
	"github.com/slipway/actions/internal/store"
)

// DataSource reads a release from a data directory of slipway serve: its
// store, its blob store and the log's verifier key file (DATA/log.pub).
type DataSource struct {
	Dir     string
	Store   store.Store
	Blobs   blobstore.Store
	KeyFile string
}

func (s *DataSource) String() string { return "the data directory " + s.Dir }

// Release implements Source.
func (s *DataSource) Release(ctx context.Context, id string) (Release, error) {
	r, err := s.Store.Release(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Release{}, fmt.Errorf("release %q is not in %s: %w; slipway serve's GET /api/v1/releases lists the releases", id, s, ErrNotFound)
	}
	if err != nil {
		return Release{}, err
	}
	return Release{ID: r.ID, LogIndex: r.LogIndex, Receipt: string(r.Receipt), ManifestDigest: r.ManifestDigest}, nil
}

// Manifest implements Source.
func (s *DataSource) Manifest(ctx context.Context, rel Release) (io.ReadCloser, error) {
	d, err := digest.Parse(rel.ManifestDigest)
	if err != nil {
		return nil, err
	}
	m, err := s.Store.ReleaseManifest(ctx, rel.ID)
	if err == nil {
		return io.NopCloser(bytes.NewReader(m)), nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	// Admitted before the store kept manifests (schema version 5): schemas
	// 3 and 4 kept it as a blob under its digest.
	return s.blob(ctx, d, fmt.Sprintf("the manifest of release %q (admitted before the server kept manifests?)", rel.ID))
}

// File implements Source.
func (s *DataSource) File(ctx context.Context, rel Release, path string) (io.ReadCloser, error) {
	r, err := s.Store.Release(ctx, rel.ID)
	if err != nil {
		return nil, err
	}
	for _, f := range r.Files {
		if f.Path == path {
			d, err := digest.Parse(f.Digest)
			if err != nil {
				return nil, err
			}
			return s.blob(ctx, d, fmt.Sprintf("%q of release %q", path, rel.ID))
		}
	}
	return nil, fmt.Errorf("release %q records no file at %q in the store (admitted before the store kept its files?): %w", rel.ID, path, ErrNotFound)
}

func (s *DataSource) blob(ctx context.Context, d digest.SHA256, what string) (io.ReadCloser, error) {
	f, err := s.Blobs.Open(ctx, d)
	if errors.Is(err, blobstore.ErrNotFound) {
		return nil, fmt.Errorf("%s: blob %q is missing from the blob store; restore it from a backup: %w", what, d, ErrNotFound)
	}
	return f, err
}

// VerifierKey implements Source.
func (s *DataSource) VerifierKey(context.Context) (string, error) {
	f, err := regfile.Open(s.KeyFile)
	if err != nil {
		return "", fmt.Errorf("reading the log's verifier key: %w; it is written beside the log's key when slipway serve first starts", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	return string(b), err
}
