-- The first schema of the control plane's metadata. Times are Unix
-- milliseconds (UTC); NULL means "never" (expires) or "not yet" (revoked).

-- +goose Up
CREATE TABLE tokens (
	id      TEXT    NOT NULL PRIMARY KEY, -- public token ID (the part after slw_)
	name    TEXT    NOT NULL,             -- whose token it is; shown in logs
	hash    TEXT    NOT NULL,             -- Argon2id PHC string of the whole token
	scopes  TEXT    NOT NULL,             -- comma-separated: upload,read,dispatch,admin
	created INTEGER NOT NULL,
	expires INTEGER,
	revoked INTEGER
) STRICT;

CREATE TABLE releases (
	id                TEXT    NOT NULL PRIMARY KEY,
	source_repository TEXT    NOT NULL,        -- github.com/owner/repo, from the provenance
	uploader          TEXT    NOT NULL,        -- the verified identity that sent it
	manifest_digest   TEXT    NOT NULL UNIQUE, -- sha256:<hex>; one release per manifest
	created           INTEGER NOT NULL
) STRICT;
CREATE INDEX releases_by_repository ON releases (source_repository, created);

CREATE TABLE artifacts (
	release_id TEXT    NOT NULL REFERENCES releases (id),
	digest     TEXT    NOT NULL, -- sha256:<hex>; the blob's key in the blob store
	size       INTEGER NOT NULL,
	name       TEXT    NOT NULL, -- its path in the manifest
	PRIMARY KEY (release_id, name)
) STRICT;
CREATE INDEX artifacts_by_digest ON artifacts (digest);

-- +goose Down
DROP TABLE artifacts;
DROP TABLE releases;
DROP TABLE tokens;
