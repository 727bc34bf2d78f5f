package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/store/sqlkit"
)

// filesOrder keeps the manifest's order of a release's files: the order they were recorded in.
const filesOrder = "rowid"

// Release implements store.Store.
func (d *DB) Release(ctx context.Context, id string) (store.Release, error) {
	return d.release(ctx, "id", id)
}

// ReleaseByManifest implements store.Store. Every admission asks it first
// (idempotency), and nearly always for a manifest not admitted yet: one
// prepared query answers that, without a transaction; a release found is
// then read by its id in one read transaction (a release is never changed
// or removed once recorded, so the two reads agree).
func (d *DB) ReleaseByManifest(ctx context.Context, manifestDigest string) (store.Release, error) {
	var id string
	switch err := d.reads.releaseID.QueryRowContext(ctx, manifestDigest).Scan(&id); {
	case errors.Is(err, sql.ErrNoRows):
		return store.Release{}, fmt.Errorf("release %q: %w", manifestDigest, store.ErrNotFound)
	case err != nil:
		return store.Release{}, fmt.Errorf("reading release %q: %w", manifestDigest, err)
	}
	return d.release(ctx, "id", id)
}

// ReleaseManifest implements store.Store.
func (d *DB) ReleaseManifest(ctx context.Context, id string) ([]byte, error) {
	return sqlkit.ReleaseManifest(ctx, d.read, id)
}

// release reads one release, its artifacts and its files in one read transaction (one snapshot).
func (d *DB) release(ctx context.Context, column, key string) (store.Release, error) {
	tx, err := d.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.Release{}, fmt.Errorf("reading release %q: %w", key, err)
	}
	defer tx.Rollback()
	return sqlkit.ReadRelease(ctx, tx, column, key, filesOrder)
}

// ArtifactByDigest implements store.Store.
func (d *DB) ArtifactByDigest(ctx context.Context, digest string) (store.Artifact, error) {
	return sqlkit.ArtifactByDigest(ctx, d.read, digest)
}
