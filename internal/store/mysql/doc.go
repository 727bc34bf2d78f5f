// Package mysql is package store on a MySQL-compatible server (MariaDB, MySQL, Aurora) through
// github.com/go-sql-driver/mysql, for several slipway serve replicas sharing one database.
//
// Open applies the embedded goose migrations (migrations/*.sql: the numbers and meanings of store/sqlite's, in
// MySQL's dialect) before it returns, under a server-side lock (GET_LOCK) so that replicas starting together
// migrate once, and refuses a database whose schema is newer than this binary knows. Correctness between
// replicas rests on the database, never on the process: uniqueness by primary and unique keys (a duplicate key,
// error 1062, is store.ErrExists), a release and its records in one transaction (retried on a deadlock),
// reads of a release in one read-only transaction. Sessions run in strict SQL mode (TRADITIONAL): a value too
// long for its column is an error, never silently cut.
//
// ParseURL reads the --database form mysql://user[:password]@host[:port]/database[?tls=…]; Redact gives the
// same URL without its password, for logs and messages.
//
// It must never store a secret, never put a password in an error or a log line, and never change the schema
// outside a numbered migration.
package mysql
