-- Dispatch authorizations: before a job is submitted, the control plane
-- allows one identity to run an admitted release as the one job whose
-- spec has this fingerprint, under this idempotency key (POST
-- /api/v1/releases/{id}/dispatch-authorizations, and the server's own
-- dispatch), each with its dispatch-authorized log entry and receipt. The
-- id is a function of the release and the run id, so that a re-run of the
-- same workflow attempt finds its authorization; a dispatch is recorded
-- only against a matching one.

-- +goose Up
CREATE TABLE dispatch_authorizations (
	id              TEXT    NOT NULL PRIMARY KEY,       -- a-<16 hex>
	release_id      TEXT    NOT NULL REFERENCES releases (id),
	run_id          TEXT    NOT NULL,                   -- the idempotency key (Slurm job comment)
	fingerprint     TEXT    NOT NULL,                   -- SHA-256 of the canonical job spec, 64 hex
	cluster         TEXT    NOT NULL,                   -- '' for the local cluster
	slurm_partition TEXT    NOT NULL,                   -- '' for the default partition
	builder_id      TEXT    NOT NULL,                   -- the dispatcher's configured id
	requester       TEXT    NOT NULL,                   -- the identity it authorizes, by name
	created         INTEGER NOT NULL,
	log_index       INTEGER NOT NULL,
	log_entry       BLOB    NOT NULL,
	receipt         BLOB    NOT NULL
) STRICT;

-- +goose Down
DROP TABLE dispatch_authorizations;
