package mysql

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	driver "github.com/go-sql-driver/mysql"
	"github.com/pressly/goose/v3"

	"github.com/slipway/actions/internal/store"
	"github.com/slipway/actions/internal/store/sqlkit"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Pool limits: a replica holds at most MaxOpenConns connections, so that several replicas fit under the
// server's max_connections (151 by default).
const (
	MaxOpenConns    = 24
	maxIdleConns    = 8
	connMaxLifetime = 5 * time.Minute // under any wait_timeout or load balancer idle limit
	connectTimeout  = 10 * time.Second
	migrateLockWait = 120 // seconds a replica waits for another one's migration
)

// DB is a store.Store on a MySQL-compatible database.
type DB struct {
	db    *sql.DB
	where string // "database "x" on host:port", for messages
}

var _ store.Store = (*DB)(nil)

// SchemaTooNewError is the error of Open on a database migrated by a newer slipway than this one.
type SchemaTooNewError = sqlkit.SchemaTooNewError

// Open connects to the database dsn names (go-sql-driver/mysql form, user:pw@tcp(host:port)/db?…) and
// migrates it to the newest schema this binary knows. Errors name the host and the user, never the password.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := driver.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("reading the database DSN: %w; the form is user:password@tcp(host:port)/database", err)
	}
	return OpenConfig(ctx, cfg)
}

// OpenConfig is Open with a parsed configuration (ParseURL's). It does not change cfg.
func OpenConfig(ctx context.Context, cfg *driver.Config) (*DB, error) {
	cfg = cfg.Clone()
	if cfg.DBName == "" {
		return nil, fmt.Errorf("the database on %s has no name; give it in the URL's path (mysql://user@host:port/DATABASE)", cfg.Addr)
	}
	cfg.ClientFoundRows = true // RevokeToken: rows matched, not rows changed
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["sql_mode"] = "'TRADITIONAL'"
	if cfg.Timeout == 0 {
		cfg.Timeout = connectTimeout
	}
	where := fmt.Sprintf("database %q on %s", cfg.DBName, cfg.Addr)
	conn, err := driver.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", where, err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(MaxOpenConns)
	db.SetMaxIdleConns(maxIdleConns)
	db.SetConnMaxLifetime(connMaxLifetime)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to %s as %q: %w; check the host, port, user, password and tls of --database, and that the server runs", where, cfg.User, err)
	}
	if err := migrate(ctx, db, where); err != nil {
		db.Close()
		return nil, err
	}
	return &DB{db: db, where: where}, nil
}

// migrate applies the pending migrations under a server-wide lock named after the database, after refusing a
// schema newer than the embedded migrations.
func migrate(ctx context.Context, db *sql.DB, where string) (err error) {
	lock, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrating %s: %w", where, err)
	}
	defer lock.Close()
	const name = `CONCAT('slipway-migrate-', LEFT(SHA2(DATABASE(), 256), 32))`
	var got sql.NullInt64
	if err := lock.QueryRowContext(ctx, `SELECT GET_LOCK(`+name+`, ?)`, migrateLockWait).Scan(&got); err != nil {
		return fmt.Errorf("migrating %s: taking the migration lock: %w", where, err)
	}
	if got.Int64 != 1 {
		return fmt.Errorf("migrating %s: another slipway held the migration lock for %d s; check that no migration hangs (SHOW PROCESSLIST), then start again", where, migrateLockWait)
	}
	defer func() {
		if _, uerr := lock.ExecContext(context.WithoutCancel(ctx), `DO RELEASE_LOCK(`+name+`)`); uerr != nil && err == nil {
			err = fmt.Errorf("migrating %s: releasing the migration lock: %w", where, uerr)
		}
	}()
	return sqlkit.Migrate(ctx, goose.DialectMySQL, db, embedded(), where)
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
	if err := d.db.PingContext(ctx); err != nil {
		return fmt.Errorf("%s does not answer: %w", d.where, err)
	}
	return nil
}

// Close implements store.Store.
func (d *DB) Close() error { return d.db.Close() }

// MySQL error numbers the store branches on.
const (
	errDuplicateKey = 1062
	errNoParent     = 1452 // a foreign key names no row
	errLockTimeout  = 1205
	errDeadlock     = 1213
)

func isError(err error, number uint16) bool {
	var me *driver.MySQLError
	return errors.As(err, &me) && me.Number == number
}
