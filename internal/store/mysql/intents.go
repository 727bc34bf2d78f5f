package mysql

import (
	"context"

	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/store/sqlkit"
)

// CreateIntent implements store.Store.
func (d *DB) CreateIntent(ctx context.Context, i store.Intent) error {
	return sqlkit.CreateIntent(ctx, d.db, i, func(err error) bool { return isError(err, errDuplicateKey) })
}

// Intent implements store.Store.
func (d *DB) Intent(ctx context.Context, key string) (store.Intent, error) {
	return sqlkit.Intent(ctx, d.db, key)
}

// PendingIntents implements store.Store.
func (d *DB) PendingIntents(ctx context.Context) ([]store.Intent, error) {
	return sqlkit.PendingIntents(ctx, d.db)
}

// DeleteIntent implements store.Store.
func (d *DB) DeleteIntent(ctx context.Context, key, kind string) error {
	return sqlkit.RemoveIntent(ctx, d.db, key, kind)
}

// HighestLogIndex implements store.Store.
func (d *DB) HighestLogIndex(ctx context.Context) (uint64, bool, error) {
	return sqlkit.HighestLogIndex(ctx, d.db)
}

// CountLogIndexes implements store.Store.
func (d *DB) CountLogIndexes(ctx context.Context) (uint64, error) {
	return sqlkit.CountLogIndexes(ctx, d.db)
}

// VisitLogIndexes implements store.Store.
func (d *DB) VisitLogIndexes(ctx context.Context, visit func(uint64)) error {
	return sqlkit.VisitLogIndexes(ctx, d.db, visit)
}
