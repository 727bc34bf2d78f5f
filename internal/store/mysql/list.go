package mysql

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/store/sqlkit"
)

// Releases implements store.Store (sqlkit.ListReleases) in one read-only transaction.
func (d *DB) Releases(ctx context.Context, q store.ReleaseQuery) ([]store.Release, error) {
	tx, err := d.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("listing releases in %s: %w", d.where, err)
	}
	defer tx.Rollback()
	return sqlkit.ListReleases(ctx, tx, q)
}
