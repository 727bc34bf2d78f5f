-- Dispatch requests waiting for a person: the MCP server's dispatch_release
-- (POST /api/v1/releases/{id}/dispatch-requests) records the job asked for
-- as pending; an admin approves it (the server then authorizes and submits
-- it as POST /api/v1/releases/{id}/dispatch does) or denies it. Also an
-- index to list dispatches newest first, keyset-paginated on (created, id).

-- +goose Up
CREATE TABLE dispatch_requests (
	id          TEXT    NOT NULL PRIMARY KEY,   -- q-<16 hex>
	release_id  TEXT    NOT NULL REFERENCES releases (id),
	job         BLOB    NOT NULL,               -- the dispatch body, JSON as sent
	requester   TEXT    NOT NULL,               -- the identity that asked, by name
	reason      TEXT    NOT NULL,
	created     INTEGER NOT NULL,
	state       TEXT    NOT NULL,               -- pending, approved, denied, failed
	decider     TEXT    NOT NULL,               -- '' while pending
	decided     INTEGER,                        -- NULL while pending
	dispatch_id TEXT    NOT NULL,               -- '' until approved and submitted
	detail      TEXT    NOT NULL
) STRICT;
CREATE INDEX dispatch_requests_by_created ON dispatch_requests (created, id);
CREATE INDEX dispatch_requests_by_state ON dispatch_requests (state, created, id);
CREATE INDEX dispatches_by_created ON dispatches (created, id);

-- +goose Down
DROP INDEX dispatches_by_created;
DROP TABLE dispatch_requests;
