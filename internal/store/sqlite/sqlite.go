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
}

var _ store.Store = (*DB)(nil)

// SchemaTooNewError is the error of Open on a database migrated by a newer
// slipway than this one.
type SchemaTooNewError struct {
	Path     string
	Database int64 // the schema version in the file
	Binary   int64 // the newest version this binary knows
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("database %q has schema version %d, newer than the %d this slipway knows; run the slipway that migrated it (or a newer one), or restore a backup made before the upgrade", e.Path, e.Database, e.Binary)
}

// Open opens (creating it if needed) the database file at path and
// migrates it to the newest schema this binary knows.
func Open(ctx context.Context, path string) (*DB, error) {
	write, err := open(path, "_txlock=immediate")
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	if err := migrate(ctx, write, path); err != nil {
		write.Close()
		return nil, err
	}
	read, err := open(path, "_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, err
	}
	read.SetMaxOpenConns(max(2, runtime.GOMAXPROCS(0)))
	return &DB{write: write, read: read}, nil
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
// than the embedded migrations.
func migrate(ctx context.Context, db *sql.DB, path string) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("reading the embedded migrations (a bug): %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		return fmt.Errorf("preparing the migrations of %q (a bug): %w", path, err)
	}
	sources := p.ListSources()
	known := sources[len(sources)-1].Version
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("reading the schema version of %q: %w; check that it is a slipway database and not in use by another program", path, err)
	}
	if current > known {
		return &SchemaTooNewError{Path: path, Database: current, Binary: known}
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrating %q from schema version %d to %d: %w; restore the backup taken before the upgrade if the file is damaged", path, current, known, err)
	}
	return nil
}

// SchemaVersion is the newest schema version this binary knows.
func SchemaVersion() int64 {
	sub, _ := fs.Sub(migrations, "migrations")
	entries, _ := fs.ReadDir(sub, ".")
	var v int64
	for _, e := range entries {
		if n, err := goose.NumericComponent(e.Name()); err == nil && n > v {
			v = n
		}
	}
	return v
}

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
	return errors.Join(cerr, d.read.Close(), d.write.Close())
}
