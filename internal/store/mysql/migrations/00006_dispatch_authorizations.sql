-- Dispatch authorizations (store/sqlite's migration 6): before a job is
-- submitted, the control plane allows one identity to run an admitted
-- release as the one job whose spec has this fingerprint, under this
-- idempotency key, each with its dispatch-authorized log entry and
-- receipt. The id is a function of release and run id, so that a re-run
-- of the same workflow attempt finds its authorization.

-- +goose Up
CREATE TABLE dispatch_authorizations (
	id              VARCHAR(64)     NOT NULL, -- a-<16 hex>
	release_id      VARCHAR(128)    NOT NULL,
	run_id          VARCHAR(255)    NOT NULL, -- the idempotency key (Slurm job comment)
	fingerprint     CHAR(64)        NOT NULL, -- SHA-256 of the canonical job spec
	cluster         TEXT            NOT NULL, -- '' for the local cluster
	slurm_partition TEXT            NOT NULL, -- '' for the default partition
	builder_id      TEXT            NOT NULL, -- the dispatcher's configured id
	requester       TEXT            NOT NULL, -- the identity it authorizes, by name
	created         BIGINT          NOT NULL,
	log_index       BIGINT UNSIGNED NOT NULL,
	log_entry       MEDIUMBLOB      NOT NULL,
	receipt         MEDIUMBLOB      NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT dispatch_authorizations_release FOREIGN KEY (release_id) REFERENCES releases (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE dispatch_authorizations;
