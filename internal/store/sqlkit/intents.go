package sqlkit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/slipway/actions/internal/store"
)

// IntentColumns are the columns of table log_intents ScanIntent reads, in its order (migration 10).
const IntentColumns = `intent_key, kind, created, owner, log_size, log_entry, record`

// InsertIntent records an intent, with IntentArgs.
const InsertIntent = `INSERT INTO log_intents (` + IntentColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?)`

// DeleteIntent removes the intent of a key and kind (the row it became is being recorded).
const DeleteIntent = `DELETE FROM log_intents WHERE intent_key = ? AND kind = ?`

// IntentArgs are i's values for InsertIntent.
func IntentArgs(i store.Intent) []any {
	return []any{i.Key, i.Kind, Millis(i.Created), i.Owner, i.LogSize, nonNilBytes(i.Entry), nonNilBytes(i.Record)}
}

// CreateIntent inserts i; isDuplicate tells a pending key (store.ErrExists) from other failures.
func CreateIntent(ctx context.Context, x Execer, i store.Intent, isDuplicate func(error) bool) error {
	_, err := x.ExecContext(ctx, InsertIntent, IntentArgs(i)...)
	return IntentError(err, i, isDuplicate)
}

// IntentError maps the error of inserting i to store.ErrExists (its key pending) or a wrapped failure.
func IntentError(err error, i store.Intent, isDuplicate func(error) bool) error {
	switch {
	case err == nil:
		return nil
	case isDuplicate(err):
		return fmt.Errorf("%s intent %q: %w", i.Kind, i.Key, store.ErrExists)
	}
	return fmt.Errorf("recording the %s intent %q: %w", i.Kind, i.Key, err)
}

// ScanIntent reads a row of IntentColumns.
func ScanIntent(s Scanner) (store.Intent, error) {
	var i store.Intent
	var created int64
	if err := s.Scan(&i.Key, &i.Kind, &created, &i.Owner, &i.LogSize, &i.Entry, &i.Record); err != nil {
		return i, err
	}
	i.Created = FromMillis(created)
	return i, nil
}

// Intent reads the pending intent of key; store.ErrNotFound when there is none.
func Intent(ctx context.Context, q Querier, key string) (store.Intent, error) {
	i, err := ScanIntent(q.QueryRowContext(ctx, `SELECT `+IntentColumns+` FROM log_intents WHERE intent_key = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return i, fmt.Errorf("intent %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return i, fmt.Errorf("reading intent %q: %w", key, err)
	}
	return i, nil
}

// PendingIntents reads every pending intent, oldest first.
func PendingIntents(ctx context.Context, q Querier) ([]store.Intent, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+IntentColumns+` FROM log_intents ORDER BY created, intent_key`)
	if err != nil {
		return nil, fmt.Errorf("reading pending intents: %w", err)
	}
	defer rows.Close()
	var out []store.Intent
	for rows.Next() {
		i, err := ScanIntent(rows)
		if err != nil {
			return nil, fmt.Errorf("reading pending intents: %w", err)
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// RemoveIntent deletes the intent of key and kind; nothing when there is none.
func RemoveIntent(ctx context.Context, x Execer, key, kind string) error {
	if _, err := x.ExecContext(ctx, DeleteIntent, key, kind); err != nil {
		return fmt.Errorf("removing the %s intent %q: %w", kind, key, err)
	}
	return nil
}

// HighestLogIndex reads the highest log index any table of logged records holds (each has an index on
// log_index since migration 10: four index lookups); ok is false when they are all empty.
func HighestLogIndex(ctx context.Context, q Querier) (uint64, bool, error) {
	var high sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT MAX(m) FROM (
		SELECT MAX(log_index) AS m FROM releases
		UNION ALL SELECT MAX(log_index) FROM rejections
		UNION ALL SELECT MAX(log_index) FROM dispatches
		UNION ALL SELECT MAX(log_index) FROM dispatch_authorizations) AS highest`).Scan(&high)
	if err != nil {
		return 0, false, fmt.Errorf("reading the highest recorded log index: %w", err)
	}
	return uint64(high.Int64), high.Valid, nil
}

// loggedTables are the tables whose rows each record one log entry, by log_index.
var loggedTables = []string{"releases", "rejections", "dispatches", "dispatch_authorizations"}

// CountLogIndexes counts the rows of the tables of logged records.
func CountLogIndexes(ctx context.Context, q Querier) (uint64, error) {
	var total uint64
	for _, table := range loggedTables {
		var n uint64
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
			return 0, fmt.Errorf("counting the rows of %s: %w", table, err)
		}
		total += n
	}
	return total, nil
}

// VisitLogIndexes calls visit with every log index the tables of logged records hold.
func VisitLogIndexes(ctx context.Context, q Querier, visit func(uint64)) error {
	for _, table := range loggedTables {
		if err := visitIndexes(ctx, q, table, visit); err != nil {
			return err
		}
	}
	return nil
}

func visitIndexes(ctx context.Context, q Querier, table string, visit func(uint64)) error {
	rows, err := q.QueryContext(ctx, `SELECT log_index FROM `+table)
	if err != nil {
		return fmt.Errorf("reading the log indexes of %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var i uint64
		if err := rows.Scan(&i); err != nil {
			return fmt.Errorf("reading the log indexes of %s: %w", table, err)
		}
		visit(i)
	}
	return rows.Err()
}

// Recorded inserts a logged record and removes its intent (kind, key) in one transaction on db: insert runs
// inside it.
func Recorded(ctx context.Context, db *sql.DB, kind, key string, insert func(Execer) error) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recording %s %q: %w", kind, key, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = insert(tx); err != nil {
		return err
	}
	if err = RemoveIntent(ctx, tx, key, kind); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("recording %s %q: %w", kind, key, err)
	}
	return nil
}
