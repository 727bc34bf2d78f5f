-- Refused admissions (store/sqlite's migration 8): one row per
-- release-rejected log entry, written after the entry, for
-- GET /api/v1/rejections; the log entry is the source of truth. Indexes
-- serve the list newest first overall and by source repository,
-- keyset-paginated on (created, log_index).

-- +goose Up
CREATE TABLE rejections (
	log_index       BIGINT UNSIGNED NOT NULL, -- of the release-rejected entry
	created         BIGINT          NOT NULL, -- the entry's time, Unix ms
	release_id      VARCHAR(128)    NOT NULL, -- the id the release would have had
	manifest_digest VARCHAR(160)    NOT NULL, -- sha256:<hex>
	repository      VARCHAR(512)    NOT NULL, -- github.com/owner/repo; '' before the provenance was read
	uploader        TEXT            NOT NULL, -- the identity that sent it, by name
	check_name      VARCHAR(64)     NOT NULL, -- the failed check
	subject         TEXT            NOT NULL,
	detail          TEXT            NOT NULL, -- the check's line and how to fix it
	PRIMARY KEY (log_index),
	KEY rejections_by_created (created, log_index),
	KEY rejections_by_repository (repository, created, log_index)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE rejections;
