package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slipway/actions/internal/store"
)

// CreateToken implements store.Store.
func (d *DB) CreateToken(ctx context.Context, t store.Token) error {
	_, err := d.write.ExecContext(ctx,
		`INSERT INTO tokens (id, name, hash, scopes, created, expires, revoked) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.ID, t.Name, t.Hash, strings.Join(t.Scopes, ","), millis(t.Created), nullMillis(t.Expires), nullMillis(t.Revoked))
	if isConstraint(err) {
		return fmt.Errorf("token %q: %w", t.ID, store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("recording token %q: %w", t.ID, err)
	}
	return nil
}

const tokenColumns = `id, name, hash, scopes, created, expires, revoked`

// Token implements store.Store.
func (d *DB) Token(ctx context.Context, id string) (store.Token, error) {
	t, err := scanToken(d.read.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, fmt.Errorf("token %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("reading token %q: %w", id, err)
	}
	return t, nil
}

// Tokens implements store.Store.
func (d *DB) Tokens(ctx context.Context) ([]store.Token, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT `+tokenColumns+` FROM tokens ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("listing tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	return out, nil
}

// RevokeToken implements store.Store.
func (d *DB) RevokeToken(ctx context.Context, id string, at time.Time) error {
	res, err := d.write.ExecContext(ctx, `UPDATE tokens SET revoked = coalesce(revoked, ?) WHERE id = ?`, millis(at), id)
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

type scanner interface{ Scan(dest ...any) error }

func scanToken(s scanner) (store.Token, error) {
	var t store.Token
	var scopes string
	var created int64
	var expires, revoked sql.NullInt64
	if err := s.Scan(&t.ID, &t.Name, &t.Hash, &scopes, &created, &expires, &revoked); err != nil {
		return t, err
	}
	if scopes != "" {
		t.Scopes = strings.Split(scopes, ",")
	}
	t.Created, t.Expires, t.Revoked = fromMillis(created), fromNull(expires), fromNull(revoked)
	return t, nil
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func fromNull(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMillis(n.Int64)
}

// isConstraint reports a UNIQUE or PRIMARY KEY violation.
func isConstraint(err error) bool {
	return err != nil && strings.Contains(err.Error(), "constraint failed")
}
