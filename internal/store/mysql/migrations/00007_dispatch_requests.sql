-- Dispatch requests waiting for a person (store/sqlite's migration 7): the
-- job asked for, pending until an admin approves (the server then
-- authorizes and submits it) or denies it; and an index to list
-- dispatches newest first, keyset-paginated on (created, id).

-- +goose Up
CREATE TABLE dispatch_requests (
	id          VARCHAR(64)  NOT NULL, -- q-<16 hex>
	release_id  VARCHAR(128) NOT NULL,
	job         MEDIUMBLOB   NOT NULL, -- the dispatch body, JSON as sent
	requester   TEXT         NOT NULL, -- the identity that asked, by name
	reason      TEXT         NOT NULL,
	created     BIGINT       NOT NULL,
	state       VARCHAR(16)  NOT NULL, -- pending, approved, denied, failed
	decider     TEXT         NOT NULL, -- '' while pending
	decided     BIGINT,                -- NULL while pending
	dispatch_id VARCHAR(64)  NOT NULL, -- '' until approved and submitted
	detail      TEXT         NOT NULL,
	PRIMARY KEY (id),
	KEY dispatch_requests_by_created (created, id),
	KEY dispatch_requests_by_state (state, created, id),
	CONSTRAINT dispatch_requests_release FOREIGN KEY (release_id) REFERENCES releases (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX dispatches_by_created ON dispatches (created, id);

-- +goose Down
DROP INDEX dispatches_by_created ON dispatches;
DROP TABLE dispatch_requests;
