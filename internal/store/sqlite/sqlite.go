package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go

	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/store/sqlkit"
)

//go:embed migrations/*.sql
var migrations embed.FS

// BusyTimeoutMillis is how long a statement waits for a lock held by
// another connection (or another process, such as "slipway token create"
// beside a running server) before it fails.
const BusyTimeoutMillis = 5000

// DB is a store.Store on one SQLite file.
type DB struct {
	write *sql.DB // one connection: SQLite has one writer
	read  *sql.DB // query_only connections
	group groupCommit
	stmts *releaseStmts // prepared on write
	reads *readStmts    // prepared on read
}

// readStmts are the reads of every request (the token) and of every
// admission (the release of a manifest), prepared once on the read pool
// (database/sql prepares each on a connection the first time it runs
// there) instead of parsed again for every request.
type readStmts struct {
	token, releaseID *sql.Stmt
}

func prepareReadStmts(ctx context.Context, db *sql.DB) (*readStmts, error) {
	var st readStmts
	var err error
	if st.token, err = db.PrepareContext(ctx, sqlkit.TokenByID); err != nil {
		return nil, fmt.Errorf("preparing %q: %w", sqlkit.TokenByID, err)
	}
	const releaseID = `SELECT id FROM releases WHERE manifest_digest = ?`
	if st.releaseID, err = db.PrepareContext(ctx, releaseID); err != nil {
		st.token.Close()
		return nil, fmt.Errorf("preparing %q: %w", releaseID, err)
	}
	return &st, nil
}

// Close closes the prepared statements.
func (st *readStmts) Close() error { return errors.Join(st.token.Close(), st.releaseID.Close()) }

var _ store.Store = (*DB)(nil)

// SchemaTooNewError is the error of Open on a database migrated by a newer
// slipway than this one.
type SchemaTooNewError = sqlkit.SchemaTooNewError

// Open opens (creating it if needed) the database file at path and
// migrates it to the newest schema this binary knows.
func Open(ctx context.Context, path string) (*DB, error) {
	// temp_store(MEMORY): the statement journal of each release's
	// savepoint (group commit) is kept in memory rather than in a temporary
	// file written with a syscall per page; it only serves a rollback
	// inside the transaction, so durability is the WAL's, unchanged.
	write, err := open(path, "_txlock=immediate&_pragma=temp_store(MEMORY)")
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	if err := migrate(ctx, write, path); err != nil {
		write.Close()
		return nil, err
	}
	stmts, err := prepareReleaseStmts(ctx, write)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("opening database %q: %w", path, err)
	}
	read, err := open(path, "_pragma=query_only(1)")
	if err != nil {
		stmts.Close()
		write.Close()
		return nil, err
	}
	read.SetMaxOpenConns(max(2, runtime.GOMAXPROCS(0)))
	reads, err := prepareReadStmts(ctx, read)
	if err != nil {
		read.Close()
		stmts.Close()
		write.Close()
		return nil, fmt.Errorf("opening database %q: %w", path, err)
	}
	return &DB{write: write, read: read, stmts: stmts, reads: reads}, nil
}

func open(path, extra string) (*sql.DB, error) {
	q := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&%s", BusyTimeoutMillis, extra)
	dsn := (&url.URL{Scheme: "file", OmitHost: true, Path: path, RawQuery: q}).String()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening database %q: %w", path, err)
	}
	return db, nil
}

// migrate applies the pending migrations, after refusing a schema newer
// than the embedded migrations. The write connection is the only one: two
// processes migrating one file wait on SQLite's lock.
func migrate(ctx context.Context, db *sql.DB, path string) error {
	return sqlkit.Migrate(ctx, goose.DialectSQLite3, db, embedded(), fmt.Sprintf("database %q", path))
}

// embedded is the migrations directory.
func embedded() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // a bug: the directory is embedded above
	}
	return sub
}

// SchemaVersion is the newest schema version this binary knows.
func SchemaVersion() int64 { return sqlkit.SchemaVersion(embedded()) }

// Ping implements store.Store.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.read.PingContext(ctx); err != nil {
		return fmt.Errorf("database does not answer: %w", err)
	}
	return nil
}

// Close implements store.Store: it checkpoints the WAL into the database
// file so that a copy of db.sqlite alone is complete.
func (d *DB) Close() error {
	_, cerr := d.write.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	return errors.Join(cerr, d.stmts.Close(), d.reads.Close(), d.read.Close(), d.write.Close())
}
