-- Refused admissions, one row per release-rejected log entry, written
-- after the entry so that the rejections can be listed and searched
-- (GET /api/v1/rejections). The log entry is the source of truth: a
-- server stopped between the entry and its row leaves no row. Indexes
-- serve the list, newest first overall and by source repository,
-- keyset-paginated on (created, log_index).

-- +goose Up
CREATE TABLE rejections (
	log_index       INTEGER NOT NULL PRIMARY KEY, -- of the release-rejected entry
	created         INTEGER NOT NULL,             -- the entry's time, Unix ms
	release_id      TEXT    NOT NULL,             -- the id the release would have had
	manifest_digest TEXT    NOT NULL,             -- sha256:<hex>
	repository      TEXT    NOT NULL,             -- github.com/owner/repo; '' before the provenance was read
	uploader        TEXT    NOT NULL,             -- the identity that sent it, by name
	check_name      TEXT    NOT NULL,             -- the failed check
	subject         TEXT    NOT NULL,
	detail          TEXT    NOT NULL              -- the check's line and how to fix it
) STRICT;
CREATE INDEX rejections_by_created ON rejections (created, log_index);
CREATE INDEX rejections_by_repository ON rejections (repository, created, log_index);

-- +goose Down
DROP TABLE rejections;
