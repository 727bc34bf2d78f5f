package sqlite

import (
	"context"
	"database/sql"
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

// ReleaseByManifest implements store.Store.
func (d *DB) ReleaseByManifest(ctx context.Context, manifestDigest string) (store.Release, error) {
	return d.release(ctx, "manifest_digest", manifestDigest)
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
