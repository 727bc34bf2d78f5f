package sqlkit

import (
	"context"
	"fmt"
	"strconv"

	"github.com/slipway/actions/internal/store"
)

// RejectionColumns are the columns of table rejections ScanRejection reads, in its order (migration 8).
const RejectionColumns = `log_index, created, release_id, manifest_digest, repository, uploader, check_name, subject, detail`

// CreateRejection inserts r; isDuplicate tells a recorded log index (store.ErrExists) from other failures.
func CreateRejection(ctx context.Context, x Execer, r store.Rejection, isDuplicate func(error) bool) error {
	_, err := x.ExecContext(ctx, `INSERT INTO rejections (`+RejectionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.LogIndex, Millis(r.Created), r.ReleaseID, r.ManifestDigest, r.Repository, r.Uploader, r.Check, r.Subject, r.Detail)
	return insertError(err, "rejection", strconv.FormatUint(r.LogIndex, 10), r.ReleaseID, isDuplicate, func(error) bool { return false })
}

// ScanRejection reads a row of RejectionColumns.
func ScanRejection(s Scanner) (store.Rejection, error) {
	var r store.Rejection
	var created int64
	if err := s.Scan(&r.LogIndex, &created, &r.ReleaseID, &r.ManifestDigest, &r.Repository, &r.Uploader, &r.Check, &r.Subject, &r.Detail); err != nil {
		return r, err
	}
	r.Created = FromMillis(created)
	return r, nil
}

// Rejections reads the rejections q selects, newest first, keyset-paginated on (created, log_index).
func Rejections(ctx context.Context, q Querier, sel store.RejectionQuery) ([]store.Rejection, error) {
	var where []string
	var args []any
	if sel.Repository != "" {
		where, args = append(where, `repository = ?`), append(args, sel.Repository)
	}
	if !sel.Since.IsZero() {
		where, args = append(where, `created >= ?`), append(args, Millis(sel.Since))
	}
	if !sel.Until.IsZero() {
		where, args = append(where, `created < ?`), append(args, Millis(sel.Until))
	}
	if c := sel.After; c != nil {
		index, err := strconv.ParseUint(c.ID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("listing rejections: cursor %q is not a log index (a bug in the caller)", c.ID)
		}
		where, args = afterKey(where, args, c.Created, "log_index", index)
	}
	return listRowsBy(ctx, q, "rejections", `SELECT `+RejectionColumns+` FROM rejections`, "log_index", where, args, sel.Limit, ScanRejection)
}
