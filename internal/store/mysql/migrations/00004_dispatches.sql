-- Dispatches of admitted releases to a Slurm cluster (store/sqlite's
-- migration 4): recorded by a dispatcher or submitted by the server
-- itself, each with its dispatch-recorded log entry and receipt, and the
-- job's latest known state for the ones the server follows. The id is a
-- function of release, run id and job id, so that recording the same
-- dispatch again finds it. "partition" is a reserved word here, hence
-- slurm_partition in both dialects.

-- +goose Up
CREATE TABLE dispatches (
	id              VARCHAR(64)     NOT NULL, -- d-<16 hex>
	release_id      VARCHAR(128)    NOT NULL,
	run_id          VARCHAR(255)    NOT NULL, -- the idempotency key (Slurm job comment)
	job_id          VARCHAR(20)     NOT NULL, -- Slurm's job id, decimal
	cluster         TEXT            NOT NULL, -- '' for the local cluster
	slurm_partition TEXT            NOT NULL, -- '' for the default partition
	builder_id      TEXT            NOT NULL, -- the dispatcher's configured id
	requester       TEXT            NOT NULL, -- the identity that recorded it, by name
	created         BIGINT          NOT NULL,
	log_index       BIGINT UNSIGNED NOT NULL,
	log_entry       MEDIUMBLOB      NOT NULL,
	receipt         MEDIUMBLOB      NOT NULL,
	submitted       BOOLEAN         NOT NULL, -- the server submitted the job and follows it
	state           VARCHAR(64)     NOT NULL,
	exit_code       INT             NOT NULL,
	started         BIGINT,
	ended           BIGINT,
	is_final        BOOLEAN         NOT NULL,
	PRIMARY KEY (id),
	KEY dispatches_by_release (release_id, created),
	KEY dispatches_unfinished (submitted, is_final, created),
	CONSTRAINT dispatches_release FOREIGN KEY (release_id) REFERENCES releases (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE dispatches;
