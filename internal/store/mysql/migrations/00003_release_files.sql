-- Every file of an admitted release, not only its artifacts (store/sqlite's
-- migration 3): signature bundles, provenance, SBOMs, attestations, as the
-- admitted manifest records them (one row per record with a path; several
-- records may share a path). position keeps the manifest's order (SQLite
-- keeps it in rowid). Indexes serve the read API's searches: newest first
-- overall, by source repository, and by a file's digest.

-- +goose Up
CREATE TABLE release_files (
	release_id  VARCHAR(128) NOT NULL,
	position    INT          NOT NULL, -- its place among the release's files, from 0
	role        VARCHAR(64)  NOT NULL, -- artifact, signature, provenance, sbom, attestation
	name        TEXT         NOT NULL, -- the record's name (once per role in a release)
	name_sha256 BINARY(32)   NOT NULL, -- SHA-256 of name: the key
	path        TEXT         NOT NULL, -- its slash-separated path in the manifest
	digest      VARCHAR(160) NOT NULL, -- sha256:<hex>; the blob's key in the blob store
	size        BIGINT       NOT NULL,
	media_type  TEXT         NOT NULL,
	describes   VARCHAR(160) NOT NULL, -- sha256:<hex> of the artifact it is about; '' for an artifact
	PRIMARY KEY (release_id, role, name_sha256),
	UNIQUE KEY release_files_by_position (release_id, position),
	KEY release_files_by_digest (digest),
	KEY release_files_by_path (release_id, path(255)),
	CONSTRAINT release_files_release FOREIGN KEY (release_id) REFERENCES releases (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX releases_by_created ON releases (created, id);
DROP INDEX releases_by_repository ON releases;
CREATE INDEX releases_by_repository ON releases (source_repository, created, id);

-- +goose Down
DROP INDEX releases_by_repository ON releases;
CREATE INDEX releases_by_repository ON releases (source_repository, created);
DROP INDEX releases_by_created ON releases;
DROP TABLE release_files;
