package sqlkit

import (
	"context"
	"fmt"
	"strings"

	"github.com/slipway/actions/internal/store"
)

// ListReleases reads the releases q selects, newest first (created, then id, descending), each with its
// artifacts: one query on the indexes of migration 3 (releases by creation, by repository; files and artifacts
// by digest), keyset-paginated on (created, id), then the artifacts of the page's releases in a second one. Pass a
// read-only transaction for one snapshot.
func ListReleases(ctx context.Context, tx Querier, q store.ReleaseQuery) ([]store.Release, error) {
	if q.Limit < 1 || q.Limit > store.MaxReleasesPage {
		return nil, fmt.Errorf("listing releases: limit %d is not between 1 and %d (a bug in the caller)", q.Limit, store.MaxReleasesPage)
	}
	where, args := ReleaseFilter(q)
	query := `SELECT ` + listColumns + ` FROM releases r`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY r.created DESC, r.id DESC LIMIT ?`
	args = append(args, q.Limit)
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing releases: %w", err)
	}
	var out []store.Release
	for rows.Next() {
		r, err := ScanRelease(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing releases: %w", err)
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing releases: %w", err)
	}
	if err := withArtifacts(ctx, tx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// withArtifacts reads the artifacts of rels in one query (not one per release) and sets each release's, by name.
func withArtifacts(ctx context.Context, q Querier, rels []store.Release) error {
	if len(rels) == 0 {
		return nil
	}
	at := make(map[string]int, len(rels))
	ids := make([]any, len(rels))
	for i, r := range rels {
		at[r.ID], ids[i] = i, r.ID
	}
	rows, err := q.QueryContext(ctx, `SELECT release_id, digest, size, name FROM artifacts WHERE release_id IN (?`+
		strings.Repeat(`, ?`, len(rels)-1)+`) ORDER BY release_id, name`, ids...)
	if err != nil {
		return fmt.Errorf("reading the artifacts of %d releases: %w", len(rels), err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var a store.Artifact
		if err := rows.Scan(&id, &a.Digest, &a.Size, &a.Name); err != nil {
			return fmt.Errorf("reading the artifacts of %d releases: %w", len(rels), err)
		}
		if i, ok := at[id]; ok {
			rels[i].Artifacts = append(rels[i].Artifacts, a)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the artifacts of %d releases: %w", len(rels), err)
	}
	return nil
}

var listColumns = "r." + strings.ReplaceAll(ReleaseColumns, ", ", ", r.")

// ReleaseFilter is q's WHERE terms on releases r and their arguments.
func ReleaseFilter(q store.ReleaseQuery) ([]string, []any) {
	var where []string
	var args []any
	if q.Repository != "" {
		where, args = append(where, `r.source_repository = ?`), append(args, q.Repository)
	}
	if q.Digest != "" {
		// Driven by the digest indexes: the few releases holding a digest
		// are found first, then sorted, rather than every release scanned.
		where = append(where, `r.id IN (SELECT release_id FROM artifacts WHERE digest = ? UNION SELECT release_id FROM release_files WHERE digest = ? UNION SELECT id FROM releases WHERE manifest_digest = ?)`)
		args = append(args, q.Digest, q.Digest, q.Digest)
	}
	if !q.Since.IsZero() {
		where, args = append(where, `r.created >= ?`), append(args, Millis(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = append(where, `r.created < ?`), append(args, Millis(q.Until))
	}
	if q.After != nil {
		c := Millis(q.After.Created)
		where, args = append(where, `(r.created < ? OR (r.created = ? AND r.id < ?))`), append(args, c, c, q.After.ID)
	}
	return where, args
}
