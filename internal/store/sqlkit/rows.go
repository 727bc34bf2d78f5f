package sqlkit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slipway/actions/internal/store"
)

// Scanner is a row: *sql.Row or *sql.Rows.
type Scanner interface{ Scan(dest ...any) error }

// Querier reads: *sql.DB, *sql.Tx or *sql.Conn.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// TokenColumns are the columns ScanToken reads, in its order.
const TokenColumns = `id, name, hash, scopes, created, expires, revoked`

// TokenArgs are t's values for TokenColumns.
func TokenArgs(t store.Token) []any {
	return []any{t.ID, t.Name, t.Hash, strings.Join(t.Scopes, ","), Millis(t.Created), NullMillis(t.Expires), NullMillis(t.Revoked)}
}

// ScanToken reads a row of TokenColumns.
func ScanToken(s Scanner) (store.Token, error) {
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
	t.Created, t.Expires, t.Revoked = FromMillis(created), FromNull(expires), FromNull(revoked)
	return t, nil
}

// TokenByID is the query Token runs: one token by ID.
const TokenByID = `SELECT ` + TokenColumns + ` FROM tokens WHERE id = ?`

// Token reads the token with this ID; store.ErrNotFound when there is none.
func Token(ctx context.Context, q Querier, id string) (store.Token, error) {
	return TokenRow(q.QueryRowContext(ctx, TokenByID, id), id)
}

// TokenRow reads the row of TokenByID for token id (from a statement
// prepared once, or Token's query); store.ErrNotFound when there is none.
func TokenRow(row *sql.Row, id string) (store.Token, error) {
	t, err := ScanToken(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, fmt.Errorf("token %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("reading token %q: %w", id, err)
	}
	return t, nil
}

// Tokens reads every token, oldest first.
func Tokens(ctx context.Context, q Querier) ([]store.Token, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+TokenColumns+` FROM tokens ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := ScanToken(rows)
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

// Millis is t as stored: Unix milliseconds.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// NullMillis is t as stored where the zero time means NULL ("never", "not yet").
func NullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// FromMillis is the UTC time of stored milliseconds.
func FromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// FromNull is FromMillis, with NULL as the zero time.
func FromNull(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return FromMillis(n.Int64)
}
