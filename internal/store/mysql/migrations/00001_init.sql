-- The first schema of the control plane's metadata, with the meaning of
-- store/sqlite's migration 1. Times are Unix milliseconds (UTC); NULL means
-- "never" (expires) or "not yet" (revoked). Keys are compared byte for byte
-- (utf8mb4_bin), as in SQLite, whatever the server's default collation.
-- Names and paths can be longer than an index key: their SHA-256 is the key.

-- +goose Up
CREATE TABLE tokens (
	id      VARCHAR(128) NOT NULL, -- public token ID (the part after slw_)
	name    TEXT         NOT NULL, -- whose token it is; shown in logs
	hash    TEXT         NOT NULL, -- Argon2id PHC string of the whole token
	scopes  TEXT         NOT NULL, -- comma-separated: upload,read,dispatch,admin
	created BIGINT       NOT NULL,
	expires BIGINT       NULL,
	revoked BIGINT       NULL,
	PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE releases (
	id                VARCHAR(128) NOT NULL,
	source_repository VARCHAR(512) NOT NULL, -- github.com/owner/repo, from the provenance
	uploader          TEXT         NOT NULL, -- the verified identity that sent it
	manifest_digest   VARCHAR(160) NOT NULL, -- sha256:<hex>; one release per manifest
	created           BIGINT       NOT NULL,
	PRIMARY KEY (id),
	UNIQUE KEY releases_by_manifest (manifest_digest),
	KEY releases_by_repository (source_repository, created)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE artifacts (
	release_id  VARCHAR(128) NOT NULL,
	digest      VARCHAR(160) NOT NULL, -- sha256:<hex>; the blob's key in the blob store
	size        BIGINT       NOT NULL,
	name        TEXT         NOT NULL, -- its path in the manifest
	name_sha256 BINARY(32)   NOT NULL, -- SHA-256 of name: one artifact per name in a release
	PRIMARY KEY (release_id, name_sha256),
	KEY artifacts_by_digest (digest),
	CONSTRAINT artifacts_release FOREIGN KEY (release_id) REFERENCES releases (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE artifacts;
DROP TABLE releases;
DROP TABLE tokens;
