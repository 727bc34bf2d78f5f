package sqlite

import (
	"context"

	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/store/sqlkit"
)

// CreateDispatchRequest implements store.Store.
func (d *DB) CreateDispatchRequest(ctx context.Context, r store.DispatchRequest) error {
	return sqlkit.CreateDispatchRequest(ctx, d.write, r,
		func(err error) bool { return isConstraint(err) && !isForeignKey(err) }, isForeignKey)
}

// DispatchRequest implements store.Store.
func (d *DB) DispatchRequest(ctx context.Context, id string) (store.DispatchRequest, error) {
	return sqlkit.DispatchRequest(ctx, d.read, id)
}

// DispatchRequests implements store.Store.
func (d *DB) DispatchRequests(ctx context.Context, q store.DispatchRequestQuery) ([]store.DispatchRequest, error) {
	return sqlkit.DispatchRequests(ctx, d.read, q)
}

// DecideDispatchRequest implements store.Store.
func (d *DB) DecideDispatchRequest(ctx context.Context, id, from string, to store.DispatchRequest) error {
	return sqlkit.DecideDispatchRequest(ctx, d.write, d.write, id, from, to)
}

// ListDispatches implements store.Store.
func (d *DB) ListDispatches(ctx context.Context, q store.DispatchQuery) ([]store.Dispatch, error) {
	return sqlkit.ListDispatches(ctx, d.read, q)
}
