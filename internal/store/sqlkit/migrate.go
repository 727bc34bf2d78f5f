package sqlkit

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// SchemaTooNewError is the error of Migrate on a database migrated by a newer slipway than this one.
type SchemaTooNewError struct {
	Where    string // the database, as messages name it: `database "PATH"`, `database "NAME" on HOST:PORT`
	Database int64  // the schema version in the database
	Binary   int64  // the newest version this binary knows
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("%s has schema version %d, newer than the %d this slipway knows; run the slipway that migrated it (or a newer one), or restore a backup made before the upgrade", e.Where, e.Database, e.Binary)
}

// Migrate applies the goose migrations in migrations (the *.sql files of an embedded migrations directory)
// that db lacks, after refusing a schema newer than the newest of them (SchemaTooNewError), so that an older
// binary never writes into a newer schema. where names the database in errors. Callers serialise Migrate
// between processes when they can run at once.
func Migrate(ctx context.Context, dialect goose.Dialect, db *sql.DB, migrations fs.FS, where string) error {
	p, err := goose.NewProvider(dialect, db, migrations)
	if err != nil {
		return fmt.Errorf("preparing the migrations of %s (a bug): %w", where, err)
	}
	known := SchemaVersion(migrations)
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("reading the schema version of %s: %w; check that it is a slipway database, not in use by another program, and that this user may create tables in it", where, err)
	}
	if current > known {
		return &SchemaTooNewError{Where: where, Database: current, Binary: known}
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrating %s from schema version %d to %d: %w; restore the backup taken before the upgrade if the database is damaged", where, current, known, err)
	}
	return nil
}

// SchemaVersion is the newest migration's version in migrations.
func SchemaVersion(migrations fs.FS) int64 {
	entries, _ := fs.ReadDir(migrations, ".")
	var v int64
	for _, e := range entries {
		if n, err := goose.NumericComponent(e.Name()); err == nil && n > v {
			v = n
		}
	}
	return v
}
