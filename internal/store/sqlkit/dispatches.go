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

// DispatchColumns are the columns of table dispatches ScanDispatch reads, in its order (migration 4).
const DispatchColumns = `id, release_id, run_id, job_id, cluster, slurm_partition, builder_id, requester, created, log_index, log_entry, receipt, submitted, state, exit_code, started, ended, is_final`

// CreateDispatch inserts d; isDuplicate tells a taken key (store.ErrExists) from other failures, and
// isForeignKey a release that is not recorded (store.ErrNotFound).
func CreateDispatch(ctx context.Context, x Execer, d store.Dispatch, isDuplicate, isForeignKey func(error) bool) error {
	st := d.State
	_, err := x.ExecContext(ctx, `INSERT INTO dispatches (`+DispatchColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.ReleaseID, d.RunID, d.JobID, d.Cluster, d.Partition, d.BuilderID, d.Requester, Millis(d.Created), d.LogIndex,
		nonNilBytes(d.LogEntry), nonNilBytes(d.Receipt), d.Submitted, st.State, st.ExitCode, NullMillis(st.Started), NullMillis(st.Ended), st.Final)
	switch {
	case err == nil:
		return nil
	case isDuplicate(err):
		return fmt.Errorf("dispatch %q: %w", d.ID, store.ErrExists)
	case isForeignKey(err):
		return fmt.Errorf("release %q of dispatch %q: %w", d.ReleaseID, d.ID, store.ErrNotFound)
	}
	return fmt.Errorf("recording dispatch %q: %w", d.ID, err)
}

// ScanDispatch reads a row of DispatchColumns.
func ScanDispatch(s Scanner) (store.Dispatch, error) {
	var d store.Dispatch
	var created int64
	var started, ended sql.NullInt64
	if err := s.Scan(&d.ID, &d.ReleaseID, &d.RunID, &d.JobID, &d.Cluster, &d.Partition, &d.BuilderID, &d.Requester, &created, &d.LogIndex,
		&d.LogEntry, &d.Receipt, &d.Submitted, &d.State.State, &d.State.ExitCode, &started, &ended, &d.State.Final); err != nil {
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
	_, err := x.ExecContext(ctx, `UPDATE dispatches SET state = ?, exit_code = ?, started = ?, ended = ?, is_final = ? WHERE id = ? AND NOT is_final`,
		s.State, s.ExitCode, NullMillis(s.Started), NullMillis(s.Ended), s.Final, id)
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
