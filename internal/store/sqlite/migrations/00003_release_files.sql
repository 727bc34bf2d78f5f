-- Every file of an admitted release, not only its artifacts: signature
-- bundles, provenance, SBOMs, attestations, as the admitted manifest
-- records them (one row per record with a path; several records may share
-- a path, such as a provenance bundle recorded per subject, always with one
-- digest). The manifest itself is a blob under releases.manifest_digest.
-- With them a release can be read back file by file, re-verified and
-- exported. Indexes serve the read API's searches: newest first overall,
-- by source repository, and by a file's digest.

-- +goose Up
CREATE TABLE release_files (
	release_id TEXT    NOT NULL REFERENCES releases (id),
	role       TEXT    NOT NULL, -- artifact, signature, provenance, sbom, attestation
	name       TEXT    NOT NULL, -- the record's name (once per role in a release)
	path       TEXT    NOT NULL, -- its slash-separated path in the manifest
	digest     TEXT    NOT NULL, -- sha256:<hex>; the blob's key in the blob store
	size       INTEGER NOT NULL,
	media_type TEXT    NOT NULL,
	describes  TEXT    NOT NULL, -- sha256:<hex> of the artifact it is about; '' for an artifact
	PRIMARY KEY (release_id, role, name)
) STRICT;
CREATE INDEX release_files_by_digest ON release_files (digest);
CREATE INDEX release_files_by_path ON release_files (release_id, path);
CREATE INDEX releases_by_created ON releases (created, id);
DROP INDEX releases_by_repository;
CREATE INDEX releases_by_repository ON releases (source_repository, created, id);

-- +goose Down
DROP INDEX releases_by_repository;
CREATE INDEX releases_by_repository ON releases (source_repository, created);
DROP INDEX releases_by_created;
DROP TABLE release_files;
