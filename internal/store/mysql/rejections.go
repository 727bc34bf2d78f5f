package mysql

import (
	"context"

	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/store/sqlkit"
)

// CreateRejection implements store.Store.
func (d *DB) CreateRejection(ctx context.Context, r store.Rejection) error {
	return sqlkit.Recorded(ctx, d.db, store.IntentRejection, r.ManifestDigest, func(tx sqlkit.Execer) error {
		return sqlkit.CreateRejection(ctx, tx, r, func(err error) bool { return isError(err, errDuplicateKey) })
	})
}

// Rejections implements store.Store.
func (d *DB) Rejections(ctx context.Context, q store.RejectionQuery) ([]store.Rejection, error) {
	return sqlkit.Rejections(ctx, d.db, q)
}
