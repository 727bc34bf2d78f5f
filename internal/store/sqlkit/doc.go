// Package sqlkit is what the SQL stores (store/sqlite, store/mysql) share through database/sql: the columns
// and row mapping of tokens, releases, artifacts and files, the reads of one release and of a page of
// releases, the encoding of times (Unix milliseconds, UTC; NULL for "never"), and the migration step (a schema
// newer than the binary refused, then goose's Up). The statements are plain SQL that SQLite and MySQL both run;
// what differs (writes, duplicate-key errors, connection pools, the migration files and their locking) stays in
// each store.
//
// It must never open a database, begin or commit a transaction (callers pass the one to read in), or decide
// anything beyond mapping rows to store types.
package sqlkit
