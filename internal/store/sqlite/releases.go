package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/slipway/actions/internal/store"
)

const releaseColumns = `id, source_repository, uploader, manifest_digest, created, log_index, log_entry, receipt, checks`

// Release implements store.Store.
func (d *DB) Release(ctx context.Context, id string) (store.Release, error) {
	return d.release(ctx, `SELECT `+releaseColumns+` FROM releases WHERE id = ?`, id)
}

// ReleaseByManifest implements store.Store.
func (d *DB) ReleaseByManifest(ctx context.Context, manifestDigest string) (store.Release, error) {
	return d.release(ctx, `SELECT `+releaseColumns+` FROM releases WHERE manifest_digest = ?`, manifestDigest)
}

func (d *DB) release(ctx context.Context, query, key string) (store.Release, error) {
	tx, err := d.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.Release{}, fmt.Errorf("reading release %q: %w", key, err)
	}
	defer tx.Rollback()
	var r store.Release
	var created, logIndex int64
	var checks string
	err = tx.QueryRowContext(ctx, query, key).Scan(&r.ID, &r.SourceRepository, &r.Uploader, &r.ManifestDigest, &created, &logIndex, &r.LogEntry, &r.Receipt, &checks)
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("release %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("reading release %q: %w", key, err)
	}
	r.Created = fromMillis(created)
	r.LogIndex = uint64(logIndex)
	if err := json.Unmarshal([]byte(checks), &r.Checks); err != nil {
		return r, fmt.Errorf("reading release %q: its checks column: %w; restore the database from backup", key, err)
	}
	if r.Artifacts, err = artifactsOf(ctx, tx, r.ID); err != nil {
		return r, err
	}
	r.Files, err = filesOf(ctx, tx, r.ID)
	return r, err
}

// artifactsOf reads the artifacts of release id.
func artifactsOf(ctx context.Context, q querier, id string) ([]store.Artifact, error) {
	rows, err := q.QueryContext(ctx, `SELECT digest, size, name FROM artifacts WHERE release_id = ? ORDER BY name`, id)
	if err != nil {
		return nil, fmt.Errorf("reading the artifacts of release %q: %w", id, err)
	}
	defer rows.Close()
	var out []store.Artifact
	for rows.Next() {
		var a store.Artifact
		if err := rows.Scan(&a.Digest, &a.Size, &a.Name); err != nil {
			return nil, fmt.Errorf("reading the artifacts of release %q: %w", id, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// filesOf reads the files of release id, in the order they were recorded.
func filesOf(ctx context.Context, q querier, id string) ([]store.File, error) {
	rows, err := q.QueryContext(ctx, `SELECT role, name, path, digest, size, media_type, describes FROM release_files WHERE release_id = ? ORDER BY rowid`, id)
	if err != nil {
		return nil, fmt.Errorf("reading the files of release %q: %w", id, err)
	}
	defer rows.Close()
	var out []store.File
	for rows.Next() {
		var f store.File
		if err := rows.Scan(&f.Role, &f.Name, &f.Path, &f.Digest, &f.Size, &f.MediaType, &f.Describes); err != nil {
			return nil, fmt.Errorf("reading the files of release %q: %w", id, err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ArtifactByDigest implements store.Store.
func (d *DB) ArtifactByDigest(ctx context.Context, digest string) (store.Artifact, error) {
	var a store.Artifact
	err := d.read.QueryRowContext(ctx, `SELECT digest, size, name FROM artifacts WHERE digest = ? ORDER BY release_id, name LIMIT 1`, digest).
		Scan(&a.Digest, &a.Size, &a.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("artifact %q: %w", digest, store.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("reading artifact %q: %w", digest, err)
	}
	return a, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
