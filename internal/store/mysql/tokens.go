package mysql

import (
	"context"
	"fmt"
	"time"

	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/store/sqlkit"
)

// CreateToken implements store.Store.
func (d *DB) CreateToken(ctx context.Context, t store.Token) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO tokens (`+sqlkit.TokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`, sqlkit.TokenArgs(t)...)
	if isError(err, errDuplicateKey) {
		return fmt.Errorf("token %q: %w", t.ID, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("recording token %q in %s: %w", t.ID, d.where, err)
	}
	return nil
}

// Token implements store.Store.
func (d *DB) Token(ctx context.Context, id string) (store.Token, error) {
	return sqlkit.Token(ctx, d.db, id)
}

// Tokens implements store.Store.
func (d *DB) Tokens(ctx context.Context) ([]store.Token, error) {
	return sqlkit.Tokens(ctx, d.db)
}

// RevokeToken implements store.Store. The connection reports rows matched (clientFoundRows), so that
// revoking a revoked token is not mistaken for a missing one.
func (d *DB) RevokeToken(ctx context.Context, id string, at time.Time) error {
	res, err := d.db.ExecContext(ctx, `UPDATE tokens SET revoked = COALESCE(revoked, ?) WHERE id = ?`, sqlkit.Millis(at), id)
	if err != nil {
		return fmt.Errorf("revoking token %q in %s: %w", id, d.where, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("revoking token %q in %s: %w", id, d.where, err)
	} else if n == 0 {
		return fmt.Errorf("token %q: %w", id, store.ErrNotFound)
	}
	return nil
}
