-- What admission records beside a release, so that admitting the same
-- manifest again answers exactly the first answer: the release-admitted
-- log entry (its index and canonical bytes), the receipt first returned
-- (C2SP tlog-proof text) and the verify report's lines (a JSON array).

-- +goose Up
ALTER TABLE releases ADD COLUMN log_index INTEGER NOT NULL DEFAULT 0;
ALTER TABLE releases ADD COLUMN log_entry BLOB NOT NULL DEFAULT x'';
ALTER TABLE releases ADD COLUMN receipt BLOB NOT NULL DEFAULT x'';
ALTER TABLE releases ADD COLUMN checks TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE releases DROP COLUMN checks;
ALTER TABLE releases DROP COLUMN receipt;
ALTER TABLE releases DROP COLUMN log_entry;
ALTER TABLE releases DROP COLUMN log_index;
