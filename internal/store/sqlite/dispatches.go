package sqlite

import (
	"context"
	"strings"

	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/store/sqlkit"
)

// CreateDispatch implements store.Store.
func (d *DB) CreateDispatch(ctx context.Context, x store.Dispatch) error {
	return sqlkit.Recorded(ctx, d.write, store.IntentDispatch, x.ID, func(tx sqlkit.Execer) error {
		return sqlkit.CreateDispatch(ctx, tx, x, func(err error) bool { return isConstraint(err) && !isForeignKey(err) }, isForeignKey)
	})
}

// isForeignKey reports a FOREIGN KEY violation.
func isForeignKey(err error) bool {
	return err != nil && strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}

// Dispatch implements store.Store.
func (d *DB) Dispatch(ctx context.Context, id string) (store.Dispatch, error) {
	return sqlkit.Dispatch(ctx, d.read, id)
}

// SetDispatchState implements store.Store.
func (d *DB) SetDispatchState(ctx context.Context, id string, s store.DispatchState) error {
	return sqlkit.SetDispatchState(ctx, d.write, d.write, id, s)
}

// UnfinishedDispatches implements store.Store.
func (d *DB) UnfinishedDispatches(ctx context.Context) ([]store.Dispatch, error) {
	return sqlkit.UnfinishedDispatches(ctx, d.read)
}

// CreateDispatchAuthorization implements store.Store.
func (d *DB) CreateDispatchAuthorization(ctx context.Context, a store.DispatchAuthorization) error {
	return sqlkit.Recorded(ctx, d.write, store.IntentAuthorization, a.ID, func(tx sqlkit.Execer) error {
		return sqlkit.CreateDispatchAuthorization(ctx, tx, a, func(err error) bool { return isConstraint(err) && !isForeignKey(err) }, isForeignKey)
	})
}

// DispatchAuthorization implements store.Store.
func (d *DB) DispatchAuthorization(ctx context.Context, id string) (store.DispatchAuthorization, error) {
	return sqlkit.DispatchAuthorization(ctx, d.read, id)
}
