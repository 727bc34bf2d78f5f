-- What admission records beside a release (store/sqlite's migration 2), so
-- that admitting the same manifest again answers exactly the first answer:
-- the release-admitted log entry (its index and canonical bytes), the
-- receipt first returned (C2SP tlog-proof text) and the verify report's
-- lines (a JSON array). Rows from before get an empty entry and receipt
-- and no checks.

-- +goose Up
ALTER TABLE releases
	ADD COLUMN log_index BIGINT UNSIGNED NOT NULL DEFAULT 0,
	ADD COLUMN log_entry MEDIUMBLOB      NOT NULL,
	ADD COLUMN receipt   MEDIUMBLOB      NOT NULL,
	ADD COLUMN checks    MEDIUMTEXT      NOT NULL;
UPDATE releases SET checks = '[]' WHERE checks = '';

-- +goose Down
ALTER TABLE releases DROP COLUMN checks, DROP COLUMN receipt, DROP COLUMN log_entry, DROP COLUMN log_index;
