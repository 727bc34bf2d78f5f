package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/store/sqlkit"
)

// CreateToken implements store.Store.
func (d *DB) CreateToken(ctx context.Context, t store.Token) error {
	_, err := d.write.ExecContext(ctx, `INSERT INTO tokens (`+sqlkit.TokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`, sqlkit.TokenArgs(t)...)
	if isConstraint(err) {
		return fmt.Errorf("token %q: %w", t.ID, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("recording token %q: %w", t.ID, err)
	}
	return nil
}

// Token implements store.Store.
func (d *DB) Token(ctx context.Context, id string) (store.Token, error) {
	return sqlkit.TokenRow(d.reads.token.QueryRowContext(ctx, id), id)
}

// Tokens implements store.Store.
func (d *DB) Tokens(ctx context.Context) ([]store.Token, error) {
	return sqlkit.Tokens(ctx, d.read)
}

// RevokeToken implements store.Store.
func (d *DB) RevokeToken(ctx context.Context, id string, at time.Time) error {
	res, err := d.write.ExecContext(ctx, `UPDATE tokens SET revoked = coalesce(revoked, ?) WHERE id = ?`, sqlkit.Millis(at), id)
	if err != nil {
		return fmt.Errorf("revoking token %q: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("revoking token %q: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("token %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// isConstraint reports a UNIQUE or PRIMARY KEY violation.
func isConstraint(err error) bool {
	return err != nil && strings.Contains(err.Error(), "constraint failed")
}
