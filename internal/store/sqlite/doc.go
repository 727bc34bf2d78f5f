// Package sqlite is the embedded default of package store: one SQLite file
// (DATA/db.sqlite) through modernc.org/sqlite, pure Go, so that slipway
// builds with CGO_ENABLED=0 and runs with nothing else installed.
//
// Open applies the embedded goose migrations (migrations/*.sql) before it
// returns, and refuses a database whose schema is newer than this binary
// knows, so that an older binary never writes into a newer schema. The
// database runs in WAL mode with a busy timeout; writes go through one
// connection (SQLite has one writer), reads through a small pool.
//
// It must never store a secret, and never change the schema outside a
// numbered migration.
package sqlite
