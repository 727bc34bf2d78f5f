package mysql

import (
	"context"

	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/store/sqlkit"
)

// CreateDispatch implements store.Store.
func (d *DB) CreateDispatch(ctx context.Context, x store.Dispatch) error {
	return sqlkit.Recorded(ctx, d.db, store.IntentDispatch, x.ID, func(tx sqlkit.Execer) error {
		return sqlkit.CreateDispatch(ctx, tx, x, func(err error) bool { return isError(err, errDuplicateKey) },
			func(err error) bool { return isError(err, errNoParent) })
	})
}

// Dispatch implements store.Store.
func (d *DB) Dispatch(ctx context.Context, id string) (store.Dispatch, error) {
	return sqlkit.Dispatch(ctx, d.db, id)
}

// SetDispatchState implements store.Store.
func (d *DB) SetDispatchState(ctx context.Context, id string, s store.DispatchState) error {
	return sqlkit.SetDispatchState(ctx, d.db, d.db, id, s)
}

// UnfinishedDispatches implements store.Store.
func (d *DB) UnfinishedDispatches(ctx context.Context) ([]store.Dispatch, error) {
	return sqlkit.UnfinishedDispatches(ctx, d.db)
}

// CreateDispatchAuthorization implements store.Store.
func (d *DB) CreateDispatchAuthorization(ctx context.Context, a store.DispatchAuthorization) error {
	return sqlkit.Recorded(ctx, d.db, store.IntentAuthorization, a.ID, func(tx sqlkit.Execer) error {
		return sqlkit.CreateDispatchAuthorization(ctx, tx, a, func(err error) bool { return isError(err, errDuplicateKey) },
			func(err error) bool { return isError(err, errNoParent) })
	})
}

// DispatchAuthorization implements store.Store.
func (d *DB) DispatchAuthorization(ctx context.Context, id string) (store.DispatchAuthorization, error) {
	return sqlkit.DispatchAuthorization(ctx, d.db, id)
}
