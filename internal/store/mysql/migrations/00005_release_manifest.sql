-- The admitted manifest kept in the release's row (store/sqlite's migration
-- 5): its canonical JSON, whose SHA-256 is manifest_digest, written in the
-- transaction that records the release instead of as a blob beside it.
-- NULL for a release admitted before (schemas 3 and 4 kept the manifest as a
-- blob under its digest; readers fall back to the blob store). A manifest is at
-- most 4 MiB (the server's limit): MEDIUMBLOB holds 16 MiB.

-- +goose Up
ALTER TABLE releases ADD COLUMN manifest MEDIUMBLOB NULL;

-- +goose Down
ALTER TABLE releases DROP COLUMN manifest;
