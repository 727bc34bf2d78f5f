-- Log intents: a log entry the server decided on, written before it is
-- appended, with the exact entry bytes and the row to record once the log
-- has taken it, so that a server stopped (or a request failed) between the
-- append and the row leaves an intent to finish rather than an entry no
-- row knows. The row's insert removes its intent in the same transaction.
-- Keyed by what makes the request idempotent: a manifest digest (release,
-- rejection), a dispatch's or an authorization's id. The log_index indexes
-- let a starting server find the highest index the tables know in four
-- lookups (orphaned entries).

-- +goose Up
CREATE TABLE log_intents (
	intent_key TEXT    NOT NULL PRIMARY KEY, -- sha256:<hex> of a manifest, d-<hex> of a dispatch, a-<hex> of an authorization
	kind       TEXT    NOT NULL,             -- release, rejection, dispatch, authorization
	created    INTEGER NOT NULL,             -- Unix ms
	owner      TEXT    NOT NULL,             -- the server that wrote it: host and data directory
	log_size   INTEGER NOT NULL,             -- the log's size before the append: where to look for the entry
	log_entry  BLOB    NOT NULL,             -- the exact entry bytes
	record     BLOB    NOT NULL              -- the row to record (JSON), an admitted manifest with it
);
CREATE INDEX log_intents_by_created ON log_intents (created);
CREATE INDEX releases_by_log_index ON releases (log_index);
CREATE INDEX dispatches_by_log_index ON dispatches (log_index);
CREATE INDEX dispatch_authorizations_by_log_index ON dispatch_authorizations (log_index);

-- +goose Down
DROP INDEX dispatch_authorizations_by_log_index;
DROP INDEX dispatches_by_log_index;
DROP INDEX releases_by_log_index;
DROP TABLE log_intents;
