package sqlite

import (
	"context"

	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/store/sqlkit"
)

// CreateRejection implements store.Store.
func (d *DB) CreateRejection(ctx context.Context, r store.Rejection) error {
	return sqlkit.Recorded(ctx, d.write, store.IntentRejection, r.ManifestDigest, func(tx sqlkit.Execer) error {
		return sqlkit.CreateRejection(ctx, tx, r, isConstraint)
	})
}

// Rejections implements store.Store.
func (d *DB) Rejections(ctx context.Context, q store.RejectionQuery) ([]store.Rejection, error) {
	return sqlkit.Rejections(ctx, d.read, q)
}
