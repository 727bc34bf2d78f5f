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

// RequestColumns are the columns of table dispatch_requests ScanRequest reads, in its order (migration 7).
const RequestColumns = `id, release_id, job, requester, reason, created, state, decider, decided, dispatch_id, detail`

// CreateDispatchRequest inserts r; isDuplicate and isForeignKey as for CreateDispatch.
func CreateDispatchRequest(ctx context.Context, x Execer, r store.DispatchRequest, isDuplicate, isForeignKey func(error) bool) error {
	_, err := x.ExecContext(ctx, `INSERT INTO dispatch_requests (`+RequestColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.ReleaseID, nonNilBytes(r.Job), r.Requester, r.Reason, Millis(r.Created), r.State, r.Decider, NullMillis(r.Decided),
		r.DispatchID, r.Detail)
	return insertError(err, "dispatch request", r.ID, r.ReleaseID, isDuplicate, isForeignKey)
}

// ScanRequest reads a row of RequestColumns.
func ScanRequest(s Scanner) (store.DispatchRequest, error) {
	var r store.DispatchRequest
	var created int64
	var decided sql.NullInt64
	if err := s.Scan(&r.ID, &r.ReleaseID, &r.Job, &r.Requester, &r.Reason, &created, &r.State, &r.Decider, &decided, &r.DispatchID, &r.Detail); err != nil {
		return r, err
	}
	r.Created, r.Decided = FromMillis(created), FromNull(decided)
	return r, nil
}

// DispatchRequest reads the request with this ID; store.ErrNotFound when there is none.
func DispatchRequest(ctx context.Context, q Querier, id string) (store.DispatchRequest, error) {
	r, err := ScanRequest(q.QueryRowContext(ctx, `SELECT `+RequestColumns+` FROM dispatch_requests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("dispatch request %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("reading dispatch request %q: %w", id, err)
	}
	return r, nil
}

// DispatchRequests reads the requests q selects, newest first, keyset-paginated on (created, id).
func DispatchRequests(ctx context.Context, q Querier, sel store.DispatchRequestQuery) ([]store.DispatchRequest, error) {
	var where []string
	var args []any
	if sel.State != "" {
		where, args = append(where, `state = ?`), append(args, sel.State)
	}
	where, args = after(where, args, sel.After)
	return listRows(ctx, q, "dispatch requests", `SELECT `+RequestColumns+` FROM dispatch_requests`, where, args, sel.Limit, ScanRequest)
}

// DecideDispatchRequest moves request id from state from to to's decision; store.ErrNotFound when there is no
// such request, store.ErrStateChanged when it is in another state.
func DecideDispatchRequest(ctx context.Context, x Execer, q Querier, id, from string, to store.DispatchRequest) error {
	res, err := x.ExecContext(ctx, `UPDATE dispatch_requests SET state = ?, decider = ?, decided = ?, dispatch_id = ?, detail = ? WHERE id = ? AND state = ?`,
		to.State, to.Decider, NullMillis(to.Decided), to.DispatchID, to.Detail, id, from)
	if err != nil {
		return fmt.Errorf("deciding dispatch request %q: %w", id, err)
	}
	// Rows matched, not changed, on both engines (MySQL's clientFoundRows).
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		return nil
	}
	r, err := DispatchRequest(ctx, q, id)
	if err != nil {
		return err
	}
	return fmt.Errorf("dispatch request %q is %s, not %s: %w", id, r.State, from, store.ErrStateChanged)
}

// ListDispatches reads the dispatches q selects, newest first, keyset-paginated on (created, id).
func ListDispatches(ctx context.Context, q Querier, sel store.DispatchQuery) ([]store.Dispatch, error) {
	var where []string
	var args []any
	if sel.ReleaseID != "" {
		where, args = append(where, `release_id = ?`), append(args, sel.ReleaseID)
	}
	where, args = after(where, args, sel.After)
	return listRows(ctx, q, "dispatches", `SELECT `+DispatchColumns+` FROM dispatches`, where, args, sel.Limit, ScanDispatch)
}

// after adds the keyset term "older than c" on columns created and id.
func after(where []string, args []any, c *store.Cursor) ([]string, []any) {
	if c == nil {
		return where, args
	}
	return afterKey(where, args, c.Created, "id", c.ID)
}

// afterKey adds the keyset term "older than (created, key)" on columns created and the column key.
func afterKey(where []string, args []any, created time.Time, key string, v any) ([]string, []any) {
	ms := Millis(created)
	return append(where, `(created < ? OR (created = ? AND `+key+` < ?))`), append(args, ms, ms, v)
}

// listRows runs query with where, newest first by (created, id), at most limit rows, each read by scan.
func listRows[T any](ctx context.Context, q Querier, what, query string, where []string, args []any, limit int, scan func(Scanner) (T, error)) ([]T, error) {
	return listRowsBy(ctx, q, what, query, "id", where, args, limit, scan)
}

// listRowsBy is listRows ordered by (created, key).
func listRowsBy[T any](ctx context.Context, q Querier, what, query, key string, where []string, args []any, limit int, scan func(Scanner) (T, error)) ([]T, error) {
	if limit < 1 || limit > store.MaxReleasesPage {
		return nil, fmt.Errorf("listing %s: limit %d is not between 1 and %d (a bug in the caller)", what, limit, store.MaxReleasesPage)
	}
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY created DESC, `+key+` DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing %s: %w", what, err)
	}
	return out, nil
}
