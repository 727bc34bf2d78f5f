package sqlkit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/slipway/actions/internal/store"
)

// Execer writes: *sql.DB, *sql.Tx or *sql.Conn.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// DispatchColumns are the columns of table dispatches ScanDispatch reads, in its order (migrations 4 and 9).
const DispatchColumns = `id, release_id, run_id, job_id, cluster, slurm_partition, builder_id, requester, created, log_index, log_entry, receipt, submitted, state, exit_code, started, ended, is_final, node`

// CreateDispatch inserts d; isDuplicate tells a taken key (store.ErrExists) from other failures, and
// isForeignKey a release that is not recorded (store.ErrNotFound).
func CreateDispatch(ctx context.Context, x Execer, d store.Dispatch, isDuplicate, isForeignKey func(error) bool) error {
	st := d.State
	_, err := x.ExecContext(ctx, `INSERT INTO dispatches (`+DispatchColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.ReleaseID, d.RunID, d.JobID, d.Cluster, d.Partition, d.BuilderID, d.Requester, Millis(d.Created), d.LogIndex,
		nonNilBytes(d.LogEntry), nonNilBytes(d.Receipt), d.Submitted, st.State, st.ExitCode, NullMillis(st.Started), NullMillis(st.Ended), st.Final, st.Node)
	return insertError(err, "dispatch", d.ID, d.ReleaseID, isDuplicate, isForeignKey)
}

// insertError maps the error of inserting the record what (of release) to store.ErrExists (its id taken),
// store.ErrNotFound (its release not recorded) or a wrapped error; nil stays nil.
func insertError(err error, what, id, release string, isDuplicate, isForeignKey func(error) bool) error {
	switch {
	case err == nil:
		return nil
	case isDuplicate(err):
		return fmt.Errorf("%s %q: %w", what, id, store.ErrExists)
	case isForeignKey(err):
		return fmt.Errorf("release %q of %s %q: %w", release, what, id, store.ErrNotFound)
	}
	return fmt.Errorf("recording %s %q: %w", what, id, err)
}

// ScanDispatch reads a row of DispatchColumns.
func ScanDispatch(s Scanner) (store.Dispatch, error) {
	var d store.Dispatch
	var created int64
	var started, ended sql.NullInt64
	if err := s.Scan(&d.ID, &d.ReleaseID, &d.RunID, &d.JobID, &d.Cluster, &d.Partition, &d.BuilderID, &d.Requester, &created, &d.LogIndex,
		&d.LogEntry, &d.Receipt, &d.Submitted, &d.State.State, &d.State.ExitCode, &started, &ended, &d.State.Final, &d.State.Node); err != nil {
		return d, err
	}
	d.Created, d.State.Started, d.State.Ended = FromMillis(created), FromNull(started), FromNull(ended)
	return d, nil
}

// Dispatch reads the dispatch with this ID; store.ErrNotFound when there is none.
func Dispatch(ctx context.Context, q Querier, id string) (store.Dispatch, error) {
	d, err := ScanDispatch(q.QueryRowContext(ctx, `SELECT `+DispatchColumns+` FROM dispatches WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("dispatch %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("reading dispatch %q: %w", id, err)
	}
	return d, nil
}

// SetDispatchState records s for dispatch id unless its recorded state is final.
func SetDispatchState(ctx context.Context, x Execer, q Querier, id string, s store.DispatchState) error {
	_, err := x.ExecContext(ctx, `UPDATE dispatches SET state = ?, exit_code = ?, started = ?, ended = ?, is_final = ?, node = ? WHERE id = ? AND NOT is_final`,
		s.State, s.ExitCode, NullMillis(s.Started), NullMillis(s.Ended), s.Final, s.Node, id)
	if err != nil {
		return fmt.Errorf("recording the state of dispatch %q: %w", id, err)
	}
	// No row changed: a final state is kept, or there is no such dispatch.
	var one int
	err = q.QueryRowContext(ctx, `SELECT 1 FROM dispatches WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("dispatch %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("recording the state of dispatch %q: %w", id, err)
	}
	return nil
}

// UnfinishedDispatches reads the submitted dispatches whose state is not final, oldest first.
func UnfinishedDispatches(ctx context.Context, q Querier) ([]store.Dispatch, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+DispatchColumns+` FROM dispatches WHERE submitted AND NOT is_final ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("listing unfinished dispatches: %w", err)
	}
	defer rows.Close()
	var out []store.Dispatch
	for rows.Next() {
		d, err := ScanDispatch(rows)
		if err != nil {
			return nil, fmt.Errorf("listing unfinished dispatches: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// AuthorizationColumns are the columns of table dispatch_authorizations ScanAuthorization reads, in its order
// (migration 6).
const AuthorizationColumns = `id, release_id, run_id, fingerprint, cluster, slurm_partition, builder_id, requester, created, log_index, log_entry, receipt`

// CreateDispatchAuthorization inserts a; isDuplicate and isForeignKey as for CreateDispatch.
func CreateDispatchAuthorization(ctx context.Context, x Execer, a store.DispatchAuthorization, isDuplicate, isForeignKey func(error) bool) error {
	_, err := x.ExecContext(ctx, `INSERT INTO dispatch_authorizations (`+AuthorizationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.ReleaseID, a.RunID, a.Fingerprint, a.Cluster, a.Partition, a.BuilderID, a.Requester, Millis(a.Created), a.LogIndex,
		nonNilBytes(a.LogEntry), nonNilBytes(a.Receipt))
	return insertError(err, "dispatch authorization", a.ID, a.ReleaseID, isDuplicate, isForeignKey)
}

// DispatchAuthorization reads the authorization with this ID; store.ErrNotFound when there is none.
func DispatchAuthorization(ctx context.Context, q Querier, id string) (store.DispatchAuthorization, error) {
	var a store.DispatchAuthorization
	var created int64
	err := q.QueryRowContext(ctx, `SELECT `+AuthorizationColumns+` FROM dispatch_authorizations WHERE id = ?`, id).Scan(
		&a.ID, &a.ReleaseID, &a.RunID, &a.Fingerprint, &a.Cluster, &a.Partition, &a.BuilderID, &a.Requester, &created, &a.LogIndex,
		&a.LogEntry, &a.Receipt)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("dispatch authorization %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("reading dispatch authorization %q: %w", id, err)
	}
	a.Created = FromMillis(created)
	return a, nil
}
