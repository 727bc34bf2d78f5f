package sqlkit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/slipway/actions/internal/store"
)

// ReleaseColumns are the columns of table releases ScanRelease reads, in its order.
const ReleaseColumns = `id, source_repository, uploader, manifest_digest, created, log_index, log_entry, receipt, checks`

// InsertRelease is the statement that records a release's row: ReleaseColumns and its manifest, with
// ReleaseArgs.
const InsertRelease = `INSERT INTO releases (` + ReleaseColumns + `, manifest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// ReleaseArgs are r's values for InsertRelease (log_index as a uint64: each store's column holds it; a nil
// manifest as NULL).
func ReleaseArgs(r store.Release) ([]any, error) {
	checks := r.Checks
	if checks == nil {
		checks = []string{}
	}
	js, err := json.Marshal(checks)
	if err != nil {
		return nil, err
	}
	var manifest any // NULL, not an empty blob, for a release without one
	if len(r.Manifest) > 0 {
		manifest = r.Manifest
	}
	return []any{r.ID, r.SourceRepository, r.Uploader, r.ManifestDigest, Millis(r.Created), r.LogIndex,
		nonNilBytes(r.LogEntry), nonNilBytes(r.Receipt), string(js), manifest}, nil
}

// ScanRelease reads a row of ReleaseColumns (without artifacts and files).
func ScanRelease(s Scanner) (store.Release, error) {
	var r store.Release
	var created int64
	var checks string
	if err := s.Scan(&r.ID, &r.SourceRepository, &r.Uploader, &r.ManifestDigest, &created, &r.LogIndex, &r.LogEntry, &r.Receipt, &checks); err != nil {
		return r, err
	}
	r.Created = FromMillis(created)
	if err := json.Unmarshal([]byte(checks), &r.Checks); err != nil {
		return r, fmt.Errorf("the checks column of release %q: %w; restore the database from backup", r.ID, err)
	}
	return r, nil
}

// ReadRelease reads the release whose column (id or manifest_digest) is key, with its artifacts and its files
// (ordered by filesOrder, the column keeping the manifest's order); store.ErrNotFound when there is none. Pass a
// read-only transaction for one snapshot.
func ReadRelease(ctx context.Context, q Querier, column, key, filesOrder string) (store.Release, error) {
	r, err := ScanRelease(q.QueryRowContext(ctx, `SELECT `+ReleaseColumns+` FROM releases WHERE `+column+` = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("release %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("reading release %q: %w", key, err)
	}
	if r.Artifacts, err = ArtifactsOf(ctx, q, r.ID); err != nil {
		return r, err
	}
	r.Files, err = FilesOf(ctx, q, r.ID, filesOrder)
	return r, err
}

// ReleaseManifest reads the manifest recorded with release id; store.ErrNotFound when there is no such
// release or it has none.
func ReleaseManifest(ctx context.Context, q Querier, id string) ([]byte, error) {
	var m []byte
	err := q.QueryRowContext(ctx, `SELECT manifest FROM releases WHERE id = ?`, id).Scan(&m)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("release %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the manifest of release %q: %w", id, err)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("the manifest of release %q (admitted before the store kept manifests, schema version 5): %w", id, store.ErrNotFound)
	}
	return m, nil
}

// ArtifactsOf reads the artifacts of release id, by name.
func ArtifactsOf(ctx context.Context, q Querier, id string) ([]store.Artifact, error) {
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

// FilesOf reads the files of release id, ordered by the column order.
func FilesOf(ctx context.Context, q Querier, id, order string) ([]store.File, error) {
	rows, err := q.QueryContext(ctx, `SELECT role, name, path, digest, size, media_type, describes FROM release_files WHERE release_id = ? ORDER BY `+order, id)
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

// ArtifactByDigest reads one artifact record with this digest (the first by release ID and name);
// store.ErrNotFound when no release holds it.
func ArtifactByDigest(ctx context.Context, q Querier, digest string) (store.Artifact, error) {
	var a store.Artifact
	err := q.QueryRowContext(ctx, `SELECT digest, size, name FROM artifacts WHERE digest = ? ORDER BY release_id, name LIMIT 1`, digest).
		Scan(&a.Digest, &a.Size, &a.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("artifact %q: %w", digest, store.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("reading artifact %q: %w", digest, err)
	}
	return a, nil
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
