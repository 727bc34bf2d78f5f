package mysql

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"

	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/store/sqlkit"
)

// createTries is how often CreateRelease runs its transaction when the server chose it as a deadlock's victim
// or its lock wait timed out (replicas inserting the same keys at once).
const createTries = 4

// CreateRelease implements store.Store: the release, its artifacts and its files in one transaction. Two
// replicas recording one manifest at once meet on the unique key of manifest_digest: one commits, the other
// gets store.ErrExists.
func (d *DB) CreateRelease(ctx context.Context, r store.Release) error {
	args, err := sqlkit.ReleaseArgs(r)
	if err != nil {
		return fmt.Errorf("recording release %q: %w", r.ID, err)
	}
	for try := 1; ; try++ {
		err = d.createRelease(ctx, r, args)
		if try == createTries || !(isError(err, errDeadlock) || isError(err, errLockTimeout)) || ctx.Err() != nil {
			return err
		}
	}
}

func (d *DB) createRelease(ctx context.Context, r store.Release, args []any) (err error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recording release %q in %s: %w", r.ID, d.where, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	_, err = tx.ExecContext(ctx, sqlkit.InsertRelease, args...)
	if isError(err, errDuplicateKey) {
		return fmt.Errorf("release %q (manifest %q): %w", r.ID, r.ManifestDigest, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("recording release %q in %s: %w", r.ID, d.where, err)
	}
	for _, a := range r.Artifacts {
		if _, err = tx.ExecContext(ctx, `INSERT INTO artifacts (release_id, digest, size, name, name_sha256) VALUES (?, ?, ?, ?, ?)`,
			r.ID, a.Digest, a.Size, a.Name, key(a.Name)); err != nil {
			return fmt.Errorf("recording artifact %q of release %q: %w; each artifact name may appear once in a release", a.Name, r.ID, err)
		}
	}
	for i, f := range r.Files {
		if _, err = tx.ExecContext(ctx, `INSERT INTO release_files (release_id, position, role, name, name_sha256, path, digest, size, media_type, describes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, i, f.Role, f.Name, key(f.Name), f.Path, f.Digest, f.Size, f.MediaType, f.Describes); err != nil {
			return fmt.Errorf("recording file %q (%s) of release %q: %w; each record name may appear once per role in a release", f.Name, f.Role, r.ID, err)
		}
	}
	if err = sqlkit.RemoveIntent(ctx, tx, r.ManifestDigest, store.IntentRelease); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("recording release %q in %s: %w", r.ID, d.where, err)
	}
	return nil
}

// key is the SHA-256 of a name or path: its key in an index (a path can be longer than an index key).
func key(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// filesOrder keeps the manifest's order of a release's files (migration 3's position column).
const filesOrder = "position"

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
	return sqlkit.ReleaseManifest(ctx, d.db, id)
}

// release reads one release, its artifacts and its files in one read-only transaction (one snapshot).
func (d *DB) release(ctx context.Context, column, key string) (store.Release, error) {
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.Release{}, fmt.Errorf("reading release %q from %s: %w", key, d.where, err)
	}
	defer tx.Rollback()
	return sqlkit.ReadRelease(ctx, tx, column, key, filesOrder)
}

// ArtifactByDigest implements store.Store.
func (d *DB) ArtifactByDigest(ctx context.Context, digest string) (store.Artifact, error) {
	return sqlkit.ArtifactByDigest(ctx, d.db, digest)
}
