-- The admitted manifest (its canonical JSON, whose SHA-256 is
-- manifest_digest) kept in the release's row, written in the transaction
-- that records the release, instead of as a blob file beside it: one file
-- created and two fsyncs (file and directory) fewer per admission, and the
-- release and its manifest are durable together. NULL for a release
-- admitted before (schemas 3 and 4 kept the manifest as a blob
-- under its digest; readers fall back to the blob store).

-- +goose Up
ALTER TABLE releases ADD COLUMN manifest BLOB;

-- +goose Down
ALTER TABLE releases DROP COLUMN manifest;
